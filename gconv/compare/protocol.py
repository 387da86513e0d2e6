"""The experiment's protocol and rows: one parameter budget, one recipe, several seeds.

Every row is a model and an input. Its width is solved so that its parameter count falls
within 10% of the budget; everything else (optimizer, learning rate, schedule, batch
size, epochs, seeds) is the protocol's, the same for every row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

import torch
from torch import nn

from gconv._checks import check_choice, check_positive_int
from gconv.graph.gcn import GCNLayer
from gconv.models import DeepGNN, build_model

# every row trains this many epochs, the cosine schedule ending at zero. The check: the
# two slowest learners at twice the epochs must gain under half a point of validation
# accuracy. 12 failed (gcn/pixel_grid +2.70, gcn/superpixel +1.06 at 24), 24 failed
# (gcn/pixel_grid +1.00, gcn/superpixel +1.12 at 48); 48's own check, at 96, is in
# docs/compare.md's "The epoch count"
DEFAULT_EPOCHS = 48
DEFAULT_SEEDS = 3  # the fewest that give a spread worth reading
QUICK_LIMIT = 600  # training images of --quick; validation and test shrink alike
TOLERANCE = 0.10  # a row's parameters must be within 10% of the budget
TASKS = ("classification", "segmentation")
METRICS = {"classification": "accuracy", "segmentation": "mean_iou"}  # what a row reports


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

    def __post_init__(self) -> None:
        for name in ("budget", "layers", "epochs", "seeds", "batch_size"):
            check_positive_int("compare", name, getattr(self, name))
        if not self.lr > 0:
            raise ValueError(f"compare: lr must be > 0 (got {self.lr!r})")
        check_choice("compare", "task", self.task, TASKS)

    @classmethod
    def for_task(cls, task: str = "classification", **overrides: Any) -> Protocol:
        """The default protocol of a task, with ``overrides``.

        Segmentation keeps everything of classification's but what dense prediction
        changes: no readout (a prediction per pixel), a per-pixel head, mnist_seg
        canvases (1,000 to train, 200 to validate, 500 to test: each has 4,096 labelled
        pixels, and the gated GCN on 64x64 pixel grids costs about 1 s a canvas an epoch
        on 2 cores), batches of 8 canvases and 2 epochs.
        """
        check_choice("compare", "task", task, TASKS)
        if task == "segmentation":
            defaults: dict[str, Any] = {
                "task": task,
                "epochs": 2,
                "batch_size": 8,
                "readout": "none (a prediction per pixel)",
                "head": "per pixel: linear (FCN), 2-layer MLP (graph networks)",
                "superpixels": {},
                "canvases": (1000, 200, 500),
            }
            if overrides.get("quick"):  # a tenth of the canvases
                defaults["canvases"] = (100, 20, 50)
            overrides = {**defaults, **overrides}
        return cls(**overrides)

    @property
    def metric(self) -> str:
        """What every row reports on test: ``accuracy``, or ``mean_iou`` (segmentation)."""
        return METRICS[self.task]

    def key(self) -> str:
        """Identifies what a finished seed of a row depends on (not the seed count, so a
        run with more seeds reuses the seeds it has)."""
        fields = {k: v for k, v in asdict(self).items() if k != "seeds"}
        return hashlib.sha1(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:12]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Row:
    """One model on one input; ``published`` is Dwivedi et al.'s MNIST test accuracy of
    the same kind of model on superpixels (100k parameters, trained to convergence)."""

    model: str
    input: str
    published: float | None = None

    @property
    def id(self) -> str:
        return f"{self.model}/{self.input}"

    @property
    def in_channels(self) -> int:
        return {"pixels": 1, "pixel_grid": 1, "pixel_grid_pos": 3, "superpixel": 3}[self.input]


# Dwivedi et al., Benchmarking Graph Neural Networks, Table 2 (MNIST, 100k parameters)
ROWS = [
    Row("mlp", "pixels"),
    Row("grid_cnn", "pixels"),
    Row("gcn", "pixel_grid"),
    Row("gcn", "superpixel", 0.90705),
    Row("sage", "superpixel", 0.97312),
    Row("gat", "superpixel", 0.95535),
    Row("gin", "superpixel", 0.96485),
    Row("gated_gcn", "superpixel", 0.97340),
    Row("grid_conv", "superpixel"),
]
# runnable with --rows, not in the default run: grid_gnn is grid_cnn's function (it is
# checked with the trained CNN's weights instead), positions are a variant of gcn's input
EXTRA_ROWS = [
    Row("grid_gnn", "pixel_grid"),
    Row("gcn", "pixel_grid_pos"),
]
ROW_IDS = [row.id for row in ROWS]
# segmentation of mnist_seg: a CNN, its twin as message passing, and graph networks that
# classify every pixel node; no published figures exist for these canvases
SEGMENTATION_ROWS = [
    Row("fcn", "pixels"),
    Row("grid_fcn", "pixel_grid"),
    Row("gcn", "pixel_grid"),
    Row("gated_gcn", "pixel_grid"),
]
ROWS_BY_TASK = {"classification": ROWS, "segmentation": SEGMENTATION_ROWS}
EXTRA_BY_TASK = {"classification": EXTRA_ROWS, "segmentation": []}


def row_ids(task: str = "classification", *, extra: bool = False) -> list[str]:
    """The default rows' ids, in the table's order; with ``extra`` the others after."""
    rows = ROWS_BY_TASK[task] + (EXTRA_BY_TASK[task] if extra else [])
    return [row.id for row in rows]


def get_rows(ids: list[str] | None = None, task: str = "classification") -> list[Row]:
    """The rows with these ids (default or extra), in the table's order; the default
    rows for ``None``."""
    if ids is None:
        return list(ROWS_BY_TASK[task])
    every = ROWS_BY_TASK[task] + EXTRA_BY_TASK[task]
    unknown = [i for i in ids if i not in row_ids(task, extra=True)]
    if unknown:
        raise ValueError(
            f"compare: rows must be from {', '.join(row_ids(task, extra=True))} "
            f"(got {', '.join(unknown)})"
        )
    return [row for row in every if row.id in ids]


def build_row_model(
    row: Row, width: int, layers: int, num_classes: int = 10, task: str = "classification"
) -> nn.Module:
    """The row's network at ``width``, each as its community builds it, with a mean
    readout and a two-layer MLP head (its input's width, half that, classes):

    - ``mlp``: ``layers`` hidden layers of ``width``;
    - ``grid_cnn`` (and its twin ``grid_gnn``): ``layers`` stages of a 3x3 convolution,
      batch norm and ReLU, a 2x2 max pool between stages, widths doubling from
      ``width``, global average pooling;
    - ``gcn`` on pixel grids: the same network with :class:`gconv.nn.GCNLayer`
      (symmetric normalization with self loops, as on superpixels) in place of each
      convolution, over every resolution's grid graph;
    - graph networks on superpixels: Dwivedi et al.'s form (an embedding, ``layers``
      layers of ``width`` with batch norm, ReLU and residuals), :class:`DeepGNN`.

    For segmentation: ``fcn`` and ``grid_fcn`` have ``layers`` stages of one 3x3
    convolution (``width``, doubling each stage) and a ``width``-wide decoder; ``gcn`` is
    the same U-Net on the grid with :class:`gconv.nn.GCNLayer` in each stage (the pools,
    scores and transposed graphs of ``grid_fcn``); ``gated_gcn`` still has ``layers``
    layers at full resolution and a head on every node."""
    if task == "segmentation":
        return _segmentation_model(row, width, layers, num_classes)
    head = max(width // 2, 1)
    if row.model == "mlp":
        return build_model(
            "mlp",
            in_channels=1,
            num_classes=num_classes,
            input_shape=(1, 28, 28),
            hidden_channels=(width,) * layers,
            dropout=0.0,
            head_hidden=head,
        )
    if row.model in ("grid_cnn", "grid_gnn") or row.input.startswith("pixel_grid"):
        stages = tuple(width * 2**i for i in range(layers))
        options: dict[str, Any] = {}
        if row.model == "gcn":  # the grid_gnn network with one weight for all neighbours
            options["layer"] = partial(GCNLayer, cached=True)
        return build_model(
            "grid_cnn" if row.model == "grid_cnn" else "grid_gnn",
            in_channels=row.in_channels,
            num_classes=num_classes,
            input_shape=(row.in_channels, 28, 28),
            hidden_channels=stages,
            readout="mean",
            norm=True,
            pool=True,
            head_hidden=max(stages[-1] // 2, 1),
            **options,
        )
    return DeepGNN(row.model, row.in_channels, num_classes, width, layers, head_hidden=head)


def _segmentation_model(row: Row, width: int, layers: int, num_classes: int) -> nn.Module:
    if row.model in ("fcn", "grid_fcn", "gcn"):
        options: dict[str, Any] = {}
        if row.model == "gcn":  # grid_fcn's U-Net with one weight for all neighbours
            options["layer"] = partial(GCNLayer, cached=True)
        return build_model(
            "fcn" if row.model == "fcn" else "grid_fcn",
            in_channels=1,
            num_classes=num_classes,
            input_kind="images_dense" if row.model == "fcn" else "pixel_grid_dense",
            hidden_channels=tuple(width * 2**i for i in range(layers)),
            decoder_channels=width,
            convs_per_stage=1,
            **options,
        )
    head = max(width // 2, 1)
    return DeepGNN(row.model, 1, num_classes, width, layers, readout=None, head_hidden=head)


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
    """The row's network at ``width`` under ``protocol`` (its layers, classes and task)."""
    classes = 11 if protocol.task == "segmentation" else 10
    return build_row_model(row, width, protocol.layers, classes, protocol.task)


def row_width(row: Row, protocol: Protocol) -> int:
    step = 4 if row.model == "gat" else 1  # four heads, concatenated
    width = solve_width(lambda w: row_model(row, w, protocol), protocol.budget, step)
    with torch.device("meta"):
        params = count_parameters(row_model(row, width, protocol))
    if abs(params - protocol.budget) > TOLERANCE * protocol.budget:
        raise ValueError(
            f"compare: no width puts {row.id} within 10% of {protocol.budget:,} parameters "
            f"(nearest: {params:,} at width {width})"
        )
    return width
