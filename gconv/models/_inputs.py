"""Unpacking what a whole network is given: an image tensor or a PyG ``Data``/``Batch``."""

from __future__ import annotations

from typing import Any

import torch.fx
from torch import Tensor

from gconv.errors import GconvTypeError, GconvValueError


def graph_inputs(owner: str, data: Any) -> tuple[Tensor, Tensor, Tensor | None, int]:
    """``(x, edge_index, batch, num_graphs)`` of a PyG ``Data`` or ``Batch``."""
    x = getattr(data, "x", None)
    edge_index = getattr(data, "edge_index", None)
    if x is None and isinstance(edge_index, Tensor):  # PyG's from_networkx, say
        raise GconvTypeError(
            f"{owner}: the graphs have no node features x; give them some, e.g. "
            "data.x = torch.ones(data.num_nodes, 1), or pass them through "
            "gconv.data.load_dataset, which does"
        )
    if not isinstance(x, Tensor) or not isinstance(edge_index, Tensor):
        raise GconvTypeError(
            f"{owner}: expected a PyG Data or Batch with x and edge_index "
            f"(got {type(data).__name__})"
        )
    if not x.is_floating_point():
        raise GconvTypeError(
            f"{owner}: node features x must be floating point (got dtype {x.dtype}); "
            "convert them, e.g. data.x = data.x.float()"
        )
    batch = getattr(data, "batch", None)
    num_graphs = int(getattr(data, "num_graphs", 1)) if batch is not None else 1
    return x, edge_index, batch, num_graphs


def image_input(owner: str, data: Any, *, channels: int | None = None, min_size: int = 1) -> Tensor:
    """``data`` as a floating ``[B, C, H, W]`` batch with ``channels`` channels and sides
    of at least ``min_size``. Only shapes and dtypes are read: no device sync."""
    if isinstance(data, torch.fx.Proxy):  # symbolic tracing (feature extraction): no values
        return data  # type: ignore[return-value]
    if not isinstance(data, Tensor):
        raise GconvTypeError(
            f"{owner}: expected an image tensor [B, C, H, W] (got {type(data).__name__})"
        )
    if data.dim() != 4:
        raise GconvValueError(
            f"{owner}: expected an image tensor [B, C, H, W] (got shape {tuple(data.shape)})"
        )
    if not data.is_floating_point():
        raise GconvTypeError(
            f"{owner}: images must be floating point (got dtype {data.dtype}); "
            "convert them, e.g. x.float() / 255"
        )
    if channels is not None and data.size(1) != channels:
        raise GconvValueError(
            f"{owner}: images must have {channels} channels (in_channels) "
            f"(got shape {tuple(data.shape)})"
        )
    if min(data.shape[-2:]) < min_size:
        raise GconvValueError(
            f"{owner}: images must be at least {min_size}x{min_size} "
            f"(got {data.size(-2)}x{data.size(-1)})"
        )
    return data


def check_input_shape(
    owner: str, input_shape: tuple[int, int, int] | None, in_channels: int, min_size: int
) -> None:
    """An ``input_shape`` given at construction must be one the network can take."""
    if input_shape is None:
        return
    if len(input_shape) != 3 or input_shape[0] != in_channels:
        raise GconvValueError(
            f"{owner}: input_shape must be (C, H, W) with C = in_channels = {in_channels} "
            f"(got {input_shape})"
        )
    if min(input_shape[1:]) < min_size:
        raise GconvValueError(
            f"{owner}: input_shape must be at least {min_size}x{min_size} (got {input_shape})"
        )
