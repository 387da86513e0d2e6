"""The experiment's protocol: one parameter budget, one recipe, several seeds.

Every row (:mod:`gconv.compare.rows`) is a model and an input. Its width is solved so
that its parameter count falls within 10% of the budget; everything else (optimizer,
learning rate, schedule, batch size, epochs, seeds) is the protocol's, the same for
every row, and what its task changes is its experiment's
(:mod:`gconv.compare.experiments`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import torch
from torch import nn

from gconv._checks import check_positive_int
from gconv.compare.experiments import DEFAULT_EPOCHS, QUICK_LIMIT, Experiment, get_experiment
from gconv.compare.rows import EXTRA_ROWS, ROW_IDS, ROWS, SEGMENTATION_ROWS, Row
from gconv.data import LoadedDataset
from gconv.errors import GconvValueError

__all__ = [
    "EXTRA_ROWS",
    "QUICK_LIMIT",
    "ROWS",
    "ROW_IDS",
    "SEGMENTATION_ROWS",
    "Protocol",
    "Row",
    "count_parameters",
    "get_rows",
    "row_ids",
    "row_model",
    "row_width",
    "solve_width",
]

DEFAULT_SEEDS = 3  # the fewest that give a spread worth reading
# the fields added with the user's own data: in the key only where they differ
DATA_FIELDS = ("dataset", "input_shape", "num_classes", "data_key", "patience")
SEGMENT_DENSITY = 150 / (32 * 32)  # Dwivedi et al.'s CIFAR-10 superpixels: up to 150
# other data: at most this many epochs, stopped once validation has not improved for
# PATIENCE (Dwivedi et al. stop on a learning-rate floor instead; a patience is the
# trainer-neutral form of "trained until it stops improving")
UNTIL_STOPPED, PATIENCE = 200, 10
TOLERANCE = 0.10  # a row's parameters must be within 10% of the budget


@dataclass(frozen=True)
class Protocol:
    """Everything that is the same for every row, written into the report."""

    budget: int = 100_000
    layers: int = 4
    epochs: int = DEFAULT_EPOCHS
    seeds: int = DEFAULT_SEEDS
    optimizer: str = "adam"
    lr: float = 1e-3  # Dwivedi et al.'s initial rate for MNIST; not tuned on test
    schedule: str = "cosine"
    batch_size: int = 128
    readout: str = "mean"
    head: str = "2-layer MLP (width, width/2, classes)"
    superpixels: dict[str, Any] = field(
        default_factory=lambda: {"n_segments": 75, "compactness": 0.25, "k": 8}
    )
    quick: bool = False
    amp: bool = False  # bfloat16 autocast on the CPU (sparse products stay float32)
    version: int = 2  # bumped whenever a row's network or data changes
    task: str = "classification"
    canvases: tuple[int, int, int] | None = None  # segmentation: train, val, test canvases
    # the data: a registered name or the user's own source (a folder of images), its
    # images' shape and classes, and for the user's data a digest of its content
    dataset: str = "mnist"
    input_shape: tuple[int, int, int] = (1, 28, 28)
    num_classes: int = 10
    data_key: str | None = None
    patience: int | None = None  # stop a row this many epochs after its best validation

    def __post_init__(self) -> None:
        for name in ("budget", "layers", "epochs", "seeds", "batch_size"):
            check_positive_int("compare", name, getattr(self, name))
        if not self.lr > 0:
            raise GconvValueError(f"compare: lr must be > 0 (got {self.lr!r})")
        get_experiment(self.task)  # a known task, or the error that lists them

    @classmethod
    def for_task(cls, task: str = "classification", **overrides: Any) -> Protocol:
        """The default protocol of a task's experiment (its ``defaults``, and under
        ``quick=True`` its ``quick`` ones), with ``overrides``."""
        experiment = get_experiment(task)
        defaults = {"task": task, **experiment.defaults}
        if overrides.get("quick"):
            defaults.update(experiment.quick)
        own = defaults.get("dataset", cls.dataset)
        if overrides.get("dataset", own) != own and "epochs" not in overrides:
            # other data than the one whose epoch count was validated: every row trains
            # until its validation score has not improved for PATIENCE epochs
            defaults.update(epochs=UNTIL_STOPPED, patience=PATIENCE)
        return cls(**{**defaults, **overrides})

    @property
    def experiment(self) -> Experiment:
        """What this protocol's task compares: its rows, data, metric and report."""
        return get_experiment(self.task)

    @property
    def metric(self) -> str:
        """What every row reports on test: ``accuracy``, or ``mean_iou`` (segmentation)."""
        return self.experiment.metric

    def key(self) -> str:
        """Identifies what a finished seed of a row depends on (not the seed count, so a
        run with more seeds reuses the seeds it has). The data's fields count only where
        they differ from the experiment's own data: the seeds trained before those fields
        existed keep their key."""
        fields = {k: v for k, v in asdict(self).items() if k != "seeds"}
        own = asdict(Protocol.for_task(self.task))
        for name in DATA_FIELDS:
            if json.dumps(fields[name]) == json.dumps(own[name]):
                del fields[name]
        return hashlib.sha1(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:12]

    @property
    def own_data(self) -> bool:
        """Whether the data is the experiment's own (MNIST), whose epochs were validated."""
        return self.dataset == Protocol.for_task(self.task).dataset

    def fitted(self, data: LoadedDataset) -> Protocol:
        """This protocol on loaded ``data``: its shape and classes, and for data other
        than the experiment's own, a digest of its content and superpixels scaled to
        its images (CIFAR-10's density, Dwivedi et al.'s 150 regions on 32x32, unless
        set). Rows train until validation stops improving there unless ``epochs`` was
        set (``patience`` stays as given)."""
        assert data.input_shape is not None
        changes: dict[str, Any] = {
            "input_shape": tuple(data.input_shape),
            "num_classes": data.num_classes,
        }
        if self.own_data:
            return replace(self, **changes)
        c, h, w = data.input_shape
        changes["data_key"] = data_digest(data)
        if self.superpixels == Protocol.for_task(self.task).superpixels:
            changes["superpixels"] = {
                "n_segments": max(round(SEGMENT_DENSITY * h * w), 4),
                "compactness": 10.0 if c == 3 else 0.25,  # Lab colour, or grey in [0, 1]
                "k": self.superpixels.get("k", 8),
            }
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def row_ids(task: str = "classification", *, extra: bool = False) -> list[str]:
    """The default rows' ids, in the table's order; with ``extra`` the others after."""
    return [row.id for row in get_experiment(task).rows_with(extra=extra)]


def get_rows(ids: list[str] | None = None, task: str = "classification") -> list[Row]:
    """The rows with these ids (default or extra), in the table's order; the default
    rows for ``None``."""
    experiment = get_experiment(task)
    if ids is None:
        return experiment.rows_with()
    every = experiment.rows_with(extra=True)
    unknown = [i for i in ids if i not in row_ids(task, extra=True)]
    if unknown:
        raise GconvValueError(
            f"compare: rows must be from {', '.join(row_ids(task, extra=True))} "
            f"(got {', '.join(unknown)})"
        )
    return [row for row in every if row.id in ids]


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def solve_width(build: Callable[[int], nn.Module], budget: int, step: int = 1) -> int:
    """The width (a multiple of ``step``) whose parameter count is nearest ``budget``;
    models are built on the meta device, so a search costs no memory."""

    def params(width: int) -> int:
        with torch.device("meta"):
            return count_parameters(build(width))

    lo, hi = 1, 4096  # in units of step
    while lo < hi:  # the smallest width with at least budget parameters
        mid = (lo + hi) // 2
        if params(mid * step) >= budget:
            hi = mid
        else:
            lo = mid + 1
    candidates = [w * step for w in (lo - 1, lo) if w >= 1]
    return min(candidates, key=lambda w: abs(params(w) - budget))


def row_model(row: Row, width: int, protocol: Protocol) -> nn.Module:
    """The row's network at ``width`` under ``protocol`` (its layers, and its data's
    shape and classes)."""
    return row.network(width, protocol.layers, protocol.num_classes, protocol.input_shape)


def data_digest(data: LoadedDataset) -> str:
    """A digest of a dataset's images and labels, split by split: what keys the seeds
    and caches of the user's own data."""
    digest = hashlib.sha1()
    for split in (data.train, data.val, data.test):
        for tensor in (split.pixels, split.labels):
            digest.update(tensor.contiguous().numpy().tobytes())
    return digest.hexdigest()[:12]


def row_width(row: Row, protocol: Protocol) -> int:
    step = row.width_step
    width = solve_width(lambda w: row_model(row, w, protocol), protocol.budget, step)
    with torch.device("meta"):
        params = count_parameters(row_model(row, width, protocol))
    if abs(params - protocol.budget) > TOLERANCE * protocol.budget:
        raise GconvValueError(
            f"compare: no width puts {row.id} within 10% of {protocol.budget:,} parameters "
            f"(nearest: {params:,} at width {width})"
        )
    return width
