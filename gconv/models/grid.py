"""A CNN and its graph twin: the same function on images and on pixel grid graphs.

``grid_cnn`` is a stack of 'same' convolutions with ReLU and a linear head. ``grid_gnn``
is the same stack written with :class:`gconv.nn.GridConv2d` on pixel grid graphs. Their
state dicts have the same keys and shapes, so ``gnn.load_state_dict(cnn.state_dict())``
makes them compute the same function.

The head reads the features through ``readout``: ``"flatten"`` (the default) keeps every
pixel's features in (row, column, channel) order, which on a pixel grid batch is the
order of the nodes, so the head knows where each feature is. Its width is set by the
``H x W`` of ``input_shape`` (28x28 when not given); ``grid_cnn`` average-pools images of
another size to that grid first, ``grid_gnn`` needs grids of that size; ``"mean"`` averages over
pixels (any image size, but position is lost: 0.79 validation accuracy on MNIST after one
epoch, against 0.986 for ``"flatten"``).
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from gconv._checks import check_choice, check_positive_int
from gconv.graph.grid_conv import GridConv2d
from gconv.graph.readout import Readout
from gconv.models._base import Classifier
from gconv.models._inputs import check_input_shape, graph_inputs
from gconv.models._registry import register_model

READOUTS = ("flatten", "mean")


def _widths(owner: str, in_channels: int, hidden_channels: tuple[int, ...]) -> list[int]:
    check_positive_int(owner, "in_channels", in_channels)
    if not hidden_channels:
        raise ValueError(f"{owner}: hidden_channels must name at least one layer (got ())")
    return [in_channels, *hidden_channels]


def _head_width(
    owner: str, readout: str, channels: int, input_shape: tuple[int, int, int] | None
) -> int:
    check_choice(owner, "readout", readout, READOUTS)
    if readout == "mean":
        return channels
    h, w = _flat_grid(input_shape)
    return channels * h * w


def _flat_grid(input_shape: tuple[int, int, int] | None) -> tuple[int, int]:
    """The ``H x W`` a flatten head is sized for: MNIST's unless told."""
    return (28, 28) if input_shape is None else (int(input_shape[-2]), int(input_shape[-1]))


class GridCNN(Classifier):
    """'Same' convolutions with ReLU and a linear head; no spatial pooling.

    With ``norm=True`` each convolution is followed by batch norm; with ``residual=True``
    a layer whose input and output widths agree adds its input to its output (after the
    ReLU); ``head_hidden`` makes the head a two-layer MLP.
    """

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        hidden_channels: tuple[int, ...] = (16, 32, 32),
        kernel_size: int = 3,
        readout: str = "flatten",
        input_shape: tuple[int, int, int] | None = None,
        *,
        norm: bool = False,
        residual: bool = False,
        head_hidden: int | None = None,
    ) -> None:
        super().__init__()
        widths = _widths("GridCNN", in_channels, hidden_channels)
        check_input_shape("GridCNN", input_shape, in_channels, 1)
        self.in_channels = in_channels
        self.readout, self.residual = readout, residual
        self.grid = _flat_grid(input_shape)
        self.convs = nn.ModuleList(
            nn.Conv2d(a, b, kernel_size, padding=kernel_size // 2) for a, b in pairwise(widths)
        )
        self.norms = nn.ModuleList(nn.BatchNorm2d(b) if norm else nn.Identity() for b in widths[1:])
        self.num_features = _head_width("GridCNN", readout, widths[-1], input_shape)
        self.set_head(self.num_features, num_classes, head_hidden)

    def forward_features(self, data: Any) -> Tensor:
        x = self.images(data)
        for conv, norm in zip(self.convs, self.norms, strict=True):
            out = F.relu(norm(conv(x)))
            x = x + out if self.residual and out.shape == x.shape else out
        if self.readout == "mean":
            return x.mean(dim=(2, 3))
        x = F.adaptive_avg_pool2d(x, self.grid)  # the identity at the size it was built for
        return x.permute(0, 2, 3, 1).flatten(1)  # (row, col, channel): the node order


class GridGNN(Classifier):
    """:class:`GridCNN` as message passing: ``GridConv2d`` layers, the same options, the
    same state dict (batch norm over nodes is batch norm over pixels)."""

    input_kind = "pixel_grid"

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        hidden_channels: tuple[int, ...] = (16, 32, 32),
        kernel_size: int = 3,
        readout: str = "flatten",
        input_shape: tuple[int, int, int] | None = None,
        *,
        norm: bool = False,
        residual: bool = False,
        head_hidden: int | None = None,
    ) -> None:
        super().__init__()
        widths = _widths("GridGNN", in_channels, hidden_channels)
        check_input_shape("GridGNN", input_shape, in_channels, 1)
        self.residual = residual
        self.grid = _flat_grid(input_shape)
        self.convs = nn.ModuleList(GridConv2d(a, b, kernel_size) for a, b in pairwise(widths))
        self.norms = nn.ModuleList(nn.BatchNorm1d(b) if norm else nn.Identity() for b in widths[1:])
        self.num_features = _head_width("GridGNN", readout, widths[-1], input_shape)
        self.readout = Readout("mean") if readout == "mean" else None
        self.set_head(self.num_features, num_classes, head_hidden)

    def forward_features(self, data: Any) -> Tensor:
        x, edge_index, batch, num_graphs = graph_inputs("GridGNN", data)
        edge_type = getattr(data, "edge_type", None)
        if edge_type is None:
            raise ValueError("GridGNN: the graph must carry edge_type (see gconv.grid_graph)")
        grid_shape = getattr(data, "grid_shape", None)
        for conv, norm in zip(self.convs, self.norms, strict=True):
            out = F.relu(norm(conv(x, edge_index, edge_type, grid_shape=grid_shape)))
            x = x + out if self.residual and out.shape == x.shape else out
        if self.readout is not None:
            return self.readout(x, batch, num_graphs)
        h, w = self.grid
        if x.size(0) != num_graphs * h * w:
            raise ValueError(
                f"GridGNN: readout 'flatten' reads {h}x{w} pixel grids (input_shape); got "
                f"{x.size(0)} nodes in {num_graphs} graphs; use readout='mean' for other sizes"
            )
        # each graph's nodes are its pixels in row-major order: one row per graph
        return x.reshape(num_graphs, -1)


@register_model(inputs=("images",))
def grid_cnn(
    in_channels: int,
    num_classes: int,
    *,
    input_shape: tuple[int, int, int] | None = None,
    hidden_channels: tuple[int, ...] = (16, 32, 32),
    kernel_size: int = 3,
    readout: str = "flatten",
    norm: bool = False,
    residual: bool = False,
    head_hidden: int | None = None,
) -> GridCNN:
    """The CNN twin of ``grid_gnn``; the flatten head is sized by ``input_shape``."""
    return GridCNN(
        in_channels,
        num_classes,
        hidden_channels,
        kernel_size,
        readout,
        input_shape,
        norm=norm,
        residual=residual,
        head_hidden=head_hidden,
    )


@register_model(inputs=("pixel_grid",))
def grid_gnn(
    in_channels: int,
    num_classes: int,
    *,
    input_shape: tuple[int, int, int] | None = None,
    hidden_channels: tuple[int, ...] = (16, 32, 32),
    kernel_size: int = 3,
    readout: str = "flatten",
    norm: bool = False,
    residual: bool = False,
    head_hidden: int | None = None,
) -> GridGNN:
    """``GridConv2d`` stack on pixel grid graphs; the same function as ``grid_cnn``."""
    return GridGNN(
        in_channels,
        num_classes,
        hidden_channels,
        kernel_size,
        readout,
        input_shape,
        norm=norm,
        residual=residual,
        head_hidden=head_hidden,
    )
