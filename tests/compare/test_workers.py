"""``--jobs``: seeds trained in worker processes give the report one process gives."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from gconv._alloc import tune_allocator
from gconv.cli import main
from gconv.compare import Protocol, get_rows
from gconv.compare.run import run_dir
from gconv.compare.workers import longest_first


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


def _finish(out: Path, row, seed: int, protocol: Protocol, seconds: float) -> None:
    history = {k: [0.5] * protocol.epochs for k in ("test_accuracy", "val_accuracy")}
    history |= {"epoch": list(range(1, protocol.epochs + 1)), "train_seconds": [seconds] * 10}
    result = {"protocol_key": protocol.key(), "seconds_per_epoch": seconds, "history": history}
    run_dir(out, row, seed).mkdir(parents=True)
    (run_dir(out, row, seed) / "result.json").write_text(json.dumps(result))


def _stop(out: Path, row, seed: int, key: str, epochs_done: int) -> None:
    run_dir(out, row, seed).mkdir(parents=True)
    state = {"model": {}, "epoch": epochs_done - 1, "meta": {"protocol_key": key}}
    torch.save(state, run_dir(out, row, seed) / "last.pt")


def test_workers_take_the_longest_work_of_each_seed_first(tmp_path: Path) -> None:
    protocol = Protocol(epochs=10, seeds=3)
    mlp, cnn, gcn = get_rows(["mlp/pixels", "grid_cnn/pixels", "gcn/superpixel"])
    _finish(tmp_path, mlp, 0, protocol, seconds=1.0)  # 10 s a seed
    _finish(tmp_path, cnn, 0, protocol, seconds=5.0)  # 50 s a seed
    _stop(tmp_path, cnn, 1, protocol.key(), epochs_done=9)  # 5 s left
    _stop(tmp_path, mlp, 2, "another protocol", epochs_done=9)  # not resumed: 10 s left
    pending = [(row, seed) for seed in range(3) for row in (mlp, cnn, gcn)]
    ordered = longest_first(pending, protocol, tmp_path)
    order = [(row.id.split("/")[0], seed) for row, seed in ordered]
    assert order == [
        ("gcn", 0), ("mlp", 0), ("grid_cnn", 0),  # gcn: none finished, it may be the longest
        ("gcn", 1), ("mlp", 1), ("grid_cnn", 1),  # cnn resumes with one epoch left
        ("gcn", 2), ("grid_cnn", 2), ("mlp", 2),
    ]  # fmt: skip
