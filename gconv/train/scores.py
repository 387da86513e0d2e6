"""A split's scores, accumulated batch by batch, and macro-F1 on the tensors' device."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor

if TYPE_CHECKING:
    from gconv.train.tasks import Task


def macro_f1(predicted: Tensor, target: Tensor, num_classes: int) -> float:
    """Macro-averaged F1 over the classes present in ``target`` or ``predicted``, as
    scikit-learn's ``f1_score(average="macro")`` computes it, on the tensors' device."""
    index = target * num_classes + predicted
    confusion = torch.bincount(index, minlength=num_classes * num_classes)
    confusion = confusion.view(num_classes, num_classes)
    tp = confusion.diagonal()
    denominator = confusion.sum(0) + confusion.sum(1)  # 2 tp + fp + fn
    present = denominator > 0
    return float((2 * tp[present] / denominator[present]).mean())


class Scores:
    """A split's metrics, accumulated batch by batch: every batch's logits and targets
    kept and scored at once by ``task.metrics`` (what classification needs: a mean loss
    and macro-F1 over the whole split). Dense tasks keep sums instead."""

    def __init__(self, task: Task, *, f1: bool = False) -> None:
        self.task, self.f1 = task, f1
        self.logits: list[Tensor] = []
        self.targets: list[Tensor] = []

    def update(self, logits: Tensor, target: Tensor) -> None:
        self.logits.append(logits.float())
        self.targets.append(target)

    @property
    def seen(self) -> int:
        """Examples (or pixels) scored so far."""
        return sum(t.numel() for t in self.targets)

    def compute(self) -> dict[str, float]:
        return self.task.metrics(torch.cat(self.logits), torch.cat(self.targets), f1=self.f1)
