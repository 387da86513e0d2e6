"""``--jobs``: seeds trained in worker processes give the report one process gives."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gconv._alloc import tune_allocator
from gconv.cli import main


def test_tune_allocator_says_whether_it_changed_anything() -> None:
    changed = tune_allocator()
    assert isinstance(changed, bool)
    assert changed is sys.platform.startswith("linux")  # glibc on every Linux we run on


PARENT = """
import os, time
from concurrent.futures import ProcessPoolExecutor
import multiprocessing
from gconv.compare.workers import _start_worker

def pid():
    return os.getpid()

if __name__ == "__main__":
    ctx = multiprocessing.get_context("spawn")
    args = (1, os.getpid())
    with ProcessPoolExecutor(1, mp_context=ctx, initializer=_start_worker, initargs=args) as pool:
        print(pool.submit(pid).result(), flush=True)
        pool.submit(time.sleep, 60)
        time.sleep(60)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_worker_ends_when_its_run_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        worker = int(parent.stdout.readline())
        os.kill(parent.pid, signal.SIGKILL)  # no cleanup runs in the parent
        parent.wait(10)
        for _ in range(100):
            try:
                os.kill(worker, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            os.kill(worker, signal.SIGKILL)
            pytest.fail(f"worker {worker} outlived its killed parent")
    finally:
        parent.kill()


@pytest.mark.slow
def test_two_workers_train_the_seeds_one_process_trains(tmp_path: Path, data_root: Path) -> None:
    argv = ["compare", "--quick", "--no-progress", "--seeds", "2", "--rows", "mlp/pixels"]
    argv += ["--root", str(data_root)]
    assert main([*argv, "--out", str(tmp_path / "one")]) == 0
    assert main([*argv, "--out", str(tmp_path / "two"), "--jobs", "2"]) == 0
    one, two = (json.loads((tmp_path / d / "compare.json").read_text()) for d in ("one", "two"))
    (a,), (b,) = one["rows"], two["rows"]
    assert a["id"] == b["id"] == "mlp/pixels"
    # each worker has one thread, the single process two: the same seeds, the same data
    # order, sums in another order (float32), so the figures agree to a prediction or two
    for x, y in zip(a["accuracies"], b["accuracies"], strict=True):
        assert abs(x - y) <= 2 / 100  # quick: 100 test images
    seeds = sorted(p.parent.name for p in (tmp_path / "two").glob("runs/*/seed-*/result.json"))
    assert seeds == ["seed-0", "seed-1"]
    assert {
        json.loads(p.read_text())["threads"]
        for p in (tmp_path / "two").glob("runs/*/*/result.json")
    } == {1}
