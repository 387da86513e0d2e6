"""The GNN side: adjacency normalization, the graphs of grid operations (layers: gconv.nn)."""

from gconv.graph.adjacency import NormalizedAdjacency, normalized_sparse
from gconv.graph.conv_graph import conv_graph
from gconv.graph.norm import adjacency_matrix, gcn_normalize, normalized_adjacency
from gconv.graph.readout import READOUT_KINDS
from gconv.graph.transposed_grid import strided_grid_graph, transposed_grid_graph

__all__ = [
    "READOUT_KINDS",
    "NormalizedAdjacency",
    "adjacency_matrix",
    "conv_graph",
    "gcn_normalize",
    "normalized_adjacency",
    "normalized_sparse",
    "strided_grid_graph",
    "transposed_grid_graph",
]
