"""Divergence: a non-finite loss, weight or validation loss stops ``fit`` before any
checkpoint of it is written, with the likely cause named.

The loss is watched on the device and looked at every ``every`` steps (each look is a
device sync); the weights and the validation loss once an epoch, before the callbacks
run, so a ``last.pt`` or ``best.pt`` never holds NaN weights. The cause is looked for
only once training has failed: non-finite inputs (a NaN pixel or node feature, even in
a node no loss sees, spreads into the weights through the gradients), else the
learning rate.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor, nn

from gconv.errors import GconvDivergenceError


def _floats(batch: Any, skip: tuple[str, ...] = ("y",)) -> Iterable[tuple[str, Tensor]]:
    """The floating-point tensors a batch feeds a model, by name (targets skipped)."""
    if isinstance(batch, Tensor):
        if batch.is_floating_point():
            yield "x", batch
    elif isinstance(batch, (list, tuple)):  # (x, y): the target is last
        for item in batch[:-1] if len(batch) == 2 else batch:
            yield from _floats(item, skip)
    elif hasattr(batch, "items"):  # a PyG Data or Batch
        for name, value in batch.items():
            if name not in skip and isinstance(value, Tensor) and value.is_floating_point():
                yield name, value


def nonfinite_inputs(batches: Iterable[Any]) -> str | None:
    """Where the first non-finite input is, as a phrase, or ``None``."""
    for index, batch in enumerate(batches):
        for name, value in _floats(batch):
            bad = int((~torch.isfinite(value)).sum())
            if bad:
                return f"batch {index + 1} holds {bad} non-finite values in {name!r}"
    return None


def nonfinite_weights(model: nn.Module) -> str | None:
    """The name of the first parameter or buffer with a non-finite value, or ``None``;
    one device sync."""
    tensors = [(name, t) for name, t in model.state_dict().items() if t.is_floating_point()]
    if not tensors:
        return None
    finite = torch.stack([torch.isfinite(t).all() for _, t in tensors])
    if bool(finite.all()):
        return None
    return tensors[int((~finite).nonzero()[0])][0]


def divergence(failure: str, batches: Iterable[Any], lr: float) -> GconvDivergenceError:
    """The error that stops ``fit``: what went non-finite and its likely cause, found by
    a look at the data's ``batches`` (paid only now that training has failed)."""
    inputs = nonfinite_inputs(batches)
    if inputs is not None:
        cause = f"the data is not finite ({inputs}): clean or impute it"
    else:
        cause = (
            f"no input is non-finite, so lr={lr:g} is likely too high: lower it or set grad_clip"
        )
    return GconvDivergenceError(f"Trainer: {failure}; {cause}")


class Watch:
    """The first step of an epoch whose loss was not finite, kept on the device."""

    def __init__(self, device: torch.device, every: int) -> None:
        self.every = every
        self.bad_step = torch.full((), -1, device=device, dtype=torch.long)

    def update(self, step: int, loss: Tensor) -> bool:
        """Records ``loss``; ``True`` when a non-finite one has been seen (looked at
        every ``every`` steps only)."""
        first_bad = (self.bad_step < 0) & ~torch.isfinite(loss.detach())
        self.bad_step = torch.where(first_bad, torch.full_like(self.bad_step, step), self.bad_step)
        return step % self.every == 0 and self.failed()

    def failed(self) -> bool:
        return int(self.bad_step) >= 0

    def message(self, epoch: int) -> str:
        return f"the loss was not finite at epoch {epoch + 1}, step {int(self.bad_step) + 1}"
