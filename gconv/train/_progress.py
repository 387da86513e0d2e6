"""Progress of a fit: a tqdm bar on a terminal, else plain lines (a log file, a pipe,
a notebook): one when an epoch ends, and one every ``every`` seconds within a long one,
so that an hours-long run shows that it moves."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any

from tqdm.auto import tqdm

LINE_EVERY = 60.0  # seconds between lines within an epoch, when not on a terminal
LONG_RUN = 1800.0  # seconds: a fit estimated longer than this is announced
TIMED_BATCHES = 20  # batches timed (after the first, which pays one-off costs)


class Lines:
    """Iterates ``loader``, printing ``desc: i/total batches, s`` now and then."""

    def __init__(self, loader: Iterable[Any], desc: str, total: int | None, every: float) -> None:
        self.loader, self.desc, self.total, self.every = loader, desc, total, every

    def __iter__(self) -> Iterator[Any]:
        start = last = time.perf_counter()
        for index, item in enumerate(self.loader):
            yield item
            now = time.perf_counter()
            if now - last >= self.every:
                last = now
                of = f"/{self.total}" if self.total else ""
                left = ""
                if self.total:
                    rate = (now - start) / (index + 1)
                    left = f", about {(self.total - index - 1) * rate / 60:.1f} min left"
                say(f"{self.desc}: {index + 1}{of} batches, {now - start:.0f} s{left}")


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def on_terminal() -> bool:
    return sys.stderr.isatty()


def estimate(
    loader: Iterable[Any], total: int | None, epochs: int, long_run: float | None = None
) -> Iterator[Any]:
    """Iterates ``loader``; after its first ``TIMED_BATCHES`` batches (not counting the
    first), says once how long ``epochs`` epochs of ``total`` batches will take, when
    that is over ``long_run`` seconds."""
    start = None
    for index, item in enumerate(loader):
        yield item
        if index == 0:
            start = time.perf_counter()
        elif index == TIMED_BATCHES and start is not None and total:
            seconds = (time.perf_counter() - start) / TIMED_BATCHES * total * epochs
            if seconds > (LONG_RUN if long_run is None else long_run):
                say(
                    f"gconv: this fit will take about {_duration(seconds)} ({epochs} epochs "
                    f"of about {_duration(seconds / epochs)}, timed on {TIMED_BATCHES} batches)"
                )


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


def batches(
    loader: Iterable[Any],
    desc: str,
    total: int | None,
    enabled: bool,
    every: float | None = None,
    *,
    epochs: int = 0,
) -> Iterable[Any]:
    """``loader`` with progress: a bar on a terminal, lines elsewhere, nothing when
    not ``enabled``; with ``epochs``, an estimate of a long run's time up front."""
    if not enabled:
        return loader
    if epochs and total and total > TIMED_BATCHES:
        loader = estimate(loader, total, epochs)
    if on_terminal():
        # tqdm.auto's bar calls iter() on what it is given as it is built: a DataLoader
        # would start an iterator only to throw it away, drawing its seed from torch's
        # generator, and a run on a terminal would train on other batches than the same
        # run into a log file. A generator is started once, when the bar first asks.
        return tqdm(_once(loader), desc=desc, total=total, leave=False)
    return Lines(loader, desc, total, LINE_EVERY if every is None else every)


def _once(loader: Iterable[Any]) -> Iterator[Any]:
    yield from loader


def epoch(
    loader: Iterable[Any], total: int | None, epoch: int, max_epochs: int, first: int, shown: bool
) -> Iterable[Any]:
    """An epoch's batches with progress; the fit's ``first`` epoch times its first
    batches, so that a long run is said up front."""
    epochs = max_epochs - epoch if epoch == first else 0
    return batches(loader, f"epoch {epoch + 1}/{max_epochs}", total, shown, epochs=epochs)


def epoch_line(epoch: int, max_epochs: int, logs: dict[str, float]) -> str:
    """``epoch 3/48: loss 0.1234, accuracy 0.9612, val_loss ..., 41.2 s``."""
    parts = [f"{k} {v:.4f}" for k, v in logs.items() if k != "seconds"]
    parts.append(f"{logs.get('seconds', 0.0):.1f} s")
    return f"epoch {epoch + 1}/{max_epochs}: {', '.join(parts)}"
