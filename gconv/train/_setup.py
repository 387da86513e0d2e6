"""What a ``Trainer`` is built from: its settings checked once, its device, optimizer,
learning-rate schedule and, under torchrun, each epoch's sampler."""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from typing import Any

import torch
from torch import nn

from gconv._checks import check_bool, check_choice, check_positive_int
from gconv.errors import GconvTypeError, GconvValueError
from gconv.train import distributed
from gconv.train.callbacks import Callback
from gconv.train.tasks import Task, count

OptimizerFactory = Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer]
OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULERS = ("cosine",)


def _check_number(name: str, value: Any, *, positive: bool) -> None:
    """A finite real number, > 0 or >= 0 (``inf`` and ``nan`` are refused: an infinite
    learning rate turns the first step's weights into NaN)."""
    bound = "> 0" if positive else ">= 0"
    ok = (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and (value > 0 if positive else value >= 0)
    )
    if not ok:
        raise GconvValueError(f"Trainer: {name} must be a finite number {bound} (got {value!r})")


def check_settings(
    *,
    max_epochs: int,
    batch_size: int,
    optimizer: Any,
    lr: Any,
    weight_decay: Any,
    scheduler: Any,
    grad_clip: Any,
    callbacks: Any,
    amp: Any = False,
    progress: Any = True,
    seed: Any = None,
) -> None:
    check_positive_int("Trainer", "max_epochs", max_epochs)
    check_bool("Trainer", "amp", amp)
    check_bool("Trainer", "progress", progress)
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0
    ):  # numpy's generator, seeded too, takes no negative seed
        raise GconvValueError(f"Trainer: seed must be an int >= 0 or None (got {seed!r})")
    check_positive_int("Trainer", "batch_size", batch_size)
    if isinstance(optimizer, str):
        check_choice("Trainer", "optimizer", optimizer, OPTIMIZERS)
    elif not callable(optimizer):
        raise GconvTypeError(
            f"Trainer: optimizer must be one of {', '.join(OPTIMIZERS)} or a callable "
            f"(got {optimizer!r})"
        )
    _check_number("lr", lr, positive=True)
    _check_number("weight_decay", weight_decay, positive=False)
    if grad_clip is not None:
        _check_number("grad_clip", grad_clip, positive=True)
    if scheduler is not None:
        check_choice("Trainer", "scheduler", scheduler, SCHEDULERS)
    for callback in callbacks:
        if not isinstance(callback, Callback):
            raise GconvTypeError(f"Trainer: callbacks must be Callback objects (got {callback!r})")


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"`` is CUDA, else MPS, else CPU; anything else is passed to ``torch.device``."""
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise GconvValueError(
            f"Trainer: device must be 'auto' or a torch device (got {device!r})"
        ) from err
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise GconvValueError(
            f"Trainer: device {str(resolved)!r} asked for, but no CUDA device is available "
            "(torch.cuda.is_available() is False); use 'cpu' or 'auto'"
        )
    if resolved.type == "cuda" and (resolved.index or 0) >= torch.cuda.device_count():
        raise GconvValueError(
            f"Trainer: device {str(resolved)!r} asked for, but this machine has "
            f"{torch.cuda.device_count()} CUDA devices"
        )
    return resolved


def autocast(enabled: bool, device: torch.device) -> Any:
    """The mixed-precision context of a step: float16 on CUDA (with the trainer's scaler),
    bfloat16 on the CPU; a no-op when ``enabled`` is false."""
    if not enabled:
        return nullcontext()
    if device.type == "cpu":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return torch.autocast(device.type)


def native_cpu_bfloat16() -> bool:
    """Whether oneDNN has bfloat16 kernels for this CPU (AVX-512 and later); without them
    (an AVX2-only CPU, say) bfloat16 products are emulated, far slower than float32."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a build without the query: assume it does
        return True


def resolve_amp(amp: bool, device: torch.device) -> bool:
    """Whether a trainer on ``device`` uses mixed precision (CUDA and the CPU have it).
    On a CPU without native bfloat16, amp slows training many times over (a ResNet-18
    step about 20x on an AVX2 CPU): a warning says so, once, when the trainer is made."""
    amp = bool(amp) and device.type in ("cuda", "cpu")
    if amp and device.type == "cpu" and not native_cpu_bfloat16():
        warnings.warn(
            "Trainer: amp=True on a CPU with no bfloat16 kernels (an AVX2-only CPU, for "
            "one): its bfloat16 products are emulated, many times slower than float32; "
            "leave amp off on this machine",
            UserWarning,
            stacklevel=3,
        )
    return amp


def make_optimizer(
    spec: str | OptimizerFactory, model: nn.Module, lr: float, weight_decay: float
) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if callable(spec):
        return spec(params)
    if spec == "sgd":
        return torch.optim.SGD(params, lr, momentum=0.9, weight_decay=weight_decay)
    cls = torch.optim.AdamW if spec == "adamw" else torch.optim.Adam
    return cls(params, lr, weight_decay=weight_decay)


def epoch_sampler(task: Task, data: Any, epoch: int, seed: int | None) -> Any:
    """Under torchrun, this rank's shard of a dataset, reshuffled each epoch; else ``None``."""
    dataset = task.shardable(data) if distributed.active() else None
    if dataset is None:
        return None
    sampler = distributed.shard_sampler(dataset, shuffle=True, seed=seed or 0)
    sampler.set_epoch(epoch)
    return sampler


def make_schedule(trainer: Any, task: Task, train: Any) -> Any:
    """The trainer's learning-rate schedule over all steps of ``max_epochs``, or ``None``."""
    if trainer.scheduler is None:
        return None
    batches = task.batches(
        train,
        batch_size=trainer.batch_size,
        shuffle=False,
        sampler=epoch_sampler(task, train, 0, trainer.seed),
    )
    total = trainer.max_epochs * (count(batches) or 1)
    return torch.optim.lr_scheduler.CosineAnnealingLR(trainer._optimizer, T_max=total)
