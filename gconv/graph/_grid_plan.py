"""What :class:`~gconv.nn.GridConv2d` learns about a graph of typed edges, once per
graph: that its edges are valid, and whether it has at most one edge of each type into a
node (then a gather table replaces the scatter, see :mod:`gconv.graph._gather`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from gconv._checks import check_edge_index, check_tensor
from gconv._made_for import made_for
from gconv.errors import GconvTypeError, GconvValueError
from gconv.graph._gather import Buffers, reverse_slots, reverse_table
from gconv.graph._grid import grid_stencil


@dataclass
class Plan:
    """What was learned about one graph: validated, and how it can be computed."""

    table: Tensor | None = None  # [N, T] source of each (target, tap), N where absent
    taps: Tensor | None = None  # [T] the edge types that occur: the table's columns
    slots: Tensor | None = None  # [N, T] gradient row of each (source, tap), if unique
    unique: bool | None = None  # at most one edge per (target, edge type)?
    grid_masks: dict[tuple[int, ...], Tensor] = field(default_factory=dict)
    buffers: Buffers = field(default_factory=Buffers)  # im2col scratch, reused per call


def check_kernel(layer: Any, edge_type: Tensor) -> None:
    """A graph whose builder marked its edge types for another kernel is refused."""
    made = made_for(edge_type)
    if made is not None and made != tuple(layer.kernel):
        raise GconvValueError(
            f"{type(layer).__name__}: edge_type was made for a {made[0]}x{made[1]} kernel "
            f"(the graph's kernel_size), not this layer's {layer.kernel[0]}x{layer.kernel[1]}; "
            "build the graph with the layer's kernel_size (e.g. "
            "gconv.convert.images_to_graphs(..., kernel_size=k))"
        )


def check_typed_edges(layer: Any, num_nodes: int, edge_index: Tensor, edge_type: Tensor) -> None:
    """``edge_index`` within ``num_nodes`` and one ``edge_type`` in ``[0, layer.taps)``
    per edge, or gconv's error naming the layer."""
    owner = type(layer).__name__
    check_edge_index(owner, edge_index, num_nodes)
    edge_type = check_tensor(owner, "edge_type", edge_type)
    e = edge_index.size(1)
    if edge_type.dim() != 1 or edge_type.numel() != e:
        raise GconvValueError(
            f"{owner}: edge_type must have shape [{e}], one type per edge "
            f"(got {tuple(edge_type.shape)})"
        )
    if edge_type.dtype not in (torch.long, torch.int32):
        raise GconvTypeError(
            f"{owner}: edge_type must be an integer tensor (got {edge_type.dtype})"
        )
    check_kernel(layer, edge_type)
    taps = layer.taps
    if e > 0 and (int(edge_type.min()) < 0 or int(edge_type.max()) >= taps):
        raise GconvValueError(
            f"{owner}: edge_type values must lie in [0, {taps}) for kernel_size "
            f"{layer.kernel_size} (got [{int(edge_type.min())}, {int(edge_type.max())}])"
        )


def build_table(plan: Plan, num_nodes: int, edge_index: Tensor, edge_type: Tensor, k2: int) -> bool:
    """Fills ``plan``'s gather table when every (target, edge type) has one edge at most;
    returns whether it does (worked out once, then remembered)."""
    if plan.unique is not None:
        return plan.unique
    key = edge_index[1].long() * k2 + edge_type.long()
    counts = torch.bincount(key, minlength=num_nodes * k2)
    plan.unique = key.numel() == 0 or int(counts.max()) <= 1
    if plan.unique:
        table = torch.full((num_nodes * k2,), num_nodes, device=key.device)
        table[key] = edge_index[0].long()
        # only the taps that occur become columns (4-connectivity keeps 5 of 9)
        taps = counts.view(num_nodes, k2).sum(0).nonzero().view(-1)
        plan.table = table.view(num_nodes, k2)[:, taps].contiguous()
        plan.taps = taps
        reverse = reverse_table(plan.table, num_nodes)
        plan.slots = None if reverse is None else reverse_slots(reverse, num_nodes)
    return plan.unique


def grid_mask(
    layer: Any,
    plan: Plan,
    grid_shape: tuple[int, int, int],
    num_nodes: int,
    edge_index: Tensor,
    edge_type: Tensor,
) -> Tensor:
    """Checks that the graph is the grid ``grid_shape`` (once per shape); returns the taps
    it has, for the dense path."""
    shape = tuple(int(s) for s in grid_shape)
    owner = type(layer).__name__
    if layer.kernel[0] != layer.kernel[1] or layer.kernel[0] % 2 == 0:
        raise GconvValueError(
            f"{owner}: the dense path (grid_shape) needs an odd square kernel_size "
            f"(got {layer.kernel}); pass a conv_graph graph without grid_shape"
        )
    if shape not in plan.grid_masks:
        plan.grid_masks[shape] = grid_stencil(
            owner,
            edge_index,
            grid_shape,
            num_nodes,
            kernel_size=layer.kernel[0],
            edge_type=edge_type,
        )
    return plan.grid_masks[shape]


def block_diagonal(weight: Tensor, groups: int) -> Tensor:
    """A grouped convolution's weight ``[C_out, C_in / groups, k_h, k_w]`` as
    ``[C_out, C_in, k_h, k_w]``, zero between an output block and the other blocks'
    inputs."""
    if groups == 1:
        return weight
    out_channels, per_group = weight.size(0), weight.size(1)
    full = weight.new_zeros(out_channels, per_group * groups, *weight.shape[2:])
    og = out_channels // groups
    for block in range(groups):
        rows = slice(block * og, (block + 1) * og)
        full[rows, block * per_group : (block + 1) * per_group] = weight[rows]
    return full
