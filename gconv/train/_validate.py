"""Checks of what ``Trainer.fit`` is given, paid once per dataset rather than per step.

A verdict is remembered against the label tensor it read (``gconv._checks.TensorMemo``),
so a second ``fit`` on the same data, e.g. one per seed, checks nothing again and an
in-place edit of the labels is seen.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from gconv._checks import TensorMemo
from gconv.errors import GconvTypeError, GconvValueError
from gconv.models import fits

_checked = TensorMemo()  # labels -> the num_classes they were found valid for


def check_not_empty(name: str, data: Any) -> None:
    """``data`` must hold at least one example, when it can say how many it holds."""
    try:
        size = len(data)
    except TypeError:
        return
    if size == 0:
        raise GconvValueError(
            f"Trainer.fit: {name} data must hold at least one example (got an empty "
            f"{type(data).__name__})"
        )


def check_fit(model: Any, task: Any, train: Any, val: Any) -> None:
    """What ``fit`` checks once before training: the model takes the task's input, and
    the labels it can read are class ids the model predicts."""
    if val is not None:
        check_not_empty("val", val)
    verdict = fits(model, task.input_kind)
    if not verdict:
        raise GconvValueError(f"Trainer.fit: {verdict.reason}")
    classes, ignore = num_classes_of(model), task.ignore_index
    check_labels("train", task.labels(train, "train"), classes, ignore)
    if val is not None:
        check_labels("val", task.labels(val, "val"), classes, ignore)


def check_labels(
    name: str,
    labels: Tensor | None,
    num_classes: int | None,
    ignore_index: int | None = None,
    owner: str = "Trainer.fit",
) -> None:
    """Class labels must be integers in ``[0, num_classes)`` (or ``ignore_index``); one
    device sync, once."""
    if labels is None:
        return
    if labels.numel() == 0:  # e.g. a node mask with no True entry: a NaN loss otherwise
        raise GconvValueError(
            f"{owner}: the {name} data selects no labelled examples (an empty mask?)"
        )
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise GconvTypeError(
            f"{owner}: {name} labels must be integer class ids (got dtype {labels.dtype})"
        )
    if _checked.get(labels) == (num_classes, ignore_index):
        return
    counted = labels if ignore_index is None else labels[labels != ignore_index]
    if counted.numel() == 0:
        raise GconvValueError(f"{owner}: {name} labels are all ignore_index = {ignore_index}")
    lo, hi = (int(v) for v in counted.aminmax())
    if lo < 0:
        raise GconvValueError(f"{owner}: {name} labels must be >= 0 (got {lo})")
    if num_classes is not None and hi >= num_classes:
        raise GconvValueError(
            f"{owner}: {name} labels must be < num_classes = {num_classes}, the model's "
            f"outputs (got {hi})"
        )
    _checked.put(labels, (num_classes, ignore_index))


def check_batch(logits: Tensor, target: Tensor, ignore_index: int | None = None) -> None:
    """The first batch of a fit: targets against the width of the model's output (for
    data whose labels cannot be read up front). Classes are dimension 1 of the logits
    (``[B, K]``, ``[N, K]`` or ``[B, K, H, W]``)."""
    if ignore_index is not None:
        target = target[target != ignore_index]
    if logits.dim() < 1 or target.numel() == 0:
        return
    classes = logits.size(1) if logits.dim() > 1 else logits.size(-1)
    lo, hi = (int(v) for v in target.aminmax())
    if lo < 0 or hi >= classes:
        raise GconvValueError(
            f"Trainer.fit: labels must be in [0, {classes}), the model's "
            f"{classes} outputs (got labels from {lo} to {hi})"
        )


def num_classes_of(model: Any) -> int | None:
    """How many classes a model predicts, when its head says so."""
    head = getattr(model, "head", None)
    out = getattr(head, "out_features", None)
    return out if isinstance(out, int) else None


def train_forward(
    task: Any, model: Any, batch: Any, epoch: int, step: int
) -> tuple[Tensor, Tensor]:
    """``task.forward`` of a training batch; a batch too small for BatchNorm is named."""
    try:
        return task.forward(model, batch, "train")
    except ValueError as err:  # torch's words for BatchNorm on one value per channel
        if "Expected more than 1 value per channel" not in str(err):
            raise
        raise GconvValueError(
            f"Trainer: training batch {step + 1} of epoch {epoch + 1} gives a BatchNorm "
            "one value per channel (a batch of one example, or of one 1-node graph); "
            "in training it needs two or more: raise batch_size, drop the last short "
            "batch (drop_last=True), or leave out 1-node graphs"
        ) from None
