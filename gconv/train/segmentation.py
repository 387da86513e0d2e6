"""Semantic segmentation as a task: a class for every pixel, of an image or of a pixel
grid graph.

The loss is per-pixel cross entropy that leaves out pixels labelled ``ignore_index``;
the scores are pixel accuracy and the intersection over union of every class,
accumulated over a whole split in a confusion matrix (the standard of Pascal VOC and
FCN): a class's IoU is :math:`TP / (TP + FP + FN)` over all its pixels in the split,
and the mean IoU averages the classes that occur in the targets or the predictions.
"""

from __future__ import annotations

import statistics
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

from gconv._checks import check_choice
from gconv.data import IGNORE_INDEX
from gconv.train.scores import Scores
from gconv.train.tasks import Task


def confusion_matrix(
    predicted: Tensor, target: Tensor, num_classes: int, ignore_index: int | None = None
) -> Tensor:
    """``[num_classes, num_classes]`` counts, rows the true class, columns the predicted
    one; pixels whose target is ``ignore_index`` are left out."""
    predicted, target = predicted.reshape(-1), target.reshape(-1)
    if ignore_index is not None:
        keep = target != ignore_index
        predicted, target = predicted[keep], target[keep]
    index = target.long() * num_classes + predicted.long()
    return torch.bincount(index, minlength=num_classes**2).view(num_classes, num_classes)


def segmentation_scores(confusion: Tensor) -> dict[str, float]:
    """``accuracy`` (pixel accuracy), ``mean_iou``, ``macro_f1`` and ``iou_<class>`` of
    every class present (in the targets or the predictions) from a confusion matrix."""
    confusion = confusion.double()
    tp = confusion.diagonal()
    union = confusion.sum(0) + confusion.sum(1) - tp  # TP + FP + FN
    present = union > 0
    iou = tp[present] / union[present]
    scores = {
        "accuracy": float(tp.sum() / confusion.sum().clamp(min=1)),
        "mean_iou": float(iou.mean()) if present.any() else 0.0,
        "macro_f1": float((2 * tp[present] / (union[present] + tp[present])).mean())
        if present.any()
        else 0.0,
    }
    for c in present.nonzero().view(-1).tolist():
        scores[f"iou_{c}"] = float(tp[c] / union[c])
    return scores


class ConfusionScores(Scores):
    """A split's loss sum, pixel count and confusion matrix, kept on the device: memory
    of one ``K x K`` matrix however many pixels the split has."""

    def __init__(self, task: SegmentationTask, *, f1: bool = False) -> None:
        super().__init__(task, f1=f1)
        self.ignore = task.ignore  # -100 when none: no target has that value
        self.loss_sum: Tensor | None = None  # on the device: no sync per batch
        self.confusion: Tensor | None = None

    def update(self, logits: Tensor, target: Tensor) -> None:
        logits = logits.float()
        loss = F.cross_entropy(logits, target, ignore_index=self.ignore, reduction="sum")
        counts = confusion_matrix(logits.argmax(1), target, logits.size(1), self.ignore)
        if self.confusion is None or self.loss_sum is None:
            self.loss_sum, self.confusion = loss, counts
        else:
            self.loss_sum, self.confusion = self.loss_sum + loss, self.confusion + counts

    @property
    def seen(self) -> int:
        return 0 if self.confusion is None else int(self.confusion.sum())

    def compute(self) -> dict[str, float]:
        assert self.confusion is not None and self.loss_sum is not None
        loss = float(self.loss_sum) / max(self.seen, 1)
        return {"loss": loss, **segmentation_scores(self.confusion)}


class SegmentationTask(Task):
    """Segmentation of images (``[B, C, H, W]`` with ``[B, H, W]`` masks, logits
    ``[B, K, H, W]``) or of batches of pixel grid graphs (``y`` per node, logits
    ``[N, K]``). In both the class dimension is 1, so one loss and one tally serve.

    Args:
        input_kind: ``"images_dense"`` or ``"pixel_grid_dense"``.
        ignore_index: the target of pixels of no class (255, as VOC's borders).
    """

    name = "segmentation"
    metric_names = ("loss", "accuracy", "mean_iou")
    metric = "mean_iou"
    directions: ClassVar[dict[str, str]] = {**Task.directions, "mean_iou": "max"}
    report_metrics = (("mean_iou", "mean IoU"), ("accuracy", "pixel accuracy"))

    def __init__(self, input_kind: str = "images_dense", ignore_index: int = IGNORE_INDEX) -> None:
        check_choice(
            "SegmentationTask", "input_kind", input_kind, ("images_dense", "pixel_grid_dense")
        )
        self.input_kind, self.ignore_index = input_kind, ignore_index

    def test_record(self, scores: dict[str, float]) -> dict[str, Any]:
        """Classification's, and mean IoU and each class's IoU (keyed by class index)."""
        ious = {k[4:]: v for k, v in scores.items() if k.startswith("iou_")}
        record = super().test_record(scores)
        return {**record, "test_mean_iou": scores["mean_iou"], "test_iou": ious}

    def summarize(self, runs: list[dict[str, Any]], class_names: Any = None) -> dict[str, Any]:
        """Classification's, and each class's IoU by name (``class_names``, else its
        index), the mean over the runs in which the class occurs."""
        out = super().summarize(runs)
        classes = sorted({c for r in runs for c in r["test_iou"]}, key=int)
        out["test_iou"] = {
            (class_names[int(c)] if class_names else c): statistics.fmean(
                r["test_iou"][c] for r in runs if c in r["test_iou"]
            )
            for c in classes
        }
        return out

    @property
    def ignore(self) -> int:
        """``ignore_index`` as ``F.cross_entropy`` takes it (its default when none)."""
        return -100 if self.ignore_index is None else self.ignore_index

    def shardable(self, data: Any) -> Any:
        if self.input_kind == "images_dense":
            if isinstance(data, Dataset):
                return data
            if type(data) is DataLoader:
                return data.dataset
        return None

    def to_device(self, batch: Any, device: torch.device) -> Any:
        if isinstance(batch, (list, tuple)):
            x, y = batch
            return x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        return batch.to(device)

    def forward(self, model: nn.Module, batch: Any, phase: str | None) -> tuple[Tensor, Tensor]:
        if isinstance(batch, (list, tuple)):
            x, y = batch
            return model(x), y
        return model(batch), batch.y

    def loss(self, logits: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(logits, target, ignore_index=self.ignore)

    def tally(self, logits: Tensor, target: Tensor) -> tuple[Tensor, Tensor | int]:
        valid = target != self.ignore
        return ((logits.argmax(1) == target) & valid).sum(), valid.sum()

    def scores(self, *, f1: bool = False) -> Scores:
        return ConfusionScores(self, f1=f1)

    def metrics(self, logits: Tensor, target: Tensor, *, f1: bool = False) -> dict[str, float]:
        scores = self.scores(f1=f1)
        scores.update(logits, target)
        return scores.compute()

    def __repr__(self) -> str:
        return f"SegmentationTask({self.input_kind!r})"
