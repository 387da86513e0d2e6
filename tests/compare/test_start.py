"""A row that starts from another row's trained weights: grid_cnn trained on pixels,
converted by cnn_to_gnn, scored on superpixels as converted and after its training."""

import json
from pathlib import Path

import pytest
from torch.testing import assert_close

from gconv.compare import Protocol, get_rows, run_compare
from gconv.compare.inputs import Inputs
from gconv.compare.protocol import row_model, row_width
from gconv.compare.run import run_dir
from gconv.train import Trainer, load_checkpoint

ROWS = ["grid_cnn/pixels", "cnn_to_gnn/superpixel_intensity"]


@pytest.mark.parametrize("jobs", [1, 2])
def test_the_converted_cnn_starts_from_the_trained_cnn(tmp_path: Path, jobs: int) -> None:
    protocol = Protocol.for_task(dataset="digits", epochs=1, seeds=2)
    out, done = tmp_path / "out", []
    report = run_compare(protocol, rows=ROWS, out=out, root=str(tmp_path), progress=False,
                         log=done.append, jobs=jobs)  # fmt: skip
    finished = [" ".join(line.split()[:3]) for line in done]
    for seed in range(2):  # each seed of the converted row after the same seed of the CNN
        assert finished.index(f"{ROWS[0]} seed {seed}:") < finished.index(f"{ROWS[1]} seed {seed}:")
    cnn_row, row = get_rows(ROWS)
    assert row.start == cnn_row.id
    summary = next(r for r in report["rows"] if r["id"] == row.id)
    assert summary["start"] == cnn_row.id
    assert summary["width"] == next(r for r in report["rows"] if r["id"] == cnn_row.id)["width"]
    # the figure before training is the trained CNN's own seed, converted, on superpixels
    inputs = Inputs(protocol, str(tmp_path), progress=False)
    fitted = inputs.protocol = protocol.fitted(inputs.data)
    for seed in range(2):
        result = json.loads((run_dir(out, row, seed) / "result.json").read_text())
        assert result["started_from"] == f"{cnn_row.id} seed {seed}"
        model = row_model(row, row_width(cnn_row, fitted), fitted)
        state = load_checkpoint(run_dir(out, cnn_row, seed) / "last.pt")["model"]
        model.load_state_dict(state)
        test = inputs.splits(row)[2]
        accuracy = Trainer(max_epochs=1, progress=False).evaluate(model, test)["accuracy"]
        assert_close(result["accuracy_before_training"], accuracy)
    assert summary["accuracy_before_training_per_seed"] == [
        json.loads((run_dir(out, row, s) / "result.json").read_text())["accuracy_before_training"]
        for s in range(2)
    ]
    text = (out / "compare.md").read_text()
    assert f"`{row.id}` starts from the trained weights of `{cnn_row.id}`" in text


def test_the_intensity_superpixels_are_the_standardized_region_means(tmp_path: Path) -> None:
    """What the converted CNN reads: each region's mean of the standardized pixels
    (the regions' mean intensity in [0, 1], standardized as the pixels are)."""
    protocol = Protocol.for_task(dataset="digits", epochs=1, seeds=1)
    inputs = Inputs(protocol, str(tmp_path), progress=False)
    inputs.protocol = protocol.fitted(inputs.data)
    plain = inputs.superpixels()[2][0]
    (row,) = get_rows(["cnn_to_gnn/superpixel_intensity"])
    graph = inputs.splits(row)[2][0]
    norm = inputs.data.normalization
    assert graph.x.shape == (plain.num_nodes, 1)
    assert_close(graph.x[:, 0], (plain.x[:, 0] - norm["mean"][0]) / norm["std"][0])
    assert_close(graph.pos, plain.pos)
