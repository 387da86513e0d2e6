"""The graphs of a pixel grid at every resolution of a pooling hierarchy.

A CNN that halves its grid between stages is, as message passing, a batch of pixel grid
graphs per resolution, a fine-to-coarse graph between each resolution and the next (a
2x2 max pool, :func:`gconv.graph.strided_grid_graph`) and, for a decoder, a
coarse-to-fine graph back (a 4x4 transposed convolution of stride 2,
:func:`gconv.graph.transposed_grid_graph`). They are built once per batch shape and
shared by every layer, so each layer checks its graph once.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from gconv._checks import check_choice, check_positive_int
from gconv.convert import batched_grid_graph
from gconv.errors import GconvValueError
from gconv.graph.gated_gcn import GatedGCNLayer
from gconv.graph.grid_conv import GridConv2d
from gconv.graph.grid_pool import GridMaxPool2d
from gconv.graph.transposed_grid import strided_grid_graph, transposed_grid_graph
from gconv.models._inputs import check_input_shape


@dataclass(frozen=True)
class Level:
    """One resolution of a batch: its grid and the graphs that act on it."""

    shape: tuple[int, int, int]  # (B, H, W)
    grid: tuple[Tensor, Tensor]  # 3x3 grid: edge_index, edge_type
    self_loops: tuple[Tensor, Tensor] | None  # 1x1 grid (a decoder's 1x1 scores)
    down: tuple[Tensor, Tensor] | None  # to the next level: max pool 2x2
    up: tuple[Tensor, Tensor] | None  # from the next level: transposed 4x4, stride 2

    @property
    def num_nodes(self) -> int:
        b, h, w = self.shape
        return b * h * w


def pooled_sizes(height: int, width: int, depth: int) -> list[tuple[int, int]]:
    """``depth`` grid sizes, each half the last (floor, as ``nn.MaxPool2d(2)``)."""
    sizes = [(height, width)]
    for _ in range(depth - 1):
        h, w = sizes[-1]
        sizes.append((h // 2, w // 2))
    return sizes


def grid_levels(
    batch_size: int,
    height: int,
    width: int,
    depth: int,
    device: torch.device,
    *,
    decoder: bool = True,
) -> list[Level]:
    """The graphs of ``depth`` resolutions; ``decoder=False`` leaves out the 1x1 and
    coarse-to-fine graphs that only a decoder uses."""
    sizes = pooled_sizes(height, width, depth)
    levels = []
    for i, (h, w) in enumerate(sizes):
        down = up = None
        if i + 1 < depth:
            ei, et, _ = strided_grid_graph(h, w, 2, stride=2, batch_size=batch_size, device=device)
            down = (ei, et)
        if i + 1 < depth and decoder:
            ch, cw = sizes[i + 1]
            ei, et, _ = transposed_grid_graph(
                ch,
                cw,
                4,
                stride=2,
                padding=1,
                output_size=(h, w),
                batch_size=batch_size,
                device=device,
            )
            up = (ei, et)
        loops = batched_grid_graph(batch_size, h, w, kernel_size=1, device=device)
        levels.append(
            Level(
                (batch_size, h, w),
                batched_grid_graph(batch_size, h, w, device=device),
                loops if decoder else None,
                down,
                up,
            )
        )
    return levels


def grid_batch_shape(
    owner: str, grid_shape: Any, num_nodes: int, min_size: int, *, needs: str, pools: int
) -> tuple[int, int, int]:
    """The batch's ``(B, H, W)``: present, as many pixels as nodes, and no side under
    ``min_size`` (the smallest grid that ``pools`` 2x2 pools leave a pixel of)."""
    if grid_shape is None:
        raise GconvValueError(
            f"{owner}: {needs} full pixel grids with grid_shape (see gconv.images_to_graphs)"
        )
    b, h, w = (int(s) for s in grid_shape)
    if min(h, w) < min_size:
        raise GconvValueError(
            f"{owner}: grids must be at least {min_size}x{min_size} for {pools} pools (got {h}x{w})"
        )
    if num_nodes != b * h * w:
        raise GconvValueError(
            f"{owner}: grid_shape {(b, h, w)} has {b * h * w} pixels (got {num_nodes} nodes)"
        )
    return b, h, w


def grid_layer(
    conv: torch.nn.Module,
    x: Tensor,
    edge_index: Tensor,
    edge_type: Tensor | None,
    grid_shape: Any,
    *,
    dense: bool,
) -> Tensor:
    """One layer on one level: :class:`gconv.nn.GridConv2d` reads the edge types,
    :class:`gconv.nn.GatedGCNLayer` gives its :math:`\\hat h` (the stage's norm and
    ReLU follow; the grid's edges carry no features), any other layer (``GCNLayer``,
    ...) reads only the edges; ``dense`` takes the layer's stencil path on
    ``grid_shape``, otherwise message passing (``propagate``)."""
    out: Tensor
    if isinstance(conv, GatedGCNLayer):
        if dense:
            return conv.grid_aggregate(x, edge_index, grid_shape)
        return conv.gate_and_aggregate(x, edge_index, None)[0]
    if isinstance(conv, GridConv2d):
        assert edge_type is not None
        if dense:
            out = conv(x, edge_index, edge_type, grid_shape=grid_shape)
        else:
            out = conv(x, edge_index, edge_type, path="scatter")
    else:
        out = conv(x, edge_index, grid_shape=grid_shape if dense else None)
    return out


def grid_pool(pool: GridMaxPool2d, x: Tensor, fine: Level, coarse: Level, *, dense: bool) -> Tensor:
    """``pool`` from ``fine`` to ``coarse``: over the strided graph (``propagate``), or,
    ``dense``, as ``F.max_pool2d`` on the nodes viewed as a channels-last ``(B, C, H, W)``
    batch (no copy). The graph was built for these grids, so both give the same values
    and gradients (GridMaxPool2d routes a tie's gradient to the first maximum, as
    ``F.max_pool2d``)."""
    if not dense:
        assert fine.down is not None
        return pool(x, fine.down[0], size=(x.size(0), coarse.num_nodes))
    (b, h, w), c = fine.shape, x.size(1)
    grid = x.view(b, h, w, c).permute(0, 3, 1, 2)
    y = F.max_pool2d(
        grid, pool.kernel_size, pool.stride, pool.padding, pool.dilation, pool.ceil_mode
    )
    return y.permute(0, 2, 3, 1).reshape(coarse.num_nodes, c)


class LevelCache:
    """The levels of the last few batch shapes (a training batch, its last one, and
    validation's), built on first use."""

    def __init__(self, depth: int, *, decoder: bool = True, size: int = 4) -> None:
        self.depth, self.decoder, self.size = depth, decoder, size
        self._levels: OrderedDict[tuple[Any, ...], list[Level]] = OrderedDict()

    def __call__(self, grid_shape: tuple[int, int, int], device: torch.device) -> list[Level]:
        key = (*grid_shape, str(device))
        if key not in self._levels:
            b, h, w = grid_shape
            self._levels[key] = grid_levels(b, h, w, self.depth, device, decoder=self.decoder)
            if len(self._levels) > self.size:
                self._levels.popitem(last=False)
        self._levels.move_to_end(key)
        return self._levels[key]


READOUTS = ("flatten", "mean")


def layer_widths(owner: str, in_channels: int, hidden_channels: tuple[int, ...]) -> list[int]:
    check_positive_int(owner, "in_channels", in_channels)
    if not hidden_channels:
        raise GconvValueError(f"{owner}: hidden_channels must name at least one layer (got ())")
    return [in_channels, *hidden_channels]


def head_width(owner: str, readout: str, channels: int, grid: tuple[int, int]) -> int:
    check_choice(owner, "readout", readout, READOUTS)
    return channels if readout == "mean" else channels * grid[0] * grid[1]


def flat_grid(
    input_shape: tuple[int, int, int] | None, depth: int = 1, pool: bool = False
) -> tuple[int, int]:
    """The ``H x W`` a flatten head reads: MNIST's unless told, halved by every pool."""
    h, w = (28, 28) if input_shape is None else (int(input_shape[-2]), int(input_shape[-1]))
    return pooled_sizes(h, w, depth)[-1] if pool else (h, w)


def min_grid_size(owner: str, in_channels: int, depth: int, pool: bool, input_shape: Any) -> int:
    """The smallest grid side that ``depth - 1`` pools leave at least one pixel of."""
    size = 2 ** (depth - 1) if pool else 1
    check_input_shape(owner, input_shape, in_channels, size)
    return size
