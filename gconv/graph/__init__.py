"""The GNN side: PyG ``MessagePassing`` layers, normalization and readout."""

from gconv.graph.gcn import GCNLayer
from gconv.graph.grid_conv import GridConv2d
from gconv.graph.norm import adjacency_matrix, gcn_normalize, normalized_adjacency
from gconv.graph.readout import READOUT_KINDS, Readout

__all__ = [
    "READOUT_KINDS",
    "GCNLayer",
    "GridConv2d",
    "Readout",
    "adjacency_matrix",
    "gcn_normalize",
    "normalized_adjacency",
]
