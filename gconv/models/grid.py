"""A CNN and its graph twin: the same function on images and on pixel grid graphs.

``grid_cnn`` is a stack of 'same' convolutions with ReLU and a linear head; with
``pool=True`` a 2x2 max pool halves the grid between layers, as CNNs are built (each
layer a stage, e.g. widths doubling). ``grid_gnn`` is the same stack written with
:class:`gconv.nn.GridConv2d` on pixel grid graphs, and its pools with
:class:`gconv.nn.GridMaxPool2d` over the fine-to-coarse graphs. Their state dicts have
the same keys and shapes, so ``gnn.load_state_dict(cnn.state_dict())`` makes them
compute the same function. ``grid_gnn``'s ``layer`` may be another graph convolution
(:class:`gconv.nn.GCNLayer`): the same network with one weight for every neighbour
instead of one per offset.

The head reads the features through ``readout``: ``"flatten"`` (the default) keeps every
pixel's features in (row, column, channel) order, which on a pixel grid batch is the
order of the nodes, so the head knows where each feature is. Its width is set by the
``H x W`` of ``input_shape`` (28x28 when not given); both average-pool images or pixel
grids of another size to that grid first (``adaptive_avg_pool2d``); ``"mean"`` averages over
pixels (any image size, but position is lost: 0.79 validation accuracy on MNIST after one
epoch, against 0.986 for ``"flatten"``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from itertools import pairwise
from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from gconv.convert.grid_shape import grid_shape_of
from gconv.errors import GconvValueError
from gconv.graph.grid_conv import GridConv2d
from gconv.graph.grid_pool import GridMaxPool2d
from gconv.graph.readout import Readout
from gconv.models._base import Classifier
from gconv.models._inputs import graph_inputs
from gconv.models._levels import (
    Level,
    LevelCache,
    flat_grid,
    grid_batch_shape,
    grid_layer,
    grid_pool,
    head_width,
    layer_widths,
    min_grid_size,
)
from gconv.models._registry import register_model


class GridCNN(Classifier):
    """'Same' convolutions with ReLU and a linear head.

    With ``norm=True`` each convolution is followed by batch norm; with ``residual=True``
    a layer whose input and output widths agree adds its input to its output (after the
    ReLU); with ``pool=True`` a 2x2 max pool follows every layer but the last (each layer
    a stage); ``head_hidden`` makes the head a two-layer MLP.

    Shapes:
        - input: :math:`(B, C_{in}, H, W)`, ``input_shape`` for ``readout="flatten"``
        - output: :math:`(B, \\text{num\\_classes})`

    Example:
        >>> GridCNN(1, 10, input_shape=(1, 28, 28))(torch.randn(2, 1, 28, 28)).shape
        torch.Size([2, 10])
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
        pool: bool = False,
        head_hidden: int | None = None,
    ) -> None:
        super().__init__()
        widths = layer_widths("GridCNN", in_channels, hidden_channels)
        self.in_channels = in_channels
        self.readout, self.residual, self.pool = readout, residual, pool
        depth = len(hidden_channels)
        self.min_input_size = min_grid_size("GridCNN", in_channels, depth, pool, input_shape)
        self.grid = flat_grid(input_shape, len(hidden_channels), pool)
        self.convs = nn.ModuleList(
            nn.Conv2d(a, b, kernel_size, padding=kernel_size // 2) for a, b in pairwise(widths)
        )
        self.norms = nn.ModuleList(nn.BatchNorm2d(b) if norm else nn.Identity() for b in widths[1:])
        self.num_features = head_width("GridCNN", readout, widths[-1], self.grid)
        self.set_head(self.num_features, num_classes, head_hidden)

    def forward_features(self, data: Any) -> Tensor:
        x = self.images(data)
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms, strict=True)):
            if self.pool and i:
                x = F.max_pool2d(x, 2)
            # in place after batch norm (whose backward reads its input, not its output)
            out = F.relu(norm(conv(x)), inplace=isinstance(norm, nn.BatchNorm2d))
            x = x + out if self.residual and out.shape == x.shape else out
        if self.readout == "mean":
            return x.mean(dim=(2, 3))
        x = F.adaptive_avg_pool2d(x, self.grid)  # the identity at the size it was built for
        return x.permute(0, 2, 3, 1).flatten(1)  # (row, col, channel): the node order


class GridGNN(Classifier):
    """:class:`GridCNN` as message passing: ``GridConv2d`` layers, the same options, the
    same state dict (batch norm over nodes is batch norm over pixels).

    With ``pool=True`` each pool is :class:`gconv.nn.GridMaxPool2d` over the
    fine-to-coarse graph of the batch's grids, and every resolution's grid graph is built
    once per batch shape; the input must then be full pixel grids with ``grid_shape``
    (:func:`gconv.images_to_graphs`). ``dense=True`` lets the convolutions and pools take
    their image-view paths on these grids (the pools ``F.max_pool2d`` on the nodes' view);
    ``dense=False`` sends every message through PyG's ``propagate``. ``layer`` builds
    each layer from ``(in_channels, out_channels)``: :class:`gconv.nn.GridConv2d` (one
    weight per offset, the default), or a layer called as ``layer(x, edge_index,
    grid_shape=...)`` such as :class:`gconv.nn.GCNLayer` (one weight for every
    neighbour).

    Shapes:
        - input: a ``Batch`` of :math:`B` pixel grid graphs (``gconv.images_to_graphs``),
          ``x`` :math:`(B H W, C_{in})`
        - output: :math:`(B, \\text{num\\_classes})`

    Example:
        >>> import gconv
        >>> batch = gconv.images_to_graphs(torch.randn(2, 1, 28, 28))
        >>> GridGNN(1, 10, input_shape=(1, 28, 28))(batch).shape
        torch.Size([2, 10])
    """

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
        pool: bool = False,
        dense: bool = True,
        layer: Callable[[int, int], nn.Module] | None = None,
        head_hidden: int | None = None,
    ) -> None:
        super().__init__()
        widths = layer_widths("GridGNN", in_channels, hidden_channels)
        self.residual, self.pool, self.dense = residual, pool, dense
        depth = len(hidden_channels)
        self.min_input_size = min_grid_size("GridGNN", in_channels, depth, pool, input_shape)
        self.grid = flat_grid(input_shape, len(hidden_channels), pool)
        layer = layer or partial(GridConv2d, kernel_size=kernel_size)
        self.convs = nn.ModuleList(layer(a, b) for a, b in pairwise(widths))
        self.norms = nn.ModuleList(nn.BatchNorm1d(b) if norm else nn.Identity() for b in widths[1:])
        self.num_features = head_width("GridGNN", readout, widths[-1], self.grid)
        self.readout = Readout("mean") if readout == "mean" else None
        self.pooling = GridMaxPool2d(2) if pool else None
        self.levels = LevelCache(len(hidden_channels), decoder=False)
        self.set_head(self.num_features, num_classes, head_hidden)

    def forward_features(self, data: Any) -> Tensor:
        owner = type(self).__name__
        x, edge_index, batch, num_graphs = graph_inputs(owner, data)
        edge_type = getattr(data, "edge_type", None)
        if edge_type is None and any(isinstance(c, GridConv2d) for c in self.convs):
            raise GconvValueError(f"{owner}: the graph must carry edge_type (see gconv.grid_graph)")
        grid_shape = grid_shape_of(data)  # images_to_graphs batches, or grid_graph ones
        levels = self._levels(grid_shape, x)
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms, strict=True)):
            level = None
            if levels is not None:
                level = levels[i]
                if i:
                    x = self._pool(x, levels[i - 1], level)
                    edge_index, edge_type = level.grid
            out = norm(self._conv(conv, x, edge_index, edge_type, grid_shape, level))
            out = F.relu(out, inplace=isinstance(norm, nn.BatchNorm1d))  # as GridCNN's
            x = x + out if self.residual and out.shape == x.shape else out
        if levels is not None:  # the coarsest grid: each graph's pixels in row-major order
            b, h, w = levels[-1].shape
            mean = self.readout is not None
            return x.view(b, h * w, -1).mean(1) if mean else self._flatten(x, b, h, w)
        if self.readout is not None:
            return self.readout(x, batch, num_graphs)
        if grid_shape is not None:  # any size of grid, pooled to the head's, as GridCNN
            return self._flatten(x, *grid_shape)
        h, w = self.grid
        if x.size(0) != num_graphs * h * w:
            raise GconvValueError(
                f"{owner}: readout 'flatten' reads {h}x{w} pixel grids (input_shape); got "
                f"{x.size(0)} nodes in {num_graphs} graphs; use readout='mean' for other sizes"
            )
        return x.reshape(num_graphs, -1)  # each graph's pixels, row-major: one row each

    def _flatten(self, x: Tensor, b: int, h: int, w: int) -> Tensor:
        """Each graph's pixels in row-major order as one row, pooled to the head's grid
        first where they differ (``GridCNN``'s adaptive pool)."""
        if (h, w) != tuple(self.grid):
            image = x.view(b, h, w, -1).permute(0, 3, 1, 2)
            x = F.adaptive_avg_pool2d(image, self.grid).permute(0, 2, 3, 1)
        return x.reshape(b, -1)

    def _levels(self, grid_shape: Any, x: Tensor) -> list[Level] | None:
        if not self.pool:
            return None
        owner = type(self).__name__
        needs, pools = "pool=True needs", len(self.convs) - 1
        shape = grid_batch_shape(
            owner, grid_shape, x.size(0), self.min_input_size, needs=needs, pools=pools
        )
        return self.levels(shape, x.device)

    def _pool(self, x: Tensor, fine: Level, coarse: Level) -> Tensor:
        assert self.pooling is not None
        return grid_pool(self.pooling, x, fine, coarse, dense=self.dense)

    def _conv(
        self,
        conv: nn.Module,
        x: Tensor,
        edge_index: Tensor,
        edge_type: Tensor | None,
        grid_shape: Any,
        level: Level | None,
    ) -> Tensor:
        shape = level.shape if level is not None else grid_shape
        return grid_layer(conv, x, edge_index, edge_type, shape, dense=self.dense)


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
    pool: bool = False,
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
        pool=pool,
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
    pool: bool = False,
    dense: bool = True,
    layer: Callable[[int, int], nn.Module] | None = None,
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
        pool=pool,
        dense=dense,
        layer=layer,
        head_hidden=head_hidden,
    )
