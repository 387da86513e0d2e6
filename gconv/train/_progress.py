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


def batches(
    loader: Iterable[Any], desc: str, total: int | None, enabled: bool, every: float = LINE_EVERY
) -> Iterable[Any]:
    """``loader`` with progress: a bar on a terminal, lines elsewhere, nothing when
    not ``enabled``."""
    if not enabled:
        return loader
    if on_terminal():
        return tqdm(loader, desc=desc, total=total, leave=False)
    return Lines(loader, desc, total, every)


def epoch_line(epoch: int, max_epochs: int, logs: dict[str, float]) -> str:
    """``epoch 3/48: loss 0.1234, accuracy 0.9612, val_loss ..., 41.2 s``."""
    parts = [f"{k} {v:.4f}" for k, v in logs.items() if k != "seconds"]
    parts.append(f"{logs.get('seconds', 0.0):.1f} s")
    return f"epoch {epoch + 1}/{max_epochs}: {', '.join(parts)}"
