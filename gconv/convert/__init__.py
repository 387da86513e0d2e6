"""Images <-> graphs."""

from gconv.convert.grid_graph import (
    batched_grid_graph,
    graphs_to_images,
    grid_graph,
    grid_offsets,
    images_to_graphs,
)
from gconv.convert.grid_shape import grid_shape_of
from gconv.convert.superpixels import knn_edges, superpixel_graph
from gconv.convert.transforms import DirectionalEdgeType, ImageToGridGraph

__all__ = [
    "DirectionalEdgeType",
    "ImageToGridGraph",
    "batched_grid_graph",
    "graphs_to_images",
    "grid_graph",
    "grid_offsets",
    "grid_shape_of",
    "images_to_graphs",
    "knn_edges",
    "superpixel_graph",
]
