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

from typing import Any

import torch.nn.functional as F
from torch import nn

from gconv.convert import grid_pools
from gconv.convert.grid_pools import Graphs
from gconv.convert.grid_values import OWNER, Grid, flatten, from_images
from gconv.errors import GconvValueError
from gconv.graph import GridConv2d, GridConvTranspose2d, GridMaxPool2d, conv_graph

PATHS = ("auto", "message_passing")


def converted(module: nn.Module) -> nn.Module:
    """The graph layer that replaces ``module`` (itself where none is needed)."""
    if isinstance(module, nn.Conv2d):
        layer: nn.Module = GridConv2d.from_conv2d(module)
        layer.geometry = (module.stride, module.padding, module.dilation)  # type: ignore[assignment]
        return layer
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


def _conv(layer: GridConv2d, grid: Grid, path: str, graphs: Graphs) -> Grid:
    stride, padding, dilation = layer.geometry
    b, h, w = grid.shape
    if path == "auto":
        images = F.conv2d(
            grid.images(), layer.weight, layer.bias, stride, padding, dilation, layer.groups
        )
        return from_images(images)
    key = ("conv", b, h, w, layer.kernel, stride, padding, dilation, grid.x.device)
    edge_index, edge_type, (ho, wo) = graphs(
        key,
        lambda: conv_graph(
            h,
            w,
            layer.kernel,
            stride=stride,
            padding=padding,
            dilation=dilation,
            batch_size=b,
            device=grid.x.device,
        ),
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


def run(module: nn.Module, grid: Grid, path: str, graphs: Graphs, **kwargs: Any) -> Any:
    """``module`` applied to ``grid`` by ``path``."""
    if isinstance(module, GridConv2d):
        return _conv(module, grid, path, graphs)
    if isinstance(module, GridConvTranspose2d):
        return _transposed(module, grid, path, graphs, **kwargs)
    if isinstance(module, GridMaxPool2d):
        return _max_pool(module, grid, path, graphs)
    if isinstance(module, nn.AvgPool2d):
        return grid_pools.avg_pool(module, grid, path, graphs)
    if isinstance(module, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
        return grid_pools.adaptive(module, grid, path, graphs)
    if isinstance(module, ELEMENTWISE):
        return grid.with_x(module(grid.x))
    if isinstance(module, nn.Upsample):
        return grid_pools.interpolate(
            grid, path, graphs, module.size, module.scale_factor, module.mode,
            module.align_corners, module.recompute_scale_factor,
        )  # fmt: skip
    if isinstance(module, nn.Flatten):
        return flatten(grid)
    if isinstance(module, nn.LayerNorm):
        return _layer_norm(module, grid)
    if isinstance(module, nn.Linear):
        return _linear(module, grid)
    name = type(module).__name__
    if name == "StochasticDepth":
        return _per_image(module, grid)
    if name == "Permute":
        return _permute_module(module, grid)
    raise GconvValueError(f"{OWNER}: a {name} on a grid is not converted")


def _permute_module(module: nn.Module, grid: Grid) -> Grid:
    from gconv.convert.grid_values import METHODS

    dims: Any = module.dims
    return METHODS["permute"]("Permute", grid, list(dims))


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
    """A functional pool (``F.avg_pool2d(x, 3, 1, 1)``) or ``F.interpolate`` as its
    module's graph form."""
    if function is F.interpolate:
        return grid_pools.interpolate(grid, path, graphs, *args, **kwargs)
    cls, names = POOLS[function]
    options = {**dict(zip(names, args, strict=False)), **kwargs}
    if options.get("stride") in (None, []):
        options.pop("stride", None)
    return run(converted(cls(**options)).to(grid.x.device), grid, path, graphs)


HANDLED = (
    GridConv2d, GridConvTranspose2d, GridMaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.Upsample,
    nn.AdaptiveMaxPool2d, *ELEMENTWISE, nn.Flatten, nn.LayerNorm, nn.Linear,
)  # fmt: skip
HANDLED_NAMES = ("StochasticDepth", "Permute")


def handles(module: nn.Module) -> bool:
    return isinstance(module, HANDLED) or type(module).__name__ in HANDLED_NAMES
