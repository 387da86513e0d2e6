"""Images <-> graphs."""

from gconv.convert.grid_graph import graphs_to_images, grid_graph, grid_offsets, images_to_graphs
from gconv.convert.transforms import ImageToGridGraph

__all__ = ["ImageToGridGraph", "graphs_to_images", "grid_graph", "grid_offsets", "images_to_graphs"]
