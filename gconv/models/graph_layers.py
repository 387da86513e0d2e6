"""The message-passing layers a :class:`~gconv.models.DeepGNN` stacks, as objects.

A :class:`GraphLayer` says how to build one layer of a width, what it reads from a batch
(computed once per batch and shared by the layers: the edges, a normalized adjacency, the
edge types, embedded edge features) and how to call it. ``DeepGNN`` passes the layer on
and never tests which one it has, as timm passes ``attn_layer=``:

    DeepGNN(EdgeLayer("cheb", lambda width: ChebConv(width, width, K=2)), 3, 10)

``GRAPH_LAYERS`` holds the ones named by a string (``DeepGNN("gat", ...)``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torch import Tensor, nn
from torch_geometric.nn import GINConv, SAGEConv

from gconv.errors import GconvValueError
from gconv.graph.adjacency import normalized_sparse
from gconv.graph.gat import GATLayer
from gconv.graph.gated_gcn import GatedGCNLayer
from gconv.graph.gcn import GCNLayer
from gconv.graph.grid_conv import GridConv2d


@dataclass(frozen=True)
class GraphLayer:
    """A kind of message-passing layer: ``build(width)`` makes one, called as
    ``layer(h, edge_index)``. Subclasses read more of the batch."""

    name: str
    build: Callable[[int], nn.Module]
    norm: bool = True  # False: the layer has its own norm, ReLU and residual (gated GCN)
    edge_features: bool = False  # True: edge features embedded from edge_weight

    def graph(self, data: Any, edge_index: Tensor, h: Tensor) -> Any:
        """What every layer of a forward reads, computed once per batch."""
        return edge_index

    def __call__(
        self, layer: nn.Module, h: Tensor, graph: Any, e: Tensor | None
    ) -> tuple[Tensor, Tensor | None]:
        """The layer's output and the edge features the next layer gets."""
        return layer(h, graph), e


@dataclass(frozen=True)
class EdgeLayer(GraphLayer):
    """A layer called as ``layer(h, edge_index)``: PyG's ``SAGEConv``, ``GINConv``, ..."""


@dataclass(frozen=True)
class NormalizedLayer(GraphLayer):
    """:class:`gconv.nn.GCNLayer` on the batch normalized once into a sparse matrix, or
    on its pixel grid's stencil (``grid_shape``)."""

    def graph(self, data: Any, edge_index: Tensor, h: Tensor) -> Any:
        grid = getattr(data, "grid_shape", None)
        if grid is not None:
            return edge_index, grid
        weight = getattr(data, "edge_weight", None)
        return normalized_sparse(edge_index, weight, h.size(0), dtype=h.dtype), None

    def __call__(
        self, layer: nn.Module, h: Tensor, graph: Any, e: Tensor | None
    ) -> tuple[Tensor, Tensor | None]:
        adjacency, grid = graph
        return layer(h, adjacency, grid_shape=grid), e


@dataclass(frozen=True)
class TypedEdgeLayer(GraphLayer):
    """A layer called as ``layer(h, edge_index, edge_type)``: :class:`gconv.nn.GridConv2d`
    with each edge's direction binned into a neighbour tap."""

    def graph(self, data: Any, edge_index: Tensor, h: Tensor) -> Any:
        edge_type = getattr(data, "edge_type", None)
        if edge_type is None:
            raise GconvValueError(
                f"DeepGNN: {self.name} needs edge_type (see gconv.transforms.DirectionalEdgeType)"
            )
        return edge_index, edge_type

    def __call__(
        self, layer: nn.Module, h: Tensor, graph: Any, e: Tensor | None
    ) -> tuple[Tensor, Tensor | None]:
        edge_index, edge_type = graph
        return layer(h, edge_index, edge_type), e


@dataclass(frozen=True)
class EdgeFeatureLayer(GraphLayer):
    """A layer that updates edge features too, ``h, e = layer(h, edge_index, e)``."""

    norm: bool = False
    edge_features: bool = True

    def __call__(
        self, layer: nn.Module, h: Tensor, graph: Any, e: Tensor | None
    ) -> tuple[Tensor, Tensor | None]:
        out: tuple[Tensor, Tensor | None] = layer(h, graph, e)
        return out


def _gin(width: int) -> nn.Module:
    mlp = nn.Sequential(
        nn.Linear(width, width), nn.BatchNorm1d(width), nn.ReLU(), nn.Linear(width, width)
    )
    return GINConv(mlp)


def graph_layers(heads: int = 4) -> dict[str, GraphLayer]:
    """The named kinds, ``gat`` with ``heads`` heads concatenated (the width in all)."""
    return {
        "gcn": NormalizedLayer(
            "gcn", lambda w: GCNLayer(w, w, normalize="none", add_self_loops=False)
        ),
        "sage": EdgeLayer("sage", lambda w: SAGEConv(w, w)),
        # GATConv's function, with its sums as sparse products
        "gat": EdgeLayer("gat", lambda w: GATLayer(w, w // heads, heads=heads)),
        "gin": EdgeLayer("gin", _gin),
        # batch norm and residual inside, on nodes and edges; fused: faster (benchmarks/)
        "gated_gcn": EdgeFeatureLayer("gated_gcn", lambda w: GatedGCNLayer(w, w, fused=True)),
        "grid_conv": TypedEdgeLayer("grid_conv", lambda w: GridConv2d(w, w, 3)),
    }


GRAPH_LAYERS = tuple(graph_layers())
