r"""A CNN's modules as graph layers over the pixel grid of each resolution.

:func:`converted` swaps a module for its graph layer where one exists (the weights and
their ``state_dict`` names kept): ``nn.Conv2d`` for :class:`gconv.nn.GridConv2d`,
``nn.ConvTranspose2d`` for :class:`gconv.nn.GridConvTranspose2d`, ``nn.MaxPool2d`` for
:class:`gconv.nn.GridMaxPool2d`, ``nn.BatchNorm2d`` for the node-wise
``nn.BatchNorm1d`` (statistics over the same ``B*H*W`` values). :func:`run` calls one
on a :class:`~gconv.convert.grid_values.Grid`, by one of two paths:

- ``"auto"``: the fastest exact path for full pixel grids, the layer's stencil
  (``F.conv2d`` and the like) on the node features viewed as images, no copy;
- ``"message_passing"``: PyG's ``propagate`` over the layer's graph from this grid to
  the next (:func:`gconv.graph.conv_graph`, ``GridMaxPool2d.graph``, ...), built once
  per batch shape; average and adaptive pools sum over their windows' edges.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch.nn.functional as F
from torch import nn

from gconv.convert import grid_pools
from gconv.convert.grid_graph import batched_grid_graph
from gconv.convert.grid_pools import Graphs
from gconv.convert.grid_values import OWNER, Grid, flatten, from_images, permute
from gconv.errors import GconvValueError
from gconv.graph import conv_graph
from gconv.graph.conv_graph import conv_padding
from gconv.graph.gated_gcn import GatedGCNLayer
from gconv.graph.grid_conv import GridConv2d
from gconv.graph.grid_conv_transpose import GridConvTranspose2d
from gconv.graph.grid_pool import GridMaxPool2d

PATHS = ("auto", "message_passing")


@dataclass(frozen=True)
class OnGrid:
    """Where a graph layer replaced a 'same' convolution: the kernel whose grid graph
    it runs on."""

    kernel_size: int


def converted(
    module: nn.Module, layer: Callable[[int, int], nn.Module] | None = None, name: str = ""
) -> tuple[nn.Module, Any]:
    """The graph layer that replaces ``module`` (itself where none is needed), and what
    :func:`run` needs to know of it: a convolution's stride, padding and dilation, or
    :class:`OnGrid` where ``layer`` replaced it."""
    if isinstance(module, nn.Conv2d) and layer is not None and module.kernel_size != (1, 1):
        return _replaced(module, layer, name), OnGrid(module.kernel_size[0])
    if isinstance(module, nn.Conv2d):
        geometry = (module.stride, module.padding, module.dilation, module.padding_mode)
        return GridConv2d.from_conv2d(module), geometry
    return _converted(module), None


def _replaced(conv: nn.Conv2d, layer: Callable[[int, int], nn.Module], name: str) -> nn.Module:
    k = conv.kernel_size[0]
    same = conv.padding in ("same", (k // 2, k // 2))
    if (
        conv.kernel_size != (k, k)
        or k % 2 == 0
        or not same
        or conv.stride != (1, 1)
        or conv.dilation != (1, 1)
        or conv.groups != 1
        or conv.padding_mode != "zeros"
    ):
        raise GconvValueError(
            f"{OWNER}: layer replaces 'same' convolutions of an odd square kernel, stride "
            f"1, no dilation or groups; {name} is {conv}"
        )
    replacement = layer(conv.in_channels, conv.out_channels)
    return replacement.to(device=conv.weight.device, dtype=conv.weight.dtype)


def _converted(module: nn.Module) -> nn.Module:
    if isinstance(module, nn.ConvTranspose2d):
        return GridConvTranspose2d.from_conv_transpose2d(module)
    if isinstance(module, nn.MaxPool2d):
        if module.return_indices:
            raise GconvValueError(f"{OWNER}: MaxPool2d(return_indices=True) is not converted")
        k, s, p, d = module.kernel_size, module.stride, module.padding, module.dilation
        return GridMaxPool2d(k, s, p, d, ceil_mode=module.ceil_mode)
    if isinstance(module, nn.BatchNorm2d):
        norm = nn.BatchNorm1d(
            module.num_features,
            module.eps,
            module.momentum,
            module.affine,
            module.track_running_stats,
            device=module.weight.device if module.affine else None,
            dtype=module.weight.dtype if module.affine else None,
        )
        norm.load_state_dict(module.state_dict())
        return norm.train(module.training)
    return module


def _on_grid(layer: nn.Module, grid: Grid, path: str, graphs: Graphs, kernel: int) -> Grid:
    """A graph layer in a convolution's place, over the grid graph of its kernel:
    ``GatedGCNLayer`` gives its ĥ (the CNN's norm and activation follow)."""
    b, h, w = grid.shape
    device = grid.x.device
    edge_index, _ = graphs(
        ("grid", b, h, w, kernel, device),
        lambda: batched_grid_graph(b, h, w, kernel_size=kernel, device=device),
    )
    if isinstance(layer, GatedGCNLayer):
        if path == "auto":
            return grid.with_x(layer.grid_aggregate(grid.x, edge_index, grid.shape))
        return grid.with_x(layer.gate_and_aggregate(grid.x, edge_index, None)[0])
    if path == "auto":
        return grid.with_x(layer(grid.x, edge_index, grid_shape=grid.shape))
    return grid.with_x(layer(grid.x, edge_index))


def _conv(layer: GridConv2d, grid: Grid, path: str, graphs: Graphs, geometry: Any) -> Grid:
    stride, padding, dilation, mode = geometry
    b, h, w = grid.shape
    if path == "auto":
        images, pads = grid.images(), padding
        if mode != "zeros":  # as nn.Conv2d: F.pad of the mode, then no padding
            top, bottom, left, right = conv_padding(OWNER, padding, layer.kernel, stride, dilation)
            images, pads = F.pad(images, (left, right, top, bottom), mode=mode), 0
        out = F.conv2d(images, layer.weight, layer.bias, stride, pads, dilation, layer.groups)
        return from_images(out)
    key = ("conv", b, h, w, layer.kernel, stride, padding, dilation, mode, grid.x.device)
    options = {"stride": stride, "padding": padding, "dilation": dilation, "padding_mode": mode}
    edge_index, edge_type, (ho, wo) = graphs(
        key, lambda: conv_graph(h, w, layer.kernel, batch_size=b, device=grid.x.device, **options)
    )
    out = layer(grid.x, edge_index, edge_type, size=(b * h * w, b * ho * wo), path="scatter")
    return Grid(out, (b, ho, wo))


def _transposed(
    layer: GridConvTranspose2d, grid: Grid, path: str, graphs: Graphs, output_size: Any = None
) -> Grid:
    b, h, w = grid.shape
    size = None if output_size is None else tuple(int(s) for s in list(output_size)[-2:])
    key = ("transposed", b, h, w, layer.options, size, grid.x.device)
    edge_index, edge_type, (ho, wo) = graphs(
        key,
        lambda: layer.graph(h, w, b, output_size=size),  # type: ignore[arg-type]
    )
    if path == "auto":
        out = layer(grid.x, edge_index, edge_type, grid_shape=grid.shape, output_size=(ho, wo))
    else:
        out = layer(grid.x, edge_index, edge_type, size=(b * h * w, b * ho * wo))
    return Grid(out, (b, ho, wo))


def _max_pool(layer: GridMaxPool2d, grid: Grid, path: str, graphs: Graphs) -> Grid:
    b, h, w = grid.shape
    if path == "auto":
        images = F.max_pool2d(
            grid.images(),
            layer.kernel_size,
            layer.stride,
            layer.padding,
            layer.dilation,
            layer.ceil_mode,
        )
        return from_images(images)
    key = ("max_pool", b, h, w, repr(layer), grid.x.device)
    edge_index, _, (ho, wo) = graphs(key, lambda: layer.graph(h, w, b))
    return Grid(layer(grid.x, edge_index.to(grid.x.device), (b * h * w, b * ho * wo)), (b, ho, wo))


def _layer_norm(module: nn.LayerNorm, grid: Grid) -> Grid:
    channels = grid.x.size(1)
    over_channels = grid.channels_last or type(module).__name__ == "LayerNorm2d"
    if not over_channels or tuple(module.normalized_shape) != (channels,):
        raise GconvValueError(
            f"{OWNER}: {type(module).__name__} must normalize over the channels (got "
            f"normalized_shape {tuple(module.normalized_shape)} on a grid {tuple(grid.nchw)})"
        )
    return grid.with_x(F.layer_norm(grid.x, (channels,), module.weight, module.bias, module.eps))


def _per_image(module: nn.Module, grid: Grid) -> Grid:
    """A module whose randomness is per image (stochastic depth): on the image view."""
    out = module(grid.images())
    return from_images(out)


def _linear(module: nn.Linear, grid: Grid) -> Grid:
    if not grid.channels_last:
        raise GconvValueError(
            f"{OWNER}: Linear on a grid {tuple(grid.nchw)} must follow a flatten or a "
            "permute of its channels last"
        )
    return grid.with_x(module(grid.x))


ELEMENTWISE = (
    nn.ReLU, nn.ReLU6, nn.Hardtanh, nn.SiLU, nn.Hardswish, nn.Hardsigmoid, nn.Sigmoid,
    nn.GELU, nn.Tanh, nn.LeakyReLU, nn.ELU, nn.Softplus, nn.Mish, nn.Identity, nn.Dropout,
    nn.BatchNorm1d,
)  # fmt: skip
Handler = Callable[..., Any]  # (module, grid, path, graphs, geometry, **call kwargs)
HANDLERS: tuple[tuple[Any, Handler], ...] = (  # what each module on a grid becomes
    (GridConv2d, lambda m, g, p, gr, geo: _conv(m, g, p, gr, geo)),
    (GridConvTranspose2d, lambda m, g, p, gr, geo, **kw: _transposed(m, g, p, gr, **kw)),
    (GridMaxPool2d, lambda m, g, p, gr, geo: _max_pool(m, g, p, gr)),
    (nn.AvgPool2d, lambda m, g, p, gr, geo: grid_pools.avg_pool(m, g, p, gr)),
    (
        (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d),
        lambda m, g, p, gr, geo: grid_pools.adaptive(m, g, p, gr),
    ),
    (ELEMENTWISE, lambda m, g, p, gr, geo: g.with_x(m(g.x))),
    (
        nn.Upsample,
        lambda m, g, p, gr, geo: grid_pools.interpolate(
            g, p, gr, m.size, m.scale_factor, m.mode, m.align_corners, m.recompute_scale_factor
        ),
    ),
    (nn.Flatten, lambda m, g, p, gr, geo: flatten(g)),
    (nn.LayerNorm, lambda m, g, p, gr, geo: _layer_norm(m, g)),
    (nn.Linear, lambda m, g, p, gr, geo: _linear(m, g)),
)
NAMED: dict[str, Handler] = {  # torchvision's, by name: gconv does not import them
    "StochasticDepth": lambda m, g, p, gr, geo: _per_image(m, g),
    "Permute": lambda m, g, p, gr, geo: permute("Permute", g, list(m.dims)),
}


def _handler(module: nn.Module) -> Handler | None:
    for types, handler in HANDLERS:
        if isinstance(module, types):
            return handler
    return NAMED.get(type(module).__name__)


def handles(module: nn.Module) -> bool:
    """Whether a module on a grid has a graph form (what :func:`run` will find)."""
    return _handler(module) is not None


def run(
    module: nn.Module, grid: Grid, path: str, graphs: Graphs, geometry: Any, **kwargs: Any
) -> Any:
    """``module`` applied to ``grid`` by ``path`` (``geometry``: what
    :func:`converted` said of it)."""
    if isinstance(geometry, OnGrid):
        return _on_grid(module, grid, path, graphs, geometry.kernel_size)
    handler = _handler(module)
    if handler is None:
        raise GconvValueError(f"{OWNER}: a {type(module).__name__} on a grid is not converted")
    return handler(module, grid, path, graphs, geometry, **kwargs)


POOLS = {  # functional pools, as the module that takes the same arguments
    F.avg_pool2d: (nn.AvgPool2d, ("kernel_size", "stride", "padding", "ceil_mode",
                                  "count_include_pad", "divisor_override")),
    F.max_pool2d: (nn.MaxPool2d, ("kernel_size", "stride", "padding", "dilation",
                                  "ceil_mode", "return_indices")),
    F.adaptive_avg_pool2d: (nn.AdaptiveAvgPool2d, ("output_size",)),
    F.adaptive_max_pool2d: (nn.AdaptiveMaxPool2d, ("output_size", "return_indices")),
    F.interpolate: (nn.Upsample, ()),
}  # fmt: skip


def run_function(
    function: Any, grid: Grid, path: str, graphs: Graphs, *args: Any, **kwargs: Any
) -> Any:
    """A functional pool (``F.avg_pool2d(x, 3, 1, 1)``) or ``F.interpolate``: itself on
    the grid view (``"auto"``), else its module's graph form."""
    if path == "auto":
        return from_images(function(grid.images(), *args, **kwargs))
    if function is F.interpolate:
        return grid_pools.interpolate(grid, path, graphs, *args, **kwargs)
    module, geometry = pool_module(function, *args, **kwargs)
    return run(module.to(grid.x.device), grid, path, graphs, geometry)


def pool_module(function: Any, *args: Any, **kwargs: Any) -> tuple[nn.Module, Any]:
    """A functional pool's module (``F.max_pool2d(x, 2)``: ``GridMaxPool2d(2)``), as
    :func:`converted` gives it."""
    cls, names = POOLS[function]
    options = {**dict(zip(names, args, strict=False)), **kwargs}
    if options.get("stride") in (None, []):
        options.pop("stride", None)
    return converted(cls(**options))
