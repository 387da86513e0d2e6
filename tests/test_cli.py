import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gconv.cli import main

REPO = Path(__file__).resolve().parents[1]


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "datasets: cora, digits, mnist, mnist_grid, mutag" in out
    assert "gcn" in out and "lenet5" in out


def test_python_dash_m() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "gconv", "list"], capture_output=True, text=True, check=True
    ).stdout
    assert out.startswith("datasets:")


def test_train_writes_metrics_history_checkpoint_and_curves(tmp_path: Path) -> None:
    assert main(["train", "digits", "mlp", "--quick", "--seeds", "2", "--out", str(tmp_path)]) == 0
    assert {p.name for p in tmp_path.iterdir()} >= {
        "metrics.json",
        "history.csv",
        "best.pt",
        "curves.png",
    }
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    for key in ("dataset", "model", "task", "test_accuracy", "test_accuracy_std", "runs"):
        assert key in metrics
    assert metrics["epochs"] == 3 and metrics["seconds"] > 0
    assert [r["seed"] for r in metrics["runs"]] == [0, 1]
    mean = sum(r["test_accuracy"] for r in metrics["runs"]) / 2
    assert metrics["test_accuracy"] == pytest.approx(mean)
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"
    assert len((tmp_path / "history.csv").read_text().splitlines()) == 1 + 3


def test_train_folds_on_mutag(tmp_path: Path, data_root: Path) -> None:
    assert main(["train", "mutag", "gin", "--quick", "--out", str(tmp_path)]) == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert [r["fold"] for r in metrics["runs"]] == [0, 1, 2]
    assert "xu_protocol_accuracy" in metrics


def test_model_that_does_not_fit_the_data(data_root: Path) -> None:
    with pytest.raises(SystemExit, match="'lenet5' takes image input; dataset 'cora' gives graph"):
        main(["train", "cora", "lenet5", "--quick"])


def test_missing_data_message(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    from torch_geometric.datasets import Planetoid

    def offline(self) -> None:
        raise OSError("no network")

    monkeypatch.setattr(Planetoid, "download", offline)
    assert main(["train", "cora", "gcn", "--quick", "--root", str(tmp_path / "none")]) == 1
    assert "GCONV_DATA" in capsys.readouterr().err


def test_summary_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", "lenet5", "--input", "1,28,28"]) == 0
    out = capsys.readouterr().out
    assert "conv.0" in out and "[1, 6, 28, 28]" in out and "total parameters 61,706" in out
    with pytest.raises(SystemExit, match="--input must be C,H,W"):
        main(["summary", "lenet5", "--input", "28x28"])
    with pytest.raises(SystemExit, match="takes an image model"):
        main(["summary", "gcn"])


def test_explain_writes_feature_maps(tmp_path: Path, data_root: Path) -> None:
    run = tmp_path / "run"
    assert main(["train", "mnist", "lenet5", "--quick", "--no-progress", "--out", str(run)]) == 0
    out = tmp_path / "explain"
    assert main(["explain", str(run / "best.pt"), "7", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "conv.0.png",
        "conv.3.png",
        "filters.png",
        "input.png",
    ]
    with pytest.raises(SystemExit, match="IMAGE_INDEX must be in"):
        main(["explain", str(run / "best.pt"), "99999", "--out", str(out)])


@pytest.mark.parametrize(
    "script", ["cora_gcn.py", "mutag_gin.py", "mnist_cnn.py", "transfer_learning.py"]
)
def test_example_quick(script: str, data_root: Path) -> None:
    env = {**os.environ, "GCONV_DATA": str(data_root)}
    result = subprocess.run(
        [sys.executable, str(REPO / "examples" / script), "--quick"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "test accuracy" in result.stdout


def test_compare_quick_writes_every_row(tmp_path: Path, data_root: Path) -> None:
    out = tmp_path / "compare"
    assert main(["compare", "--quick", "--no-progress", "--out", str(out)]) == 0
    report = json.loads((out / "compare.json").read_text())
    rows = {(r["model"], r["input"]) for r in report["rows"]}
    assert rows == {
        ("mlp", "pixels"),
        ("grid_cnn", "pixels"),
        ("grid_gnn", "pixel grid graph"),
        ("gcn", "pixel grid graph"),
        ("gcn", "pixel grid graph + positions"),
        ("gcn", "superpixel graph"),
        ("gin", "superpixel graph"),
    }
    for row in report["rows"]:
        assert set(row) == {
            "model",
            "input",
            "test_accuracy",
            "lr",
            "params",
            "train_seconds_per_epoch",
            "inference_images_per_second",
        }
    assert report["checks"]["grid_gnn_with_cnn_weights_identical_predictions"] is True
    assert (out / "compare.png").read_bytes()[:4] == b"\x89PNG"
    assert "| `grid_cnn` | pixels |" in (out / "compare.md").read_text()
