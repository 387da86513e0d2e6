r"""What flows between the layers of a converted CNN: node features of a batch of pixel
grids, and the CNN's functions and methods rewritten for them.

A CNN's activation ``[B, C, H, W]`` is, on the grid graph, the node features
``x[(b H + i) W + j] = act[b, :, i, j]`` (:func:`gconv.convert.images_to_graphs`' order). A
per-pixel operation (an activation, a residual sum, a channel concatenation, a
squeeze-excitation scale) acts on ``x`` node by node; a global pool or a flatten is a
readout over each graph's nodes.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from gconv.errors import GconvValueError

OWNER = "cnn_to_gnn"


@dataclass(frozen=True)
class Grid:
    """Node features ``x`` ``[B*H*W, C]`` of ``B`` grids of ``H x W``; ``channels_last``
    where the CNN had permuted its tensor to ``[B, H, W, C]`` (ConvNeXt's blocks)."""

    x: Tensor
    shape: tuple[int, int, int]  # (B, H, W)
    channels_last: bool = False

    @property
    def nchw(self) -> torch.Size:
        b, h, w = self.shape
        c = self.x.size(1)
        return torch.Size((b, h, w, c) if self.channels_last else (b, c, h, w))

    def images(self) -> Tensor:
        """``[B, C, H, W]``: the node features as the CNN's tensor (a view, no copy)."""
        b, h, w = self.shape
        return self.x.view(b, h, w, -1).permute(0, 3, 1, 2)

    def with_x(self, x: Tensor) -> Grid:
        return replace(self, x=x)


def from_images(images: Tensor) -> Grid:
    b, c, h, w = images.shape
    return Grid(images.permute(0, 2, 3, 1).reshape(b * h * w, c), (b, h, w))


def _per_node(value: Any, grid: Grid, where: str) -> Any:
    """A tensor combined with a grid's nodes: a number or a per-channel tensor as is, a
    per-image ``[B, C, 1, 1]`` tensor repeated over each image's nodes."""
    if not isinstance(value, Tensor) or value.dim() == 0:
        return value
    b, h, w = grid.shape
    c = grid.x.size(1)
    dims = list(value.shape)
    per_channel = [1] * (4 - len(dims)) + dims
    if grid.channels_last:  # [.., 1, 1, C]
        per_channel = [per_channel[0], per_channel[3], per_channel[1], per_channel[2]]
    lead, chans, rows, cols = per_channel
    if rows == cols == 1 and chans in (1, c):
        if lead == 1:
            return value.reshape(1, chans)
        if lead == b:
            return value.reshape(b, 1, chans).expand(b, h * w, chans).reshape(b * h * w, chans)
    raise GconvValueError(
        f"{OWNER}: {where} combines the grid {tuple(grid.nchw)} with a tensor of shape "
        f"{tuple(value.shape)}; a converted network takes numbers, per-channel and per-image "
        "tensors only"
    )


def _elementwise(fn: Callable[..., Any]) -> Callable[..., Any]:
    def apply(where: str, *args: Any, **kwargs: Any) -> Any:
        grids = [a for a in args if isinstance(a, Grid)]
        grid = max(grids, key=lambda g: g.x.size(0))  # a 1x1 grid spreads over the other
        values = []
        for value in args:
            if isinstance(value, Grid) and value.shape == (grid.shape[0], 1, 1) != grid.shape:
                value = value.x.view(grid.shape[0], -1, 1, 1)  # squeeze-excitation's scale
            elif isinstance(value, Grid) and (
                value.shape != grid.shape or value.channels_last != grid.channels_last
            ):
                raise GconvValueError(
                    f"{OWNER}: {where} combines grids of shapes {tuple(grid.nchw)} and "
                    f"{tuple(value.nchw)}"
                )
            values.append(value.x if isinstance(value, Grid) else _per_node(value, grid, where))
        return grid.with_x(fn(*values, **kwargs))

    return apply


def _cat(where: str, tensors: Any, dim: int = 0) -> Any:
    grids = list(tensors)
    first = grids[0]
    channel_dim = 3 if first.channels_last else 1
    if not all(isinstance(g, Grid) and g.shape == first.shape for g in grids) or dim not in (
        channel_dim,
        channel_dim - 4,
    ):
        raise GconvValueError(
            f"{OWNER}: {where} must concatenate grids of one size along channels (got dim {dim})"
        )
    return first.with_x(torch.cat([g.x for g in grids], dim=1))


def flatten(grid: Grid, where: str = "flatten") -> Tensor:
    """``[B, C*H*W]`` in the CNN's order (channel, then row, then column; for a
    channels-last grid row, column, channel): a flatten readout of each graph."""
    b, h, w = grid.shape
    if grid.channels_last:
        return grid.x.reshape(b, -1)
    return grid.x.view(b, h * w, -1).transpose(1, 2).reshape(b, -1)


def _flatten(where: str, grid: Grid, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    if start_dim != 1 or end_dim != -1:
        raise GconvValueError(f"{OWNER}: {where} must flatten from dim 1 (got {start_dim})")
    return flatten(grid, where)


def _view(where: str, grid: Grid, *shape: Any) -> Tensor:
    """``x.view(B, -1)`` and ``x.reshape(x.size(0), -1)``: a flatten readout."""
    dims = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    if (
        len(dims) == 2
        and int(dims[0]) == grid.shape[0]
        and int(dims[1]) in (-1, grid.x.numel() // grid.shape[0])
    ):
        return flatten(grid, where)
    raise GconvValueError(
        f"{OWNER}: {where} reshapes the grid {tuple(grid.nchw)} to {tuple(dims)}; a "
        "converted network reshapes a grid only to [B, -1] (a flatten readout)"
    )


def _mean(where: str, grid: Grid, dim: Any = None, keepdim: bool = False, **kw: Any) -> Any:
    """``x.mean((2, 3))``: the mean readout of each graph (``keepdim``: a 1x1 grid)."""
    dims = sorted(d % 4 for d in ((dim,) if isinstance(dim, int) else dim or ()))
    spatial = [1, 2] if grid.channels_last else [2, 3]
    if dims != spatial:
        raise GconvValueError(f"{OWNER}: {where} must average over the grid's rows and columns")
    b, h, w = grid.shape
    pooled = grid.x.view(b, h * w, -1).mean(1, **kw)
    return Grid(pooled, (b, 1, 1), grid.channels_last) if keepdim else pooled


def permute(where: str, grid: Grid, *dims: Any) -> Grid:
    order = tuple(dims[0]) if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
    if order == (0, 2, 3, 1) and not grid.channels_last:
        return replace(grid, channels_last=True)
    if order == (0, 3, 1, 2) and grid.channels_last:
        return replace(grid, channels_last=False)
    raise GconvValueError(
        f"{OWNER}: {where} permutes the grid {tuple(grid.nchw)} by {order}; a converted "
        "network moves channels last and back only"
    )


def _movedim(where: str, grid: Grid, source: int, destination: int) -> Grid:
    move = (source % 4, destination % 4)
    if move == (1, 3) and not grid.channels_last:
        return replace(grid, channels_last=True)
    if move == (3, 1) and grid.channels_last:
        return replace(grid, channels_last=False)
    raise GconvValueError(
        f"{OWNER}: {where} moves dim {source} of the grid {tuple(grid.nchw)} to "
        f"{destination}; a converted network moves channels last and back only"
    )


def _size(where: str, grid: Grid, dim: int | None = None) -> Any:
    return grid.nchw if dim is None else grid.nchw[dim]


def _chunk(where: str, grid: Grid, chunks: int, dim: int = 0) -> list[Grid]:
    if dim % 4 != (3 if grid.channels_last else 1):
        raise GconvValueError(f"{OWNER}: {where} must split a grid along channels (got dim {dim})")
    return [grid.with_x(part) for part in grid.x.chunk(chunks, dim=1)]


def channel_shuffle(where: str, grid: Grid, groups: int) -> Grid:
    """ShuffleNet's shuffle: channel ``g * (C / groups) + i`` moves to ``i * groups + g``,
    node by node."""
    n, c = grid.x.shape
    return grid.with_x(grid.x.view(n, groups, c // groups).transpose(1, 2).reshape(n, c))


def crop(grid: Grid, index: Any) -> Grid:
    """``x[..., :h, :w]`` and the like: the nodes of a window of each grid (rows and
    columns sliced with step 1; batch and channels whole)."""
    dims = list(index) if isinstance(index, tuple) else [index]
    if Ellipsis in dims:
        at = dims.index(Ellipsis)
        dims[at : at + 1] = [slice(None)] * (5 - len(dims))
    dims += [slice(None)] * (4 - len(dims))
    if grid.channels_last:
        dims = [dims[0], dims[3], dims[1], dims[2]]
    whole = slice(None)
    spatial = all(isinstance(d, slice) and d.step in (None, 1) for d in dims[2:])
    if len(dims) != 4 or dims[0] != whole or dims[1] != whole or not spatial:
        raise GconvValueError(
            f"{OWNER}: indexing a grid {tuple(grid.nchw)} by {index!r} is not converted; a "
            "converted network crops rows and columns only"
        )
    b, h, w = grid.shape
    window = grid.x.view(b, h, w, -1)[:, dims[2], dims[3]]
    return Grid(window.reshape(-1, grid.x.size(1)), (b, window.size(1), window.size(2)),
                grid.channels_last)  # fmt: skip


def _contiguous(where: str, grid: Grid, *args: Any, **kwargs: Any) -> Grid:
    return grid


ELEMENTWISE: list[Any] = [
    operator.add, operator.sub, operator.mul, operator.truediv, operator.iadd, operator.imul,
    torch.add, torch.sub, torch.mul, torch.div, torch.relu, torch.sigmoid, torch.tanh,
    F.relu, F.relu6, F.hardswish, F.hardsigmoid, F.silu, F.gelu, F.sigmoid, F.tanh, F.elu,
    F.leaky_relu, F.hardtanh, F.mish, F.softplus, F.dropout,
]  # fmt: skip
FUNCTIONS: dict[Any, Callable[..., Any]] = {fn: _elementwise(fn) for fn in ELEMENTWISE}
FUNCTIONS.update(
    {
        torch.cat: _cat,
        torch.flatten: _flatten,
        torch.mean: _mean,
        torch.chunk: _chunk,
        torch.movedim: _movedim,
    }
)
ELEMENTWISE_METHODS = (
    "add",
    "add_",
    "mul",
    "mul_",
    "sub",
    "div",
    "relu",
    "relu_",
    "sigmoid",
    "tanh",
)
METHODS: dict[str, Callable[..., Any]] = {
    name: _elementwise(getattr(Tensor, name)) for name in ELEMENTWISE_METHODS
}
METHODS.update(
    {
        "flatten": _flatten,
        "view": _view,
        "reshape": _view,
        "mean": _mean,
        "permute": permute,
        "movedim": _movedim,
        "size": _size,
        "contiguous": _contiguous,
        "chunk": _chunk,
    }
)
ATTRIBUTES = {"shape": lambda grid: grid.nchw}
