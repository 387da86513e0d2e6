"""The GNN side: PyG ``MessagePassing`` layers, normalization and readout."""

from gconv.graph.adjacency import NormalizedAdjacency, normalized_sparse
from gconv.graph.conv_graph import conv_graph
from gconv.graph.gat import GATLayer
from gconv.graph.gated_gcn import GatedGCNLayer
from gconv.graph.gcn import GCNLayer
from gconv.graph.grid_conv import GridConv2d
from gconv.graph.grid_conv_transpose import GridConvTranspose2d
from gconv.graph.grid_pool import GridMaxPool2d
from gconv.graph.norm import adjacency_matrix, gcn_normalize, normalized_adjacency
from gconv.graph.readout import READOUT_KINDS, Readout
from gconv.graph.transposed_grid import strided_grid_graph, transposed_grid_graph

__all__ = [
    "READOUT_KINDS",
    "GATLayer",
    "GCNLayer",
    "GatedGCNLayer",
    "GridConv2d",
    "GridConvTranspose2d",
    "GridMaxPool2d",
    "NormalizedAdjacency",
    "Readout",
    "adjacency_matrix",
    "conv_graph",
    "gcn_normalize",
    "normalized_adjacency",
    "normalized_sparse",
    "strided_grid_graph",
    "transposed_grid_graph",
]
