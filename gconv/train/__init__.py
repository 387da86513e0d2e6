"""Training: one ``Trainer`` for images, nodes and graphs, callbacks and cross-validation."""

from gconv.train.callbacks import Callback, CSVLogger, EarlyStopping, ModelCheckpoint
from gconv.train.checkpoint import load_checkpoint, save_atomic
from gconv.train.cv import cross_validate
from gconv.train.tasks import GraphTask, ImageTask, NodeTask, Task
from gconv.train.trainer import History, Trainer

__all__ = [
    "CSVLogger",
    "Callback",
    "EarlyStopping",
    "GraphTask",
    "History",
    "ImageTask",
    "ModelCheckpoint",
    "NodeTask",
    "Task",
    "Trainer",
    "cross_validate",
    "load_checkpoint",
    "save_atomic",
]
