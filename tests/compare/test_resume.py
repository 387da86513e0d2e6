"""A comparison killed at the worst moment resumes to the uninterrupted result."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from gconv.compare import Protocol, get_rows
from gconv.compare.run import finished, summarize_row

ARGV = [sys.executable, "-m", "gconv", "compare", "--quick", "--no-progress", "--seeds", "1"]
ARGV += ["--rows", "grid_cnn/pixels", "--epochs", "4"]
SEED = Path("runs/grid_cnn-pixels/seed-0")
TIMINGS = {"seconds_per_epoch", "graphs_per_second"}


def _result(out: Path) -> dict:
    result = json.loads((out / SEED / "result.json").read_text())
    result["history"].pop("train_seconds")
    return {k: v for k, v in result.items() if k not in TIMINGS}


@pytest.mark.slow
def test_a_seed_killed_after_its_first_checkpoint_resumes_bit_for_bit(
    tmp_path: Path, data_root: Path
) -> None:
    env_root = ["--root", str(data_root)]
    whole = tmp_path / "whole"
    subprocess.run([*ARGV, *env_root, "--out", str(whole)], check=True, capture_output=True)

    killed = tmp_path / "killed"
    process = subprocess.Popen(
        [*ARGV, *env_root, "--out", str(killed)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    last = killed / SEED / "last.pt"
    while not last.is_file() and process.poll() is None:
        time.sleep(0.002)
    process.kill()  # SIGKILL: no handler runs, nothing is flushed
    process.wait()
    assert last.is_file()
    assert not (killed / SEED / "result.json").exists(), "the kill came after the seed ended"

    rerun = subprocess.run([*ARGV, *env_root, "--out", str(killed)], capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert _result(killed) == _result(whole)  # curves, losses, figures: every bit
    resumed = torch.load(killed / SEED / "last.pt", weights_only=False)["model"]
    uninterrupted = torch.load(whole / SEED / "last.pt", weights_only=False)["model"]
    assert resumed.keys() == uninterrupted.keys()
    assert all(torch.equal(resumed[k], uninterrupted[k]) for k in resumed)


def _seed(epochs: int, accuracy: float = 0.5, metric: str = "accuracy") -> dict:
    history = {
        "epoch": list(range(1, epochs + 1)),
        f"test_{metric}": [accuracy] * epochs,
        f"val_{metric}": [accuracy] * epochs,
        "train_seconds": [1.0] * epochs,
        "loss": [1.0] * epochs,
    }
    return {"width": 8, "params": 100, metric: accuracy, "history": history} | {
        "seconds_per_epoch": 1.0,
        "graphs_per_second": 1.0,
    }


def test_a_result_shorter_than_the_protocol_is_not_finished() -> None:
    protocol = Protocol(epochs=3)
    assert finished(_seed(3), protocol)
    assert not finished(_seed(2), protocol)
    short = _seed(3)
    short["history"]["test_accuracy"].pop()  # a curve one epoch short (the old bug)
    assert not finished(short, protocol)


def test_summaries_refuse_seeds_of_unequal_length() -> None:
    (row,) = get_rows(["mlp/pixels"])
    summary = summarize_row(row, [_seed(3, 0.5), _seed(3, 0.7)], Protocol(epochs=3))
    assert summary["accuracy"] == pytest.approx(0.6)
    assert summary["accuracy_std"] == pytest.approx(0.1)
    assert summary["history"]["test_accuracy"] == pytest.approx([0.6] * 3)
    with pytest.raises(ValueError, match="mlp/pixels has seeds of \\[2, 3\\] epochs"):
        summarize_row(row, [_seed(3), _seed(2)], Protocol(epochs=3))


def test_segmentation_summaries_read_mean_iou_curves() -> None:
    (row,) = get_rows(["fcn/pixels"], task="segmentation")
    protocol = Protocol.for_task("segmentation", epochs=2)
    seeds = [_seed(2, 0.4, "mean_iou"), _seed(2, 0.6, "mean_iou")]
    assert finished(seeds[0], protocol)
    assert not finished(_seed(2), protocol)  # curves named for accuracy are not mean IoU
    summary = summarize_row(row, seeds, protocol)
    assert summary["mean_iou"] == pytest.approx(0.5)
    assert summary["history"]["test_mean_iou"] == pytest.approx([0.5, 0.5])
