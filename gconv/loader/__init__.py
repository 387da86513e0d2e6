"""Mini-batches of large graphs: sampled neighbourhoods, in pure torch where PyG's
samplers cannot be installed."""

from gconv.loader.neighbor_loader import NeighborLoader, pyg_sampling_available
from gconv.loader.neighbor_sampler import TorchNeighborSampler

__all__ = ["NeighborLoader", "TorchNeighborSampler", "pyg_sampling_available"]
