"""gconv: grid and graph convolutions under one roof, on PyTorch Geometric."""

from gconv import (
    _pyg,  # noqa: F401  (first: imports PyG without its torch warning)
    nn,
    transforms,
)
from gconv.convert import graphs_to_images, grid_graph, images_to_graphs
from gconv.data import data_root, list_datasets, load_dataset
from gconv.graph import adjacency_matrix, gcn_normalize, normalized_adjacency
from gconv.grid import conv_output_size, conv_transpose_output_size, pool_output_size
from gconv.train import Trainer

__version__ = "0.1.0"

__all__ = [
    "Trainer",
    "__version__",
    "adjacency_matrix",
    "conv_output_size",
    "conv_transpose_output_size",
    "data_root",
    "gcn_normalize",
    "graphs_to_images",
    "grid_graph",
    "images_to_graphs",
    "list_datasets",
    "load_dataset",
    "nn",
    "normalized_adjacency",
    "pool_output_size",
    "transforms",
]
