"""One run per folder: a second run on a folder in use refuses in one line, and the
lock of a dead run is taken over (real processes)."""

import subprocess
import sys
import time
from pathlib import Path

import pytest

from gconv._io import run_lock


def _train(out: Path, root: Path, *extra: str) -> list[str]:
    command = [sys.executable, "-m", "gconv", "train", "cora", "gcn", "--no-progress"]
    return [*command, "--root", str(root), "--out", str(out), *extra]


@pytest.mark.slow
def test_a_second_run_on_a_busy_folder_refuses_and_a_dead_runs_lock_is_taken_over(
    tmp_path: Path, small_root: Path
) -> None:
    out = tmp_path / "run"
    first = subprocess.Popen(_train(out, small_root, "--seeds", "3"), stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not (out / ".lock").exists():
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.05)
    second = subprocess.run(
        _train(out, small_root, "--epochs", "3"), capture_output=True, text=True
    )
    assert second.returncode == 2
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1, second.stderr
    assert f"the run folder {out} is in use by process {first.pid}" in lines[0]
    assert first.wait(timeout=600) == 0
    assert not (out / ".lock").exists()  # released at the end
    # a run killed with its lock held: the next run takes the lock over
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    (out / ".lock").write_text(dead.stdout)
    again = subprocess.run(
        _train(out, small_root, "--epochs", "3", "--restart"), capture_output=True, text=True
    )
    assert again.returncode == 0, again.stderr


def test_the_lock_is_released_on_error_and_is_reentrant_only_for_its_holder(tmp_path) -> None:
    with pytest.raises(RuntimeError), run_lock(tmp_path, "test"):
        assert (tmp_path / ".lock").read_text().strip().isdigit()
        raise RuntimeError
    assert not (tmp_path / ".lock").exists()
