"""Unpacking what a whole network is given: an image tensor or a PyG ``Data``/``Batch``."""

from __future__ import annotations

from typing import Any

import torch.fx
from torch import Tensor


def graph_inputs(owner: str, data: Any) -> tuple[Tensor, Tensor, Tensor | None, int]:
    """``(x, edge_index, batch, num_graphs)`` of a PyG ``Data`` or ``Batch``."""
    x = getattr(data, "x", None)
    edge_index = getattr(data, "edge_index", None)
    if not isinstance(x, Tensor) or not isinstance(edge_index, Tensor):
        raise TypeError(
            f"{owner}: expected a PyG Data or Batch with x and edge_index "
            f"(got {type(data).__name__})"
        )
    batch = getattr(data, "batch", None)
    num_graphs = int(getattr(data, "num_graphs", 1)) if batch is not None else 1
    return x, edge_index, batch, num_graphs


def image_input(owner: str, data: Any) -> Tensor:
    if isinstance(data, torch.fx.Proxy):  # symbolic tracing (feature extraction): no values
        return data  # type: ignore[return-value]
    if not isinstance(data, Tensor):
        raise TypeError(
            f"{owner}: expected an image tensor [B, C, H, W] (got {type(data).__name__})"
        )
    if data.dim() != 4:
        raise ValueError(
            f"{owner}: expected an image tensor [B, C, H, W] (got shape {tuple(data.shape)})"
        )
    return data
