"""``NeighborLoader`` with PyG's signature and batches, on any install.

PyG's own ``NeighborLoader`` needs pyg-lib or torch-sparse, which many installs lack
(there may be no wheels for the current torch). This one plugs
:class:`~gconv.loader.TorchNeighborSampler` into PyG's ``NodeLoader``, so its batches are
PyG's: a ``Data`` subgraph with ``n_id``, ``e_id``, ``batch_size``, ``input_id`` and
``num_sampled_nodes``/``num_sampled_edges``, the seed nodes first. Where pyg-lib or
torch-sparse is installed, it hands over to PyG's sampler. For links, pass the sampler to
PyG's ``LinkLoader`` (``LinkLoader(data, TorchNeighborSampler(data, [10, 5]),
edge_label_index=...)``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.loader import NodeLoader

from gconv.errors import GconvTypeError, GconvValueError
from gconv.loader.neighbor_sampler import TorchNeighborSampler


def pyg_sampling_available() -> bool:
    """Whether PyG's own neighbour sampling can run here (pyg-lib or torch-sparse)."""
    import torch_geometric.typing

    return bool(torch_geometric.typing.WITH_PYG_LIB or torch_geometric.typing.WITH_TORCH_SPARSE)


class NeighborLoader(NodeLoader):
    """Mini-batches of sampled neighbourhoods around seed nodes, as PyG's.

    Args:
        data: a PyG ``Data``.
        num_neighbors: neighbours drawn per node at each hop, e.g. ``[10, 5]``; ``-1``
            takes all of them.
        input_nodes: the seed nodes (a bool mask or ids); all nodes when ``None``.
        transform: applied to each batch.
        backend: ``"auto"`` (PyG's sampler where installed, else gconv's), ``"torch"``
            or ``"pyg"``.
        **kwargs: ``batch_size``, ``shuffle``, ``drop_last``, ``num_workers``, ... of
            ``torch.utils.data.DataLoader``.

    Example:
        >>> loader = NeighborLoader(cora, num_neighbors=[10, 5], batch_size=128,
        ...                         input_nodes=cora.train_mask, shuffle=True)
        >>> batch = next(iter(loader))
        >>> batch.n_id[: batch.batch_size]  # the seed nodes come first
    """

    def __init__(
        self,
        data: Data,
        num_neighbors: Sequence[int],
        input_nodes: Tensor | None = None,
        transform: Callable[..., Any] | None = None,
        *,
        backend: str = "auto",
        **kwargs: Any,
    ) -> None:
        owner = type(self).__name__
        if not isinstance(data, Data):
            raise GconvTypeError(f"{owner}: data must be a PyG Data (got {type(data).__name__})")
        if backend not in ("auto", "torch", "pyg"):
            raise GconvValueError(
                f"{owner}: backend must be 'auto', 'torch' or 'pyg' (got {backend!r})"
            )
        if backend == "pyg" or (backend == "auto" and pyg_sampling_available()):
            from torch_geometric.sampler import NeighborSampler

            sampler: Any = NeighborSampler(data, list(num_neighbors))
            self.backend = "pyg"
        else:
            sampler = TorchNeighborSampler(data, num_neighbors)
            self.backend = "torch"
        self.num_neighbors = list(num_neighbors)
        super().__init__(
            data, node_sampler=sampler, input_nodes=input_nodes, transform=transform, **kwargs
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(num_neighbors={self.num_neighbors}, backend={self.backend!r})"
        )
