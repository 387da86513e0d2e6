"""The comparison's rows: a model on an input, built as its community builds it.

A :class:`Row` carries what differs between rows: its input (:mod:`gconv.compare.inputs`),
its builder, the step its width moves in, and Dwivedi et al.'s published figure for each
dataset that has one. Each experiment (:mod:`gconv.compare.experiments`) lists its rows,
and :mod:`gconv.compare.protocol` solves each row's width to the budget; no module asks
a row's model or input name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from torch import Tensor, nn
from torch_geometric.nn import SimpleConv

from gconv.compare.inputs import Input, PixelGrid, Pixels, Superpixels
from gconv.convert import cnn_to_gnn
from gconv.graph.gated_gcn import GatedGCNLayer
from gconv.graph.gcn import GCNLayer
from gconv.models import DeepGNN, build_model
from gconv.models.graph_layers import EdgeLayer

# (row, width, layers, num_classes, input_shape) -> the row's network
Builder = Callable[["Row", int, int, int, tuple[int, int, int]], nn.Module]


@dataclass(frozen=True)
class Row:
    """One model on one input.

    Attributes:
        model: the model's name in the report (``"gcn"``).
        input: what it is given.
        build: ``build(row, width, layers, num_classes, input_shape)``, its network.
        published: Dwivedi et al.'s test accuracy of the same kind of model, by dataset
            (100k parameters, superpixels, trained to convergence).
        width_step: its width is a multiple of this (GAT's heads).
        start: the row whose trained weights (of the same seed) this row starts from,
            at that row's width; ``None``: it starts from its seed's initialization.
    """

    model: str
    input: Input
    build: Builder = field(repr=False, compare=False)
    published: Mapping[str, float] = field(default_factory=dict, compare=False)
    width_step: int = 1
    start: str | None = None

    @property
    def id(self) -> str:
        return f"{self.model}/{self.input.name}"

    def in_channels(self, shape: tuple[int, int, int]) -> int:
        return self.input.channels(shape)

    def network(
        self, width: int, layers: int, num_classes: int, shape: tuple[int, int, int]
    ) -> nn.Module:
        return self.build(self, width, layers, num_classes, shape)


def mlp(row: Row, width: int, layers: int, classes: int, shape: tuple[int, int, int]) -> Any:
    """``layers`` hidden layers of ``width`` on the flattened image."""
    return build_model(
        "mlp",
        in_channels=shape[0],
        num_classes=classes,
        input_shape=shape,
        hidden_channels=(width,) * layers,
        dropout=0.0,
        head_hidden=max(width // 2, 1),
    )


def grid_network(
    row: Row,
    width: int,
    layers: int,
    classes: int,
    shape: tuple[int, int, int],
    *,
    name: str = "grid_cnn",
    layer: Callable[..., nn.Module] | None = None,
) -> Any:
    """``layers`` stages of a 3x3 convolution, batch norm and ReLU, a 2x2 max pool
    between stages, widths doubling from ``width``, global average pooling, a two-layer
    head: ``grid_cnn`` on images, ``grid_gnn`` (its twin) on pixel grids, or with
    ``layer`` (:class:`gconv.nn.GCNLayer`) one weight for every neighbour."""
    stages = tuple(width * 2**i for i in range(layers))
    channels = row.in_channels(shape)
    options: dict[str, Any] = {} if layer is None else {"layer": layer}
    return build_model(
        name,
        in_channels=channels,
        num_classes=classes,
        input_shape=(channels, *shape[1:]),
        hidden_channels=stages,
        readout="mean",
        norm=True,
        pool=True,
        head_hidden=max(stages[-1] // 2, 1),
        **options,
    )


def converted_cnn(
    row: Row, width: int, layers: int, classes: int, shape: tuple[int, int, int]
) -> Any:
    """:func:`grid_network`'s CNN converted by :func:`gconv.convert.cnn_to_gnn`, to run
    on image graphs whose ``pos`` is in [0, 1] (one pixel: ``1 / (H - 1)``)."""
    cnn = grid_network(row, width, layers, classes, shape)
    return cnn_to_gnn(cnn, pixel_size=1.0 / max(shape[1] - 1, 1))


def deep_gnn(
    row: Row, width: int, layers: int, classes: int, shape: tuple[int, int, int], *, conv: str
) -> Any:
    """Dwivedi et al.'s form: an embedding, ``layers`` layers of ``width`` with batch
    norm, ReLU and residuals, a mean readout, a two-layer head (:class:`DeepGNN`)."""
    return DeepGNN(
        conv, row.in_channels(shape), classes, width, layers, head_hidden=max(width // 2, 1)
    )


def unet(
    row: Row,
    width: int,
    layers: int,
    classes: int,
    shape: tuple[int, int, int],
    *,
    name: str = "fcn",
    layer: Callable[..., nn.Module] | None = None,
) -> Any:
    """A per-pixel classifier: ``layers`` stages of one 3x3 convolution (``width``,
    doubling each stage) and a ``width``-wide decoder; ``fcn`` on images, ``grid_fcn``
    (its twin) on pixel grids, or that U-Net with ``layer`` in each stage."""
    options: dict[str, Any] = {} if layer is None else {"layer": layer}
    return build_model(
        name,
        in_channels=row.in_channels(shape),
        num_classes=classes,
        input_kind="images_dense" if name == "fcn" else "pixel_grid_dense",
        hidden_channels=tuple(width * 2**i for i in range(layers)),
        decoder_channels=width,
        convs_per_stage=1,
        **options,
    )


class NeighbourMean(nn.Module):
    """Dwivedi et al.'s GCN layer (``layers/gcn_layer.py`` of benchmarking-gnns, the
    default ``dgl_builtin=False``): ``W mean_{j -> i} h_j + b``, the mean of the
    in-neighbours without the node itself, unweighted and unnormalized otherwise;
    PyG's ``SimpleConv`` and a linear layer."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.aggregate = SimpleConv(aggr="mean")
        self.linear = nn.Linear(width, width)

    def forward(self, h: Tensor, edge_index: Tensor) -> Tensor:
        return self.linear(self.aggregate(h, edge_index))


def dwivedi_gcn(
    row: Row, width: int, layers: int, classes: int, shape: tuple[int, int, int]
) -> Any:
    """:func:`deep_gnn` with :class:`NeighbourMean` in place of the GCN layer."""
    layer = EdgeLayer("gcn_mean", NeighbourMean)
    return DeepGNN(
        layer, row.in_channels(shape), classes, width, layers, head_hidden=max(width // 2, 1)
    )


PIXELS, PIXEL_GRID, SUPERPIXEL = Pixels(), PixelGrid(), Superpixels()
PIXEL_GRID_POS = PixelGrid("pixel_grid_pos", positions=True)
SUPERPIXEL_INTENSITY = Superpixels("superpixel_intensity", intensity=True)
GCN_GRID = partial(GCNLayer, cached=True)  # one weight for all neighbours
GATED_GRID = partial(GatedGCNLayer, batch_norm=False, residual=False, fused=True)


def _published(mnist: float, cifar10: float) -> dict[str, float]:
    return {"mnist": mnist, "cifar10": cifar10}


# Dwivedi et al., Benchmarking Graph Neural Networks, Table 2 (100k parameters)
ROWS = [
    Row("mlp", PIXELS, mlp),
    Row("grid_cnn", PIXELS, grid_network),
    Row("gcn", PIXEL_GRID, partial(grid_network, name="grid_gnn", layer=GCN_GRID)),
    Row("gcn", SUPERPIXEL, partial(deep_gnn, conv="gcn"), _published(0.90705, 0.55710)),
    Row("sage", SUPERPIXEL, partial(deep_gnn, conv="sage"), _published(0.97312, 0.65767)),
    Row("gat", SUPERPIXEL, partial(deep_gnn, conv="gat"), _published(0.95535, 0.64223), 4),
    Row("gin", SUPERPIXEL, partial(deep_gnn, conv="gin"), _published(0.96485, 0.55255)),
    Row("gated_gcn", SUPERPIXEL, partial(deep_gnn, conv="gated_gcn"), _published(0.97340, 0.67312)),
    Row("grid_conv", Superpixels(directed=True), partial(deep_gnn, conv="grid_conv")),
    # grid_cnn's trained weights, converted, on superpixels: as converted, and fine-tuned
    Row("cnn_to_gnn", SUPERPIXEL_INTENSITY, converted_cnn, start="grid_cnn/pixels"),
]  # fmt: skip
# runnable with --rows, not in the default run: grid_gnn is grid_cnn's function (it is
# checked with the trained CNN's weights instead), positions are a variant of gcn's input
EXTRA_ROWS = [
    Row("grid_gnn", PIXEL_GRID, partial(grid_network, name="grid_gnn")),
    Row("gcn", PIXEL_GRID_POS, partial(grid_network, name="grid_gnn", layer=GCN_GRID)),
    # Dwivedi et al.'s GCN reads no edge weights: the row that isolates what they change
    Row("gcn", Superpixels("superpixel_unweighted", weighted=False), partial(deep_gnn, conv="gcn")),
    Row("gcn_mean", SUPERPIXEL, dwivedi_gcn),  # and their layer: the mean of the neighbours
]  # fmt: skip
ROW_IDS = [row.id for row in ROWS]
# segmentation of mnist_seg: a CNN and graph networks that classify every pixel node,
# all as U-Nets on the grid; grid_fcn is fcn's function (it is checked with the trained
# fcn's weights instead of trained); no published figures exist for these canvases
SEGMENTATION_ROWS = [
    Row("fcn", PIXELS, unet),
    Row("gcn", PIXEL_GRID, partial(unet, name="grid_fcn", layer=GCN_GRID)),
    Row("gated_gcn", PIXEL_GRID, partial(unet, name="grid_fcn", layer=GATED_GRID)),
]
SEGMENTATION_EXTRA_ROWS = [Row("grid_fcn", PIXEL_GRID, partial(unet, name="grid_fcn"))]
