"""Data-parallel training under torchrun, with two real gloo processes on the CPU."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.testing import assert_close

WORKER = Path(__file__).with_name("ddp_worker.py")


def _torchrun(nproc: int, *args: str) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            f"--nproc_per_node={nproc}",
            *args,
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
def test_two_processes_of_half_the_batch_follow_one_process(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    _torchrun(1, str(WORKER), str(one), "32")
    _torchrun(2, str(WORKER), str(two), "16")
    # the same global batches and the same averaged gradients: the same weights
    assert_close(
        torch.load(two / "weights.pt"), torch.load(one / "weights.pt"), atol=1e-5, rtol=1e-4
    )
    single = json.loads((one / "rank-0.json").read_text())
    ranks = [json.loads((two / f"rank-{r}.json").read_text()) for r in (0, 1)]
    assert ranks[0]["world"] == 2 and single["world"] == 1
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):  # every rank: the same
        assert ranks[0]["history"][key] == ranks[1]["history"][key]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert_close(ranks[0]["history"][key], single["history"][key], atol=1e-5, rtol=1e-4)
    # rank 0 alone wrote the checkpoints and the log
    assert sorted(p.name for p in (two / "ckpt").iterdir()) == ["best.pt", "last.pt"]
    lines = (two / "history.csv").read_text().splitlines()
    assert len(lines) == 1 + 3  # a header and one row per epoch, not two of each


@pytest.mark.slow
def test_gconv_train_under_torchrun_writes_one_set_of_outputs(tmp_path: Path) -> None:
    out = tmp_path / "run"
    _torchrun(2, "-m", "gconv", "train", "digits", "mlp", "--quick", "--out", str(out))
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["world_size"] == 2
    assert {p.name for p in out.iterdir()} == {
        "metrics.json",
        "history.csv",
        "best.pt",
        "curves.png",
        "seed-0",
    }
    from gconv.train import load_checkpoint

    state = load_checkpoint(out / "best.pt")  # the unwrapped model: loads in one process
    assert not any(k.startswith("module.") for k in state["model"])


@pytest.mark.slow
def test_node_classification_shares_the_training_nodes(tmp_path: Path, small_root: Path) -> None:
    out = tmp_path / "cora"
    args = ["-m", "gconv", "train", "cora", "gcn", "--epochs", "30", "--out", str(out)]
    _torchrun(2, *args, "--root", str(small_root))
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["world_size"] == 2 and metrics["test_accuracy"] > 0.7


@pytest.mark.slow
def test_resume_under_torchrun_ends_where_an_uninterrupted_run_ends(tmp_path: Path) -> None:
    straight, first, resumed = tmp_path / "straight", tmp_path / "first", tmp_path / "resumed"
    _torchrun(2, str(WORKER), str(straight), "16", "3")
    _torchrun(2, str(WORKER), str(first), "16", "2")  # "interrupted" after 2 epochs
    _torchrun(2, str(WORKER), str(resumed), "16", "3", str(first / "ckpt" / "last.pt"))
    assert_close(torch.load(resumed / "weights.pt"), torch.load(straight / "weights.pt"))
