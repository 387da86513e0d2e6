"""Rows and seeds as parallel worker processes (``gconv compare --jobs N``).

The small-graph rows are bound by per-batch overhead, not by arithmetic, so two
one-thread processes train about twice the graphs a second of one two-thread process.
Each worker trains whole seeds and writes their ``result.json`` itself, so a finished
seed survives whatever happens to the others and a rerun resumes as with one process.
Within a seed the longest work starts first (epochs left times the seconds an epoch of
the row's finished seeds took), so that the workers finish near each other.
On Linux a worker ends with the run that spawned it (killing ``gconv compare`` stops its
seeds, which resume from their last finished epoch), instead of training on unseen.
"""

from __future__ import annotations

import ctypes
import math
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

import torch

from gconv._alloc import tune_allocator
from gconv.compare.inputs import Inputs
from gconv.compare.protocol import Protocol, Row, get_rows
from gconv.compare.run import finished_result, run_dir, saved_state, train_seed

_inputs: Inputs | None = None  # one worker's data, loaded on its first seed


def _start_worker(threads: int, parent: int) -> None:
    die_with_parent(parent)
    torch.set_num_threads(threads)
    tune_allocator()


def die_with_parent(parent: int) -> bool:
    """Asks Linux to send this process ``SIGTERM`` when its parent ``parent`` dies
    (``prctl(PR_SET_PDEATHSIG)``); ``False`` elsewhere, where nothing changes."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(1, int(signal.SIGTERM), 0, 0, 0) != 0:  # 1: PR_SET_PDEATHSIG
        return False
    if os.getppid() != parent:  # the parent died before the request: end now
        os.kill(os.getpid(), signal.SIGTERM)
    return True


def _train(row_id: str, seed: int, protocol: Protocol, out: str, root: str | None) -> Any:
    global _inputs
    if _inputs is None:
        _inputs = Inputs(protocol, root, progress=False)
    (row,) = get_rows([row_id], protocol.task)
    return train_seed(row, seed, protocol, _inputs, Path(out), progress=False)


def train_parallel(
    pending: list[tuple[Row, int]],
    protocol: Protocol,
    out: Path,
    root: str | None,
    jobs: int,
    on_done: Callable[[Row, int, dict[str, Any]], None],
) -> None:
    """Trains the ``(row, seed)`` pairs in ``jobs`` spawned processes of
    ``cores // jobs`` threads each, calling ``on_done`` as each seed finishes."""
    pending = longest_first(pending, protocol, out)
    jobs_of = {(row.id, seed) for row, seed in pending}
    # a row that starts from another row's weights waits for that row's seed
    held = [(r, s) for r, s in pending if r.start is not None and (r.start, s) in jobs_of]
    threads = max(1, (os.cpu_count() or 1) // jobs)
    context = multiprocessing.get_context("spawn")  # no forked torch thread pools
    with ProcessPoolExecutor(
        jobs, mp_context=context, initializer=_start_worker, initargs=(threads, os.getpid())
    ) as pool:

        def submit(job: tuple[Row, int]) -> Future[Any]:
            return pool.submit(_train, job[0].id, job[1], protocol, str(out), root)

        futures = {submit(job): job for job in pending if job not in held}
        done: set[tuple[str, int]] = set()
        while futures:
            finished, _ = wait(set(futures), return_when=FIRST_COMPLETED)
            for future in finished:
                row, seed = futures.pop(future)
                done.add((row.id, seed))
                on_done(row, seed, future.result())
            for job in [j for j in held if (j[0].start, j[1]) in done]:
                held.remove(job)
                futures[submit(job)] = job


def longest_first(
    pending: list[tuple[Row, int]], protocol: Protocol, out: Path
) -> list[tuple[Row, int]]:
    """``pending`` in seed order and, within a seed, the longest work first: epochs
    left (after a saved ``last.pt``) times the seconds an epoch of the row's finished
    seeds took; a row with no finished seed counts as the longest. Longest-first keeps
    one worker from training alone at the end while the others sit idle."""
    results = {
        (row.id, seed): finished_result(run_dir(out, row, seed), protocol) for row, seed in pending
    }
    per_epoch: dict[str, float] = {}
    for (row_id, _), result in results.items():
        if result is not None:
            per_epoch.setdefault(row_id, float(result["seconds_per_epoch"]))

    def left(row: Row, seed: int) -> float:
        if results[row.id, seed] is not None:
            return 0.0
        state = saved_state(run_dir(out, row, seed), protocol)
        epochs = protocol.epochs - (0 if state is None else state["epoch"] + 1)
        return per_epoch.get(row.id, math.inf) * max(epochs, 1)

    cost = {(row.id, seed): left(row, seed) for row, seed in pending}
    return sorted(pending, key=lambda job: (job[1], -cost[job[0].id, job[1]]))
