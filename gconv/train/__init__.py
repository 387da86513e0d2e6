"""Training: one ``Trainer`` for images, nodes, graphs and segmentation, callbacks and
cross-validation."""

from gconv.train.callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    ModelCheckpoint,
    TestCurve,
)
from gconv.train.checkpoint import load_checkpoint, save_atomic
from gconv.train.cv import cross_validate
from gconv.train.history import History
from gconv.train.infer import infer_task
from gconv.train.segmentation import (
    SegmentationTask,
    confusion_matrix,
    segmentation_scores,
)
from gconv.train.tasks import GraphTask, ImageTask, NodeTask, Task
from gconv.train.trainer import Trainer

__all__ = [
    "CSVLogger",
    "Callback",
    "EarlyStopping",
    "GraphTask",
    "History",
    "ImageTask",
    "ModelCheckpoint",
    "NodeTask",
    "SegmentationTask",
    "Task",
    "TestCurve",
    "Trainer",
    "confusion_matrix",
    "cross_validate",
    "infer_task",
    "load_checkpoint",
    "save_atomic",
    "segmentation_scores",
]
