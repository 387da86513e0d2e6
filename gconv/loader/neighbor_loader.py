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

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.loader import NodeLoader

from gconv._checks import check_positive_int
from gconv.errors import GconvTypeError, GconvValueError
from gconv.loader.neighbor_sampler import TorchNeighborSampler


def pyg_sampling_available() -> bool:
    """Whether PyG's own neighbour sampling can run here (pyg-lib or torch-sparse)."""
    import torch_geometric.typing

    return bool(torch_geometric.typing.WITH_PYG_LIB or torch_geometric.typing.WITH_TORCH_SPARSE)


def check_input_nodes(owner: str, input_nodes: object, num_nodes: int) -> None:
    """Seed nodes as a ``[num_nodes]`` bool mask or node ids in range (checked once, when
    the loader is made, not at every batch)."""
    if input_nodes is None:
        return
    if not isinstance(input_nodes, Tensor):
        raise GconvTypeError(
            f"{owner}: input_nodes must be a bool mask or a tensor of node ids "
            f"(got {type(input_nodes).__name__})"
        )
    if input_nodes.dtype == torch.bool:
        if input_nodes.shape != (num_nodes,):
            raise GconvValueError(
                f"{owner}: input_nodes as a mask must have shape [{num_nodes}], one per node "
                f"(got {tuple(input_nodes.shape)})"
            )
    elif input_nodes.dtype in (torch.long, torch.int32) and input_nodes.dim() == 1:
        lo, hi = (int(v) for v in input_nodes.aminmax()) if input_nodes.numel() else (0, 0)
        if lo < 0 or hi >= num_nodes:
            raise GconvValueError(
                f"{owner}: input_nodes must be node ids in [0, {num_nodes}) (got ids from "
                f"{lo} to {hi})"
            )
    else:
        raise GconvTypeError(
            f"{owner}: input_nodes must be a bool mask or a 1-D integer tensor of node ids "
            f"(got {input_nodes.dtype}, shape {tuple(input_nodes.shape)})"
        )


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
        >>> from gconv import load_dataset
        >>> cora = load_dataset("cora").train
        >>> loader = NeighborLoader(cora, num_neighbors=[10, 5], batch_size=128,
        ...                         input_nodes=cora.train_mask, shuffle=True)
        >>> batch = next(iter(loader))
        >>> seeds = batch.n_id[: batch.batch_size]  # the seed nodes come first
        >>> bool(cora.train_mask[seeds].all()), batch.batch_size
        (True, 128)
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
        check_input_nodes(owner, input_nodes, data.num_nodes)
        if "batch_size" in kwargs:
            check_positive_int(owner, "batch_size", kwargs["batch_size"])
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
