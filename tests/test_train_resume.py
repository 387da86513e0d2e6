"""``gconv train`` killed with SIGKILL resumes with the same command and ends where an
uninterrupted run ends; other settings are refused in one line; ``--restart`` starts
afresh."""

import csv
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gconv.train import load_checkpoint


def _train(out: Path, root: Path, *extra: str) -> list[str]:
    command = [sys.executable, "-m", "gconv", "train", "cora", "gcn"]
    return [*command, "--no-progress", "--root", str(root), "--out", str(out), *extra]


def _history(path: Path) -> list[dict]:
    with path.open() as f:  # all but the timings
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(f)]


def _runs(out: Path) -> list[dict]:
    return json.loads((out / "metrics.json").read_text())["runs"]


@pytest.mark.slow
def test_a_killed_gconv_train_resumes_to_the_uninterrupted_result(
    tmp_path: Path, small_root: Path
) -> None:
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    subprocess.run(_train(whole, small_root), check=True, capture_output=True)

    process = subprocess.Popen(_train(killed, small_root), stdout=subprocess.DEVNULL)
    last = killed / "seed-0" / "last.pt"
    deadline = time.monotonic() + 300
    while not (last.is_file() and load_checkpoint(last)["epoch"] >= 40):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    stopped = load_checkpoint(last)["epoch"]
    assert stopped < 199 and not (killed / "metrics.json").exists()

    subprocess.run(_train(killed, small_root), check=True, capture_output=True)
    assert _runs(killed) == _runs(whole)  # test accuracy, macro-F1, epochs, best epoch
    history = _history(killed / "seed-0" / "history.csv")
    assert history == _history(whole / "seed-0" / "history.csv")  # every epoch once
    assert len(history) == 200

    other = subprocess.run(
        _train(killed, small_root, "--epochs", "5"), capture_output=True, text=True
    )
    assert other.returncode == 2
    (line,) = other.stderr.strip().splitlines()
    assert "is from a run with other settings: max_epochs 5 (the checkpoint's: 200)" in line
    assert "--restart" in line
    fresh = _train(killed, small_root, "--epochs", "5", "--restart")
    subprocess.run(fresh, check=True, capture_output=True)
    assert [r["epochs"] for r in _runs(killed)] == [5]


def _folds(out: Path, root: Path) -> list[str]:
    command = [sys.executable, "-m", "gconv", "train", "mutag", "gin", "--folds", "3"]
    return [*command, "--epochs", "20", "--no-progress", "--root", str(root), "--out", str(out)]


@pytest.mark.slow
def test_killed_cross_validation_resumes_fold_by_fold(tmp_path: Path, small_root: Path) -> None:
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    subprocess.run(_folds(whole, small_root), check=True, capture_output=True)

    process = subprocess.Popen(_folds(killed, small_root), stdout=subprocess.DEVNULL)
    last = killed / "fold-1" / "last.pt"  # fold 0 done, fold 1 half way
    deadline = time.monotonic() + 300
    while not (last.is_file() and load_checkpoint(last)["epoch"] >= 6):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (killed / "metrics.json").exists() and not (killed / "fold-2").exists()

    subprocess.run(_folds(killed, small_root), check=True, capture_output=True)
    ours, theirs = (json.loads((o / "metrics.json").read_text()) for o in (killed, whole))
    for key in ("runs", "test_accuracy", "xu_protocol_accuracy", "xu_protocol_epoch"):
        assert ours[key] == theirs[key], key
    assert _history(killed / "history.csv") == _history(whole / "history.csv")
