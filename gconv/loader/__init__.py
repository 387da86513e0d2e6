"""Mini-batches: of large graphs (sampled neighbourhoods, in pure torch where PyG's
samplers cannot be installed, and Cluster-GCN's parts), and of images as pixel grids."""

from gconv.loader.cluster import ClusterData, metis_partition
from gconv.loader.grid_graph_loader import GridGraphLoader
from gconv.loader.neighbor_loader import NeighborLoader, pyg_sampling_available
from gconv.loader.neighbor_sampler import TorchNeighborSampler

__all__ = [
    "ClusterData",
    "GridGraphLoader",
    "NeighborLoader",
    "TorchNeighborSampler",
    "metis_partition",
    "pyg_sampling_available",
]
