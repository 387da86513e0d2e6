"""``fcn`` as message passing on pixel grids: the same network, the same state dict.

Each resolution of the encoder is a batch of pixel grid graphs; a max pool is
:class:`gconv.nn.GridMaxPool2d` over the fine-to-coarse graph
(:func:`gconv.graph.strided_grid_graph`), a 1x1 score is :class:`gconv.nn.GridConv2d`
with ``kernel_size=1`` over each pixel's self loop, and upsampling is
:class:`gconv.nn.GridConvTranspose2d` over the coarse-to-fine graph
(:func:`gconv.graph.transposed_grid_graph`) onto the skip's grid. The graphs of every
level are built once per batch shape and shared, so each layer checks its graph once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from gconv.convert.grid_shape import grid_shape_of
from gconv.errors import GconvValueError
from gconv.graph.grid_conv import GridConv2d
from gconv.graph.grid_conv_transpose import GridConvTranspose2d
from gconv.graph.grid_pool import GridMaxPool2d
from gconv.models._base import Classifier
from gconv.models._inputs import graph_inputs
from gconv.models._levels import Level, LevelCache, grid_batch_shape, grid_layer, grid_pool
from gconv.models._registry import register_model
from gconv.models.fcn import bilinear_, conv_pairs


class GridEncoder(nn.Module):
    """The convolutions and batch norms of ``fcn``'s encoder, under the same keys;
    ``layer(in_channels, out_channels)`` builds each one (a 3x3 ``GridConv2d`` unless
    told).

    Shapes:
        - holds layers only; :class:`GridFCN` runs them, each on its stage's grid graph

    Example:
        >>> encoder = GridEncoder([(1, 8), (8, 16)])
        >>> len(encoder.convs), len(encoder.norms)
        (2, 2)
    """

    def __init__(
        self, pairs: list[tuple[int, int]], layer: Callable[[int, int], nn.Module] | None = None
    ) -> None:
        super().__init__()
        layer = layer or (lambda a, b: GridConv2d(a, b, 3))
        self.convs = nn.ModuleList(layer(a, b) for a, b in pairs)
        self.norms = nn.ModuleList(nn.BatchNorm1d(b) for _, b in pairs)


class GridFCN(Classifier):
    """:class:`~gconv.models.fcn.FCN` with ``fcn``'s encoder as message passing: one
    prediction per pixel node of a batch of pixel grid graphs.

    The input is a ``Batch`` from :func:`gconv.images_to_graphs` (with ``grid_shape``),
    any grid size from ``2 ** (stages - 1)``. ``dense=True`` lets the convolutions and
    pools take their image-view paths on these checked grids; ``dense=False`` sends
    every message through PyG's ``propagate``. Both compute ``fcn``'s function.

    ``layer`` builds each encoder layer from ``(in_channels, out_channels)``; another
    graph layer (called as ``layer(x, edge_index, grid_shape=...)``, such as
    :class:`gconv.nn.GCNLayer`) gives the same U-Net on the grid with that operator in
    place of the 3x3 convolution: the same pools, scores and transposed graphs back.

    Shapes:
        - input: a ``Batch`` of :math:`B` pixel grid graphs of :math:`H \\times W`,
          ``x`` :math:`(B H W, C_{in})`
        - output: :math:`(B H W, \\text{num\\_classes})`, a prediction per pixel node

    Example:
        >>> import gconv
        >>> batch = gconv.images_to_graphs(torch.randn(2, 1, 32, 32))
        >>> GridFCN(1, 11)(batch).shape
        torch.Size([2048, 11])
    """

    input_kind = "pixel_grid_dense"

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        hidden_channels: tuple[int, ...] = (16, 32, 64),
        decoder_channels: int = 32,
        *,
        convs_per_stage: int = 2,
        dense: bool = True,
        layer: Callable[[int, int], nn.Module] | None = None,
    ) -> None:
        super().__init__()
        pairs = conv_pairs("GridFCN", in_channels, hidden_channels, convs_per_stage)
        self.in_channels, self.dense = in_channels, dense
        self.convs_per_stage = convs_per_stage
        self.encoder = GridEncoder(pairs, layer)
        self.pool = GridMaxPool2d(2)
        self.score = nn.ModuleList(GridConv2d(c, decoder_channels, 1) for c in hidden_channels)
        self.up = nn.ModuleList(
            GridConvTranspose2d(decoder_channels, decoder_channels, 4, stride=2, padding=1)
            for _ in hidden_channels[1:]
        )
        for up in self.up:
            bilinear_(up.weight)  # type: ignore[arg-type]
            nn.init.zeros_(up.bias)  # type: ignore[arg-type]
        self.depth = len(hidden_channels)
        self.min_input_size = 2 ** (self.depth - 1)
        self.num_features = decoder_channels
        self.set_head(decoder_channels, num_classes)
        self.levels = LevelCache(self.depth)  # the graphs of every resolution

    def forward_features(self, data: Any) -> Tensor:
        owner = type(self).__name__
        x, _, _, _ = graph_inputs(owner, data)
        shape = grid_batch_shape(
            owner,
            grid_shape_of(data),
            x.size(0),
            self.min_input_size,
            needs="the graphs must be",
            pools=self.depth - 1,
        )
        edge_type = getattr(data, "edge_type", None)
        if edge_type is None:
            raise GconvValueError(f"{owner}: the graph must carry edge_type (see gconv.grid_graph)")
        levels = self.levels(shape, x.device)
        # the data's own grid at full resolution (the dense path checks it is the grid)
        grids = [(data.edge_index, edge_type)] + [level.grid for level in levels[1:]]
        features = []
        for i, (conv, norm) in enumerate(zip(self.encoder.convs, self.encoder.norms, strict=True)):
            stage = i // self.convs_per_stage
            if i and i % self.convs_per_stage == 0:
                features.append(x)
                x = self._pool(x, levels[stage - 1], levels[stage])
            edge_index, types = grids[stage]
            on = levels[stage].shape
            x = torch.relu(norm(grid_layer(conv, x, edge_index, types, on, dense=self.dense)))
        features.append(x)
        y = self._score(-1, features[-1], levels[-1])
        for i in range(len(features) - 2, -1, -1):
            y = self._up(i, y, levels[i + 1], levels[i]) + self._score(i, features[i], levels[i])
        return y

    def _pool(self, x: Tensor, fine: Level, coarse: Level) -> Tensor:
        return grid_pool(self.pool, x, fine, coarse, dense=self.dense)

    def _score(self, i: int, x: Tensor, level: Level) -> Tensor:
        assert level.self_loops is not None
        edge_index, edge_type = level.self_loops
        return grid_layer(self.score[i], x, edge_index, edge_type, level.shape, dense=self.dense)

    def _up(self, i: int, y: Tensor, coarse: Level, fine: Level) -> Tensor:
        assert fine.up is not None
        edge_index, edge_type = fine.up
        layer = self.up[i]
        if self.dense:
            size = fine.shape[1:]
            return layer(y, edge_index, edge_type, grid_shape=coarse.shape, output_size=size)
        return layer(y, edge_index, edge_type, size=(y.size(0), fine.num_nodes))


@register_model(inputs=("pixel_grid_dense",))
def grid_fcn(
    in_channels: int,
    num_classes: int,
    *,
    hidden_channels: tuple[int, ...] = (16, 32, 64),
    decoder_channels: int = 32,
    convs_per_stage: int = 2,
    dense: bool = True,
    layer: Callable[[int, int], nn.Module] | None = None,
    input_shape: tuple[int, int, int] | None = None,
) -> GridFCN:
    """``fcn`` as message passing on pixel grid graphs; loads ``fcn``'s state dict."""
    del input_shape  # any size
    return GridFCN(
        in_channels,
        num_classes,
        hidden_channels,
        decoder_channels,
        convs_per_stage=convs_per_stage,
        dense=dense,
        layer=layer,
    )
