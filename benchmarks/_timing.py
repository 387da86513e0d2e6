"""Timing helpers shared by the benchmark scripts."""

from __future__ import annotations

import platform
import statistics
import time
from collections.abc import Callable

import torch


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def compare(
    runs: dict[str, Callable[[], object]], *, rounds: int = 5, repeats: int = 10, warmup: int = 3
) -> dict[str, float]:
    """Median wall time in seconds of each callable.

    The callables take turns, ``rounds`` times ``repeats`` calls each, so that drift in the
    machine's speed (other processes, frequency changes) hits all of them alike.
    """
    for fn in runs.values():
        for _ in range(warmup):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, fn in runs.items():
            for _ in range(repeats):
                _sync()
                start = time.perf_counter()
                fn()
                _sync()
                samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(times) for name, times in samples.items()}


def cpu() -> str:
    """The platform, with the widest vector instructions torch uses here (AVX2, AVX512)."""
    return f"{platform.machine()} ({torch.backends.cpu.get_cpu_capability()})"


def machine() -> str:
    return (
        f"{cpu()}, {torch.get_num_threads()} threads, "
        f"torch {torch.__version__}, python {platform.python_version()}"
    )
