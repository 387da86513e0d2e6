"""The comparison's rows: a model on an input, built as its community builds it.

Each experiment (:mod:`gconv.compare.experiments`) lists its rows and builds them with
the builders here, at a width that :mod:`gconv.compare.protocol` solves to the budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from torch import nn

from gconv.errors import GconvValueError
from gconv.graph.gated_gcn import GatedGCNLayer
from gconv.graph.gcn import GCNLayer
from gconv.models import DeepGNN, build_model


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
# segmentation of mnist_seg: a CNN and graph networks that classify every pixel node,
# all as U-Nets on the grid; grid_fcn is fcn's function (it is checked with the trained
# fcn's weights instead of trained); no published figures exist for these canvases
SEGMENTATION_ROWS = [
    Row("fcn", "pixels"),
    Row("gcn", "pixel_grid"),
    Row("gated_gcn", "pixel_grid"),
]
SEGMENTATION_EXTRA_ROWS = [Row("grid_fcn", "pixel_grid")]


def classification_model(row: Row, width: int, layers: int, num_classes: int) -> nn.Module:
    """The row's classifier at ``width``, with a mean readout and a two-layer MLP head
    (its input's width, half that, classes):

    - ``mlp``: ``layers`` hidden layers of ``width``;
    - ``grid_cnn`` (and its twin ``grid_gnn``): ``layers`` stages of a 3x3 convolution,
      batch norm and ReLU, a 2x2 max pool between stages, widths doubling from
      ``width``, global average pooling;
    - ``gcn`` on pixel grids: the same network with :class:`gconv.nn.GCNLayer`
      (symmetric normalization with self loops, as on superpixels) in place of each
      convolution, over every resolution's grid graph;
    - graph networks on superpixels: Dwivedi et al.'s form (an embedding, ``layers``
      layers of ``width`` with batch norm, ReLU and residuals), :class:`DeepGNN`.
    """
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


def segmentation_model(row: Row, width: int, layers: int, num_classes: int) -> nn.Module:
    """The row's per-pixel classifier at ``width``: ``fcn`` and ``grid_fcn`` have
    ``layers`` stages of one 3x3 convolution (``width``, doubling each stage) and a
    ``width``-wide decoder; ``gcn`` and ``gated_gcn`` are the same U-Net on the grid
    (the pools, scores and transposed graphs of ``grid_fcn``) with
    :class:`gconv.nn.GCNLayer` or :class:`gconv.nn.GatedGCNLayer` in each stage, followed
    by the stage's batch norm and ReLU."""
    if row.model in ("fcn", "grid_fcn", "gcn", "gated_gcn"):
        options: dict[str, Any] = {}
        if row.model == "gcn":  # grid_fcn's U-Net with one weight for all neighbours
            options["layer"] = partial(GCNLayer, cached=True)
        if row.model == "gated_gcn":  # gates per edge; the stage has the norm and ReLU
            options["layer"] = partial(GatedGCNLayer, batch_norm=False, residual=False, fused=True)
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
    raise GconvValueError(f"compare: {row.id} is not a segmentation row")
