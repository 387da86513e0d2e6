"""Cluster-GCN's partition (Chiang et al., 2019) through ``pymetis``.

PyG's ``ClusterData`` computes its METIS partition with torch-sparse or pyg-lib, which
many installs lack. This subclass computes the same node-to-part assignment with
``pymetis`` (the METIS library's own Python binding) when neither is there, and is
otherwise PyG's ``ClusterData``: the same partition files, the same ``ClusterLoader``.

Paper: `Cluster-GCN <https://arxiv.org/abs/1905.07953>`_.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch_geometric.loader import ClusterData as PyGClusterData
from torch_geometric.utils import remove_self_loops, to_undirected

from gconv.errors import GconvValueError


def metis_partition(
    edge_index: Tensor, num_nodes: int, num_parts: int, recursive: bool = False
) -> Tensor:
    """The METIS part of every node, ``[num_nodes]`` in ``[0, num_parts)``, computed by
    ``pymetis`` on the graph made undirected and loop-free (as METIS requires)."""
    try:
        import pymetis
    except ImportError as err:
        raise ImportError(
            "metis_partition needs pymetis: pip install 'gconv[large]' (or pymetis)"
        ) from err
    if num_parts < 2:
        return torch.zeros(num_nodes, dtype=torch.long)
    edge_index, _ = remove_self_loops(edge_index.cpu())
    edge_index = to_undirected(edge_index, num_nodes=num_nodes)  # sorted by row
    indptr = torch.zeros(num_nodes + 1, dtype=torch.long)
    indptr[1:] = torch.bincount(edge_index[0], minlength=num_nodes).cumsum(0)
    if hasattr(pymetis, "CSRAdjacency"):  # pymetis 2025 and newer
        adjacency = pymetis.CSRAdjacency(indptr.numpy(), edge_index[1].numpy())
        _, parts = pymetis.part_graph(num_parts, adjacency, recursive=recursive)
    else:
        _, parts = pymetis.part_graph(
            num_parts, xadj=indptr.numpy(), adjncy=edge_index[1].numpy(), recursive=recursive
        )
    return torch.as_tensor(parts, dtype=torch.long)


class ClusterData(PyGClusterData):
    """PyG's ``ClusterData``, partitioned by ``pymetis`` where PyG has no METIS.

    Args:
        data: the graph.
        num_parts: number of parts.
        recursive: recursive bisection instead of k-way partitioning.
        **kwargs: PyG's other ``ClusterData`` arguments (``save_dir``, where PyG keeps
            the partition, ...).

    Example:
        >>> from torch_geometric.loader import ClusterLoader
        >>> from gconv.data import load_dataset
        >>> cora = load_dataset("cora").train
        >>> parts = ClusterData(cora, num_parts=32)
        >>> len(parts)
        32
        >>> loader = ClusterLoader(parts, batch_size=4, shuffle=True)
    """

    def _metis(self, edge_index: Tensor, num_nodes: int) -> Tensor:
        import torch_geometric.typing

        if torch_geometric.typing.WITH_TORCH_SPARSE or torch_geometric.typing.WITH_METIS:
            return super()._metis(edge_index, num_nodes)
        return metis_partition(edge_index, num_nodes, self.num_parts, self.recursive).to(
            edge_index.device
        )

    def __init__(self, data: Any, num_parts: int, recursive: bool = False, **kwargs: Any) -> None:
        if isinstance(num_parts, bool) or not isinstance(num_parts, int) or num_parts < 1:
            raise GconvValueError(f"ClusterData: num_parts must be an int >= 1 (got {num_parts!r})")
        super().__init__(data, num_parts, recursive, **kwargs)
