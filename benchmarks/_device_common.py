"""What the checks of ``device_check.py`` share: a row, the run's context, and timing
helpers. A check raises :class:`MissingData` when a dataset it needs is absent; any
other exception fails its row."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gconv.data import load_dataset
from gconv.train import Trainer

ROOT = Path(__file__).resolve().parents[1]


class MissingData(Exception):
    """A dataset the check needs is not in the data root (and cannot be downloaded)."""


@dataclass
class Row:
    what: str
    dtype: str = "float32"
    rate: float | None = None  # per second, in ``unit``
    unit: str = ""
    loss: float | None = None
    vs_reference: float | None = None  # rate / the same run's reference rate
    status: str = "pass"  # "pass", "fail" or "skip"
    note: str = ""


@dataclass
class Context:
    device: torch.device
    short: bool  # the CPU's shortened version
    root: str | None
    out: Path

    def size(self, cuda: int, cpu: int) -> int:
        return cpu if self.short else cuda

    def sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize()

    def trainer(self, **kwargs: Any) -> Trainer:
        return Trainer(device=self.device, seed=0, progress=False, **kwargs)


def data(name: str, root: str | None, **kwargs: Any) -> Any:
    try:
        return load_dataset(name, root=root, **kwargs)
    except FileNotFoundError as err:
        raise MissingData(str(err).splitlines()[0]) from err


def dtype_name(ctx: Context, amp: bool) -> str:
    if not amp:
        return "float32"
    return "float16+scaler" if ctx.device.type == "cuda" else "bfloat16"


def timed(ctx: Context, fn: Callable[[], Any]) -> tuple[Any, float]:
    ctx.sync()
    start = time.perf_counter()
    value = fn()
    ctx.sync()
    return value, time.perf_counter() - start


def warm(history: Any, per_epoch: int) -> float:
    """Examples (or steps) per second of the epochs after the first: warm, as in a long run."""
    seconds = history.history["seconds"]
    return per_epoch / statistics.median(seconds[1:] or seconds)


def learned(losses: list[float]) -> str:
    """'' when every epoch's loss is finite and the last is below the first, else why not."""
    if not all(math.isfinite(v) for v in losses):
        return f"a loss is not finite: {losses}"
    return "" if losses[-1] < losses[0] else f"the loss did not fall: {losses}"


def plain_loop(ctx: Context, model: nn.Module, batches: list[Any], amp: bool) -> float:
    """Steps per second of a plain PyTorch loop over ``batches``: the Trainer's reference."""
    model.to(ctx.device).train()
    optimizer = torch.optim.Adam(model.parameters(), 3e-3)
    cuda = ctx.device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=amp and cuda)
    dtype = torch.float16 if cuda else torch.bfloat16

    def run() -> None:
        for x, y in batches:
            x, y = x.to(ctx.device, non_blocking=True), y.to(ctx.device, non_blocking=True)
            with torch.autocast(ctx.device.type, dtype, enabled=amp):
                loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()

    run()  # warm up
    return len(batches) / statistics.median(timed(ctx, run)[1] for _ in range(3))
