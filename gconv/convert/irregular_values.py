r"""What flows between the layers of a converted CNN on image graphs that are not
pixel grids (:mod:`gconv.convert.irregular`): the nodes' features with their positions,
edges and graphs, and the CNN's functions and methods rewritten for them, node by node
(as :mod:`gconv.convert.grid_values` does for pixel grids).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import torch
from torch import Tensor

from gconv.convert.grid_values import ELEMENTWISE, ELEMENTWISE_METHODS, OWNER, Grid
from gconv.errors import GconvValueError


@dataclass(frozen=True, eq=False)
class Irregular:
    """Node features ``x`` ``[N, C]`` of a batch of image graphs, with their positions,
    edges (no self-loops), graph of each node, and this level's pixel spacing (rows,
    columns) in ``pos``'s units; ``channels_last`` where the CNN had permuted its tensor
    to ``[B, H, W, C]``; ``cache`` holds the level's typed edges and cells."""

    x: Tensor
    pos: Tensor
    edge_index: Tensor
    batch: Tensor
    num_graphs: int
    spacing: tuple[float, float]
    channels_last: bool = False  # the CNN's tensor permuted to [B, H, W, C] (ConvNeXt)
    cache: dict[Any, Any] = field(default_factory=dict, repr=False)

    def with_x(self, x: Tensor) -> Irregular:
        return replace(self, x=x)

    def readout(self, reduce: str = "mean") -> Tensor:
        """``[B, C]``: each graph's nodes pooled."""
        return reduce_nodes(self.x, self.batch, self.num_graphs, reduce)


def from_data(data: Any, pixel_size: float) -> Irregular:
    """A PyG ``Data`` or ``Batch`` with ``x``, ``pos`` ``[N, 2]`` and ``edge_index``."""
    x, pos = data.x, getattr(data, "pos", None)
    if not isinstance(pos, Tensor) or pos.dim() != 2 or pos.shape != (x.size(0), 2):
        got = tuple(pos.shape) if isinstance(pos, Tensor) else type(pos).__name__
        raise GconvValueError(
            f"{OWNER}: graphs that are not pixel grids need pos of shape [{x.size(0)}, 2] "
            f"(row, column) (got {got})"
        )
    edge_index = data.edge_index
    edge_index = edge_index[:, edge_index[0] != edge_index[1]]
    batch = getattr(data, "batch", None)
    if batch is None:
        batch = torch.zeros(x.size(0), dtype=torch.long, device=x.device)
    graphs = int(getattr(data, "num_graphs", 1) or 1)
    spacing = (float(pixel_size), float(pixel_size))
    return Irregular(x, pos.to(x.dtype), edge_index, batch, graphs, spacing)


def reduce_nodes(x: Tensor, index: Tensor, size: int, reduce: str) -> Tensor:
    """``[size, C]``: the max or mean of the rows of ``x`` with each ``index`` (zero
    where none). The result is not kept for the backward pass, so a CNN may change it
    in place (an in-place dropout after a readout)."""
    if reduce == "mean":
        count = torch.bincount(index, minlength=size).clamp_min(1).to(x.dtype).view(-1, 1)
        return x.new_zeros(size, x.size(1)).index_add(0, index, x) / count
    out = x.new_zeros(size, x.size(1))
    expanded = index.view(-1, 1).expand_as(x)
    return out.scatter_reduce(0, expanded, x, "amax", include_self=False).clone()


def _operand(value: Any, nodes: Irregular, where: str) -> Any:
    """What a node-wise function takes: the nodes' features, a per-graph grid or
    ``[B, C, 1, 1]`` tensor (a squeeze-excitation scale) repeated over each graph's
    nodes, a number or a per-channel tensor (``[C, 1, 1]``, ConvNeXt's layer scale) as
    one row."""
    if isinstance(value, Irregular):
        if value.x.size(0) != nodes.x.size(0):
            raise GconvValueError(f"{OWNER}: {where} combines graphs of different levels")
        return value.x
    if isinstance(value, Grid) and value.shape[1:] == (1, 1):
        return value.x[nodes.batch]
    if not isinstance(value, Tensor) or value.dim() == 0:
        return value
    channels = nodes.x.size(1)
    if value.numel() in (1, channels):  # per channel, in any of its layouts
        return value.reshape(1, -1)
    if value.dim() == 4 and value.shape == (nodes.num_graphs, channels, 1, 1):
        return value.reshape(nodes.num_graphs, channels)[nodes.batch]
    raise GconvValueError(
        f"{OWNER}: {where} combines an image graph of {channels} channels with a tensor of "
        f"shape {tuple(value.shape)}; it takes numbers, per-channel and per-image tensors"
    )


def _elementwise(fn: Any) -> Any:
    def apply(where: str, *args: Any, **kwargs: Any) -> Any:
        nodes = next(a for a in args if isinstance(a, Irregular))
        return nodes.with_x(fn(*(_operand(a, nodes, where) for a in args), **kwargs))

    return apply


def _cat(where: str, values: Any, dim: int = 0) -> Irregular:
    first = values[0]
    channel_dim = 3 if first.channels_last else 1
    if dim % 4 != channel_dim or not all(isinstance(v, Irregular) for v in values):
        raise GconvValueError(f"{OWNER}: {where} must concatenate image graphs along channels")
    return first.with_x(torch.cat([_operand(v, first, where) for v in values], dim=1))


def _mean(where: str, value: Irregular, dim: Any = None, keepdim: bool = False) -> Any:
    dims = sorted(d % 4 for d in ((dim,) if isinstance(dim, int) else dim or ()))
    if dims != ([1, 2] if value.channels_last else [2, 3]):
        raise GconvValueError(f"{OWNER}: {where} must average over the rows and columns")
    pooled = value.readout()
    return Grid(pooled, (value.num_graphs, 1, 1), value.channels_last) if keepdim else pooled


def _chunk(where: str, value: Irregular, chunks: int, dim: int = 0) -> list[Irregular]:
    if dim % 4 != (3 if value.channels_last else 1):
        raise GconvValueError(f"{OWNER}: {where} must split an image graph along channels")
    return [value.with_x(part) for part in value.x.chunk(chunks, dim=1)]


def _permute(where: str, value: Irregular, *dims: Any) -> Irregular:
    order = tuple(dims[0]) if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
    if order in ((0, 2, 3, 1), (0, 3, 1, 2)) and value.channels_last == (order[1] == 3):
        return replace(value, channels_last=not value.channels_last)
    raise GconvValueError(
        f"{OWNER}: {where} permutes an image graph by {order}; a converted network moves "
        "channels last and back only"
    )


FUNCTIONS: dict[Any, Any] = {fn: _elementwise(fn) for fn in ELEMENTWISE}
FUNCTIONS.update({torch.cat: _cat, torch.mean: _mean, torch.chunk: _chunk})
METHODS: dict[str, Any] = {
    name: _elementwise(getattr(Tensor, name)) for name in ELEMENTWISE_METHODS
}
METHODS.update(
    {
        "mean": _mean,
        "chunk": _chunk,
        "permute": _permute,
        "contiguous": lambda where, value, *a, **k: value,
    }
)
