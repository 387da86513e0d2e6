r"""Pools and interpolation as aggregations over window graphs: each output pixel
sums (or takes the largest of) the input pixels its window reaches, divided by the
window's size for an average, or weighted by ``F.interpolate``'s own axis weights.
The graphs are built once per batch shape (the converted network's cache)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gconv.convert.grid_values import OWNER, Grid, from_images
from gconv.graph.conv_graph import conv_padding, pair, window_graph

Graphs = Callable[[tuple[Any, ...], Callable[[], Any]], Any]  # (key, build) -> cached


def _windows(starts: Tensor, ends: Tensor, size: int) -> tuple[Tensor, Tensor]:
    """``(input, output)`` index pairs of 1-D windows ``[starts[o], ends[o])``."""
    position = torch.arange(size)
    inside = (position >= starts.view(-1, 1)) & (position < ends.view(-1, 1))
    out, source = inside.nonzero(as_tuple=True)
    return source, out


def _pool_graph(
    shape: tuple[int, int, int], rows: tuple[Tensor, Tensor], cols: tuple[Tensor, Tensor]
) -> tuple[Tensor, Tensor, Tensor]:
    """Edges from every input pixel of a separable window to its output pixel, for
    ``B`` grids: ``(edge_index, output_count, (Ho, Wo))`` as tensors."""
    b, h, w = shape
    (ri, ro), (ci, co) = rows, cols
    ho, wo = int(ro.max()) + 1, int(co.max()) + 1
    src = (ri.view(-1, 1) * w + ci.view(1, -1)).reshape(-1)
    dst = (ro.view(-1, 1) * wo + co.view(1, -1)).reshape(-1)
    shift = torch.arange(b).view(-1, 1)
    edge_index = torch.stack(
        [(src + shift * h * w).reshape(-1), (dst + shift * ho * wo).reshape(-1)]
    )
    return edge_index, torch.tensor(ho), torch.tensor(wo)


def _pool_over(
    grid: Grid, key: tuple[Any, ...], build: Callable[[], Any], reduce: str, graphs: Graphs
) -> Grid:
    edge_index, ho, wo, divisor = graphs(key, build)
    edge_index = edge_index.to(grid.x.device)
    b = grid.shape[0]
    n_out = b * int(ho) * int(wo)
    target = edge_index[1].view(-1, 1).expand(-1, grid.x.size(1))
    values = grid.x.index_select(0, edge_index[0])
    if reduce == "amax":
        out = grid.x.new_zeros(n_out, grid.x.size(1)).scatter_reduce(
            0, target, values, "amax", include_self=False
        )
    else:
        out = grid.x.new_zeros(n_out, grid.x.size(1)).scatter_add(0, target, values)
        out = out / divisor.to(out).view(-1, 1)
    return Grid(out, (b, int(ho), int(wo)))


def avg_pool(module: nn.AvgPool2d, grid: Grid, path: str, graphs: Graphs) -> Grid:
    if path == "auto":
        return from_images(module(grid.images()))
    b, h, w = grid.shape
    kernel, stride = (
        pair(OWNER, "kernel_size", module.kernel_size),
        pair(OWNER, "stride", module.stride or module.kernel_size),
    )
    pads = conv_padding(OWNER, module.padding, kernel, stride, (1, 1))

    def build() -> Any:
        ei, _, (ho, wo) = window_graph(
            OWNER, h, w, kernel, stride, pads, (1, 1), b, ceil_mode=module.ceil_mode
        )
        if module.divisor_override:
            divisor = torch.full((b * ho * wo,), float(module.divisor_override))
        elif module.count_include_pad:  # the taps inside the padded input
            padded, _, _ = window_graph(
                OWNER, h + pads[0] + pads[1], w + pads[2] + pads[3], kernel, stride,
                (0, 0, 0, 0), (1, 1), b, ceil_mode=module.ceil_mode,
            )  # fmt: skip
            divisor = torch.bincount(padded[1], minlength=b * ho * wo).double()
        else:
            divisor = torch.bincount(ei[1], minlength=b * ho * wo).double()
        return ei, torch.tensor(ho), torch.tensor(wo), divisor

    key = ("avg_pool", b, h, w, repr(module), grid.x.device)
    return _pool_over(grid, key, build, "sum", graphs)


def adaptive(module: nn.Module, grid: Grid, path: str, graphs: Graphs) -> Grid:
    if path == "auto":
        return from_images(module(grid.images()))
    b, h, w = grid.shape
    oh, ow = (
        (size if size is not None else full)
        for size, full in zip(pair_or_none(module.output_size), (h, w), strict=True)
    )

    def windows(n: int, o: int) -> tuple[Tensor, Tensor]:
        i = torch.arange(o)
        return _windows((i * n) // o, ((i + 1) * n + o - 1) // o, n)

    def build() -> Any:
        ei, ho, wo = _pool_graph(grid.shape, windows(h, oh), windows(w, ow))
        return ei, ho, wo, torch.bincount(ei[1], minlength=b * oh * ow).double()

    reduce = "amax" if isinstance(module, nn.AdaptiveMaxPool2d) else "sum"
    key = ("adaptive", b, h, w, oh, ow, grid.x.device)
    return _pool_over(grid, key, build, reduce, graphs)


def pair_or_none(size: Any) -> tuple[Any, Any]:
    return (size, size) if not isinstance(size, (tuple, list)) else (size[0], size[1])


def _axis_weights(n: int, size: int, scale: Any, options: dict[str, Any]) -> Tensor:
    """``[size, n]``: how ``F.interpolate`` mixes the ``n`` inputs of one axis."""
    basis = torch.eye(n, dtype=torch.float64).view(n, 1, n, 1)
    if scale is None:
        out = F.interpolate(basis, size=(size, 1), **options)
    else:
        out = F.interpolate(basis, scale_factor=(float(scale), 1.0), **options)
    return out.view(n, -1).t()


def interpolate(
    grid: Grid,
    path: str,
    graphs: Graphs,
    size: Any = None,
    scale_factor: Any = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Grid:
    """``F.interpolate`` (any separable mode): each output pixel a weighted sum of the
    input pixels its axis weights reach, as messages along weighted edges."""
    options: dict[str, Any] = {"mode": mode, "align_corners": align_corners}
    extra: dict[str, Any] = {
        "recompute_scale_factor": recompute_scale_factor,
        "antialias": antialias,
    }
    if path == "auto":
        images = F.interpolate(grid.images(), size, scale_factor, **options, **extra)
        return from_images(images)
    b, h, w = grid.shape
    probe = torch.empty(1, 1, h, w, device="meta")
    ho, wo = F.interpolate(probe, size, scale_factor, **options, **extra).shape[-2:]

    def build() -> Any:
        scales = (
            (None, None)
            if scale_factor is None or recompute_scale_factor
            else (pair_or_none(scale_factor))
        )
        rows = _axis_weights(h, ho, scales[0], options)
        cols = _axis_weights(w, wo, scales[1], options)
        weight = rows.view(ho, 1, h, 1) * cols.view(1, wo, 1, w)  # [Ho, Wo, H, W]
        i, j, a, c = weight.nonzero(as_tuple=True)
        shift = torch.arange(b).view(-1, 1)
        edge_index = torch.stack(
            [
                ((a * w + c) + shift * h * w).reshape(-1),
                ((i * wo + j) + shift * ho * wo).reshape(-1),
            ]
        )
        return edge_index, weight[i, j, a, c].repeat(b)

    key = ("interpolate", b, h, w, ho, wo, mode, align_corners, str(scale_factor), grid.x.device)
    edge_index, weight = graphs(key, build)
    edge_index, weight = edge_index.to(grid.x.device), weight.to(grid.x)
    values = grid.x.index_select(0, edge_index[0]) * weight.view(-1, 1)
    target = edge_index[1].view(-1, 1).expand_as(values)
    out = grid.x.new_zeros(b * ho * wo, grid.x.size(1)).scatter_add(0, target, values)
    return Grid(out, (b, int(ho), int(wo)))
