"""The tasks the trainer knows, as objects: each owns its batches, outputs, loss and metrics.

- :class:`ImageTask`: a dataset or loader of ``(x, y)`` tensors; the model takes ``x``;
- :class:`NodeTask`: one PyG ``Data`` with ``train_mask``/``val_mask``/``test_mask``, full
  batch; the model takes the ``Data`` and a phase counts the nodes of its mask;
- :class:`GraphTask`: a PyG dataset or loader of graphs; the model takes the ``Batch``
  and returns one row per graph.

The trainer calls these methods and never branches on which task it has.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset, TensorDataset
from torch_geometric.data import Batch, Data
from torch_geometric.data import Dataset as PyGDataset
from torch_geometric.loader import ClusterLoader, NodeLoader
from torch_geometric.loader import DataLoader as PyGDataLoader

from gconv._checks import check_choice


def count(data: Any) -> int | None:
    """Batches in an epoch, when the loader knows."""
    try:
        return len(data)
    except TypeError:
        return None


def _first(data: Any) -> Any:
    if isinstance(data, (list, tuple, Dataset)):
        return data[0] if len(data) else None  # type: ignore[arg-type]
    return next(iter(data), None)


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


class Task(ABC):
    """What one kind of training data means to the trainer."""

    name: str
    input_kind: str  # what the model is given, in the terms of gconv.models.fits

    loader_class: Any = DataLoader  # what batches a dataset of this task

    def batches(
        self, data: Any, *, batch_size: int, shuffle: bool, sampler: Any = None
    ) -> Iterable[Any]:
        """What one epoch iterates over: loaders pass through, datasets get one. With a
        ``sampler`` (a rank's shard under torchrun), a dataset, or the dataset of a
        loader of this task's kind, is batched through it."""
        dataset = self.shardable(data)
        if sampler is not None and dataset is not None:
            batch_size = getattr(data, "batch_size", None) or batch_size
            return self.loader_class(dataset, batch_size=batch_size, sampler=sampler)
        if dataset is data:
            return self.loader_class(data, batch_size=batch_size, shuffle=shuffle)
        if isinstance(data, Iterable):
            return data
        raise TypeError(f"Trainer: {self.name} data must be iterable (got {type(data).__name__})")

    def shardable(self, data: Any) -> Any:
        """The dataset behind ``data`` that a sampler can split, or ``None``."""
        return None

    def prepare(self, data: Any, device: torch.device) -> Any:
        """Once per ``fit`` or ``evaluate``: the whole data set, before batching."""
        return data

    def to_device(self, batch: Any, device: torch.device) -> Any:
        return batch.to(device)

    @abstractmethod
    def forward(self, model: nn.Module, batch: Any, phase: str | None) -> tuple[Tensor, Tensor]:
        """``(logits, targets)`` of one batch; ``phase=None`` keeps everything."""

    def loss(self, logits: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(logits, target)

    def labels(self, data: Any, phase: str) -> Tensor | None:
        """Every target of ``data`` for ``phase``, when they can be read without
        iterating it (``None`` otherwise): what :func:`check_labels` validates once."""
        data = getattr(data, "dataset", data)  # a loader's dataset
        if isinstance(data, TensorDataset) and len(data.tensors) >= 2:
            return data.tensors[1]
        y = getattr(data, "y", None)
        return y if isinstance(y, Tensor) else None

    def metrics(self, logits: Tensor, target: Tensor, *, f1: bool = False) -> dict[str, float]:
        """``loss`` and ``accuracy`` (and ``macro_f1``) over all examples at once."""
        predicted = logits.argmax(-1)
        scores = {
            "loss": self.loss(logits, target).item(),
            "accuracy": (predicted == target).float().mean().item(),
        }
        if f1:
            scores["macro_f1"] = macro_f1(predicted, target, logits.size(-1))
        return scores

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ImageTask(Task):
    name, input_kind = "image", "images"

    def shardable(self, data: Any) -> Any:
        if isinstance(data, Dataset):
            return data
        if type(data) is DataLoader:  # a plain loader: its dataset, re-batched
            return data.dataset
        return None

    def to_device(self, batch: Any, device: torch.device) -> Any:
        x, y = batch
        return x.to(device, non_blocking=True), y.to(device, non_blocking=True)

    def forward(self, model: nn.Module, batch: Any, phase: str | None) -> tuple[Tensor, Tensor]:
        x, y = batch
        return model(x), y


class NodeTask(Task):
    """Node classification: full batch on one graph, where a phase is a node mask;
    mini-batches of sampled subgraphs (a PyG ``NodeLoader`` such as
    :class:`gconv.loader.NeighborLoader`), where the seed nodes that open each batch are
    the ones scored; or Cluster-GCN's batches of parts (PyG's ``ClusterLoader``), where
    each part's nodes in the phase's mask are."""

    name, input_kind = "node", "nodes"
    shard: tuple[int, int] = (0, 1)  # (rank, world): under torchrun, a rank's seed nodes
    masks: ClassVar[dict[str, str]] = {
        "train": "train_mask",
        "val": "val_mask",
        "test": "test_mask",
    }

    def labels(self, data: Any, phase: str) -> Tensor | None:
        if isinstance(data, NodeLoader):  # the labels of its seed nodes
            y = getattr(data.data, "y", None)
            seeds = data.input_data.node
            return y[seeds] if isinstance(y, Tensor) else None
        if isinstance(data, ClusterLoader):  # Cluster-GCN: the whole partitioned graph
            data = data.cluster_data.data
        y, mask = getattr(data, "y", None), getattr(data, self.masks[phase], None)
        if not isinstance(y, Tensor):
            return None
        return y[mask] if isinstance(mask, Tensor) else y

    def batches(
        self, data: Any, *, batch_size: int, shuffle: bool, sampler: Any = None
    ) -> Iterable[Any]:
        return data if isinstance(data, (NodeLoader, ClusterLoader)) else [data]

    def prepare(self, data: Any, device: torch.device) -> Any:
        if isinstance(data, (NodeLoader, ClusterLoader)):
            return data  # batches move one by one
        return data.to(device)  # one graph: moved once, not every epoch

    def forward(self, model: nn.Module, batch: Any, phase: str | None) -> tuple[Tensor, Tensor]:
        out = model(batch)
        seeds = getattr(batch, "batch_size", None)
        if isinstance(seeds, int) and hasattr(batch, "n_id"):  # a sampled subgraph
            return out[:seeds], batch.y[:seeds]
        if phase is None:
            return out, batch.y
        mask = getattr(batch, self.masks[phase], None)
        if mask is None:
            raise ValueError(f"Trainer: node data needs a {self.masks[phase]} (got none)")
        rank, world = self.shard
        if phase == "train" and world > 1:  # this rank's share of the training nodes
            index = mask.nonzero().view(-1)[rank::world]
            return out[index], batch.y[index]
        return out[mask], batch.y[mask]


class GraphTask(Task):
    """Graph classification; pixel grid batches are graphs whose ``input_kind`` is
    ``"pixel_grid"``."""

    name = "graph"

    def __init__(self, input_kind: str = "graphs") -> None:
        check_choice("GraphTask", "input_kind", input_kind, ("graphs", "pixel_grid"))
        self.input_kind = input_kind

    loader_class = PyGDataLoader

    def shardable(self, data: Any) -> Any:
        if isinstance(data, (PyGDataset, list, tuple)):
            return data
        if type(data) is PyGDataLoader:
            return data.dataset
        return None

    def to_device(self, batch: Any, device: torch.device) -> Any:
        if isinstance(batch, (list, tuple)):  # a loader over (Data, label) pairs
            graphs, labels = batch
            graphs = graphs.to(device)
            graphs.y = labels.to(device)
            return graphs
        return batch.to(device)

    def forward(self, model: nn.Module, batch: Any, phase: str | None) -> tuple[Tensor, Tensor]:
        return model(batch), batch.y.view(-1)

    def __repr__(self) -> str:
        return f"GraphTask({self.input_kind!r})"


TASKS: dict[str, type[Task]] = {"image": ImageTask, "node": NodeTask, "graph": GraphTask}


def get_task(name: str) -> Task:
    check_choice("Trainer", "task", name, tuple(TASKS))
    return TASKS[name]()


def _graph_task(first: Any) -> GraphTask:
    if isinstance(first, (list, tuple)):
        first = first[0]
    grid = getattr(first, "grid_shape", None) is not None
    return GraphTask("pixel_grid" if grid else "graphs")


def infer_task(data: Any) -> Task:
    """The task of some data (peeking at its first example or batch);
    ``Trainer(task=...)`` overrides it."""
    if (isinstance(data, Data) and not isinstance(data, Batch)) or isinstance(
        data, (NodeLoader, ClusterLoader)
    ):
        return NodeTask()
    if isinstance(data, PyGDataset) or (
        isinstance(data, (list, tuple)) and data and isinstance(data[0], Data)
    ):
        return GraphTask()
    if isinstance(data, (Dataset, Iterable)):
        first = _first(data)
        if isinstance(first, Data) or (
            isinstance(first, (list, tuple)) and len(first) == 2 and isinstance(first[0], Data)
        ):
            return _graph_task(first)
        if isinstance(first, (list, tuple)) and len(first) == 2:
            return ImageTask()
    raise TypeError(
        "Trainer: cannot tell the task from data of type "
        f"{type(data).__name__}; expected a PyG Data (node), a PyG dataset or loader "
        "(graph), or a dataset or loader of (x, y) tensors (image)"
    )
