from pathlib import Path

import pytest

from gconv.compare.report import plot_compare


def _row(id_: str, accuracy: float, published: float | None, epochs: int) -> dict:
    history = {
        "epoch": list(range(1, epochs + 1)),
        "val_accuracy": [accuracy] * epochs,
        "test_accuracy": [accuracy] * epochs,
        "train_seconds": [10.0 * (e + 1) for e in range(epochs)],
    }
    return {
        "id": id_,
        "accuracy": accuracy,
        "accuracy_std": 0.004,
        "published": published,
        "history": history,
    }


@pytest.mark.parametrize("epochs", [1, 48])
def test_plot_shows_rows_beside_published_figures(tmp_path: Path, epochs: int) -> None:
    rows = [_row("gcn/superpixel", 0.9587, 0.9071, epochs), _row("mlp/pixels", 0.98, None, epochs)]
    fig = plot_compare(rows, tmp_path / "compare.png")
    by_epoch, _, points = fig.axes
    assert (tmp_path / "compare.png").read_bytes()[:4] == b"\x89PNG"
    # the axis starts under the lowest figure (the published 90.71), not at 0
    low, high = points.get_xlim()
    assert 0.85 <= low <= 0.9071 and high == 1.0
    # the published figure is drawn where it is, and every row's value is written
    published = [c for c in points.collections if c.get_label() == "published"]
    assert published[0].get_offsets().tolist() == [[0.9071, 0.0]]
    assert [t.get_text() for t in points.texts] == ["95.87", "98.00"]
    # markers only on short curves
    assert (by_epoch.lines[0].get_marker() == "o") == (epochs <= 12)


def test_plot_of_no_rows_is_written(tmp_path: Path) -> None:
    fig = plot_compare([], tmp_path / "compare.png")
    assert fig.axes[2].get_xlim() == (0.0, 1.0)
