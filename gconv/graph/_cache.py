"""Caching a value computed from a graph, safely."""

from __future__ import annotations

from typing import Generic, TypeVar

import torch
from torch import Tensor

V = TypeVar("V")


def _same(new: Tensor, old: Tensor, old_version: int) -> bool:
    if new is old:
        # the same tensor, unless it was modified in place since
        return new._version == old_version
    return new.shape == old.shape and new.device == old.device and torch.equal(new, old)


class GraphCache(Generic[V]):
    """Remembers one value computed from a graph and recognizes the graph it came from.

    A hit needs the same ``edge_index`` (the same tensor not modified in place since, or an
    equal one) with the same edge attribute and node count. Anything else is a different
    graph, so a cached layer recomputes instead of silently reusing another graph's
    normalization, the pitfall of PyG's ``cached=True``.
    """

    def __init__(self) -> None:
        self.key: tuple[Tensor, int, Tensor | None, int, int] | None = None
        self.value: V | None = None

    def clear(self) -> None:
        self.key = None
        self.value = None

    def get(self, edge_index: Tensor, edge_attr: Tensor | None, num_nodes: int) -> V | None:
        if self.key is None or self.value is None:
            return None
        ei, ei_version, ea, ea_version, n = self.key
        if n != num_nodes or (ea is None) != (edge_attr is None):
            return None
        if not _same(edge_index, ei, ei_version):
            return None
        if edge_attr is not None and ea is not None and not _same(edge_attr, ea, ea_version):
            return None
        self.put(edge_index, edge_attr, num_nodes, self.value)
        return self.value

    def put(self, edge_index: Tensor, edge_attr: Tensor | None, num_nodes: int, value: V) -> None:
        ea_version = edge_attr._version if edge_attr is not None else 0
        self.key = (edge_index, edge_index._version, edge_attr, ea_version, num_nodes)
        self.value = value
