"""The tasks the trainer knows, as objects: each owns its batches, outputs, loss and metrics.

- :class:`ImageTask`: a dataset or loader of ``(x, y)`` tensors; the model takes ``x``;
- :class:`NodeTask`: one PyG ``Data`` with ``train_mask``/``val_mask``/``test_mask``, full
  batch; the model takes the ``Data`` and a phase counts the nodes of its mask;
- :class:`GraphTask`: a PyG dataset or loader of graphs; the model takes the ``Batch``
  and returns one row per graph.

Segmentation is :class:`gconv.train.segmentation.SegmentationTask`. The trainer calls
these methods and never branches on which task it has.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset, TensorDataset
from torch_geometric.loader import ClusterLoader, NodeLoader
from torch_geometric.loader import DataLoader as PyGDataLoader

from gconv._checks import check_choice
from gconv.data.image_split import ImageSplit
from gconv.errors import GconvTypeError, GconvValueError
from gconv.train.runs import mean_and_spread
from gconv.train.scores import Scores, macro_f1


def count(data: Any) -> int | None:
    """Batches in an epoch, when the loader knows."""
    try:
        return len(data)
    except TypeError:
        return None


class Task(ABC):
    """What one kind of training data means to the trainer."""

    name: str
    input_kind: str  # what the model is given, in the terms of gconv.models.fits
    ignore_index: int | None = None  # a target value that counts nowhere (segmentation)
    metric_names: tuple[str, ...] = ("loss", "accuracy")  # what validation logs, as val_*
    metric: str = "accuracy"  # the main metric: what selects a model and heads a report
    # what a report line shows of a split's scores, in order, and how it names each
    report_metrics: ClassVar[tuple[tuple[str, str], ...]] = (
        ("accuracy", "accuracy"),
        ("macro_f1", "macro-F1"),
    )
    # whether each metric this task computes improves as it falls or as it rises
    directions: ClassVar[dict[str, str]] = {"loss": "min", "accuracy": "max", "macro_f1": "max"}

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
        raise GconvTypeError(
            f"Trainer: {self.name} data must be iterable (got {type(data).__name__})"
        )

    def shardable(self, data: Any) -> Any:
        """The dataset behind ``data`` that a sampler can split, or ``None``."""
        return None

    def default_val(self, train: Any) -> Any:
        """What validates when ``fit`` is given no ``val``: nothing, unless the training
        data holds its own validation part."""
        return None

    def distribute(self, rank: int, world: int) -> None:
        """Under torchrun: this process is ``rank`` of ``world``, for data that is not
        split by a sampler."""
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

    def tally(self, logits: Tensor, target: Tensor) -> tuple[Tensor, Tensor | int]:
        """``(correct, counted)`` predictions of one training batch, kept on the device."""
        return (logits.argmax(-1) == target).sum(), target.numel()

    def scores(self, *, f1: bool = False) -> Scores:
        """An empty accumulator of this task's metrics over a split."""
        return Scores(self, f1=f1)

    def labels(self, data: Any, phase: str) -> Tensor | None:
        """Every target of ``data`` for ``phase``, when they can be read without
        iterating it (``None`` otherwise): what :func:`check_labels` validates once."""
        data = getattr(data, "dataset", data)  # a loader's dataset
        if isinstance(data, TensorDataset) and len(data.tensors) >= 2:
            return data.tensors[1]
        if isinstance(data, ImageSplit):
            return data.labels
        if (
            isinstance(data, (list, tuple))
            and data
            and all(isinstance(getattr(g, "y", None), Tensor) for g in data)
        ):  # a plain list of graphs: every graph's labels, not the first batch's
            return torch.cat([g.y.reshape(-1) for g in data])
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

    @classmethod
    def direction(cls, name: str) -> str | None:
        """``"min"`` or ``"max"`` for a metric as the trainer logs it (``"val_loss"``,
        ``"test_mean_iou"``), or ``None`` for a name this task does not compute."""
        for prefix in ("val_", "test_", ""):
            if name.startswith(prefix) and name[len(prefix) :] in cls.directions:
                return cls.directions[name[len(prefix) :]]
        return None

    def report_line(self, scores: dict[str, float], spread: dict[str, float] | None = None) -> str:
        """``"test accuracy 0.8150 ± 0.0040, macro-F1 0.8012"``: the test scores a run
        prints, with their spread over runs where given."""
        parts = []
        for key, label in self.report_metrics:
            if key in scores:
                text = f"{label} {scores[key]:.4f}"
                parts.append(text + (f" ± {spread[key]:.4f}" if spread and key in spread else ""))
        return "test " + ", ".join(parts)

    def test_record(self, scores: dict[str, float]) -> dict[str, Any]:
        """What a run keeps of its test scores (``metrics.json``'s ``runs``)."""
        return {"test_accuracy": scores["accuracy"], "macro_f1": scores["macro_f1"]}

    def summarize(self, runs: list[dict[str, Any]], class_names: Any = None) -> dict[str, Any]:
        """Mean and spread over runs of each ``test_*`` figure of :meth:`test_record`."""
        keys = [k for k, v in runs[0].items() if k.startswith("test_") and isinstance(v, float)]
        return mean_and_spread(runs, keys)

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

    def prepare(self, data: Any, device: torch.device) -> Any:
        """A dataset whose images are not tensors (a torchvision dataset without
        ``ToTensor``) is named here, once, not by ``default_collate`` at the first batch."""
        if isinstance(data, Dataset) and not isinstance(data, TensorDataset):
            first = data[0] if len(data) else None  # type: ignore[arg-type]
            image = first[0] if isinstance(first, (list, tuple)) else first
            if first is not None and not isinstance(image, Tensor):
                raise GconvTypeError(
                    f"Trainer: image data must give image tensors (got a "
                    f"{type(image).__name__} from {type(data).__name__}); give the dataset "
                    "transform=torchvision.transforms.ToTensor(), or pass it through "
                    "gconv.data.load_dataset"
                )
        return data

    def to_device(self, batch: Any, device: torch.device) -> Any:
        return tuple(t.to(device, non_blocking=True) for t in batch)  # (x, y), or (x,)

    def forward(self, model: nn.Module, batch: Any, phase: str | None) -> tuple[Tensor, Tensor]:
        x, *y = batch  # unlabelled images (predict) come as (x,)
        return model(x), (y[0] if y else None)  # type: ignore[return-value]


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

    def default_val(self, train: Any) -> Any:
        return train if hasattr(train, "val_mask") else None  # the graph's val_mask

    def distribute(self, rank: int, world: int) -> None:
        self.shard = (rank, world)

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
            raise GconvValueError(f"Trainer: node data needs a {self.masks[phase]} (got none)")
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
        if isinstance(data, (Dataset, list, tuple)):  # a Subset of graphs included
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
        y = getattr(batch, "y", None)  # unlabelled graphs (predict) have none
        return model(batch), (y.view(-1) if y is not None else None)  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"GraphTask({self.input_kind!r})"
