"""Images <-> graphs, whole CNNs to graph networks, and graphs from points (kNN, radius)."""

from gconv.convert.cnn_to_gnn import cnn_to_gnn
from gconv.convert.graph_network import GraphNetwork
from gconv.convert.grid_graph import (
    batched_grid_graph,
    graphs_to_images,
    grid_graph,
    grid_offsets,
    images_to_graphs,
)
from gconv.convert.grid_shape import grid_shape_of
from gconv.convert.knn import knn_graph, radius_graph
from gconv.convert.superpixels import knn_edges, superpixel_graph

__all__ = [
    "GraphNetwork",
    "batched_grid_graph",
    "cnn_to_gnn",
    "graphs_to_images",
    "grid_graph",
    "grid_offsets",
    "grid_shape_of",
    "images_to_graphs",
    "knn_edges",
    "knn_graph",
    "radius_graph",
    "superpixel_graph",
]
