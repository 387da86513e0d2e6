"""Mini-batches of large graphs: sampled neighbourhoods, in pure torch where PyG's
samplers cannot be installed."""

from gconv.loader.cluster import ClusterData, metis_partition
from gconv.loader.neighbor_loader import NeighborLoader, pyg_sampling_available
from gconv.loader.neighbor_sampler import TorchNeighborSampler

__all__ = [
    "ClusterData",
    "NeighborLoader",
    "TorchNeighborSampler",
    "metis_partition",
    "pyg_sampling_available",
]
