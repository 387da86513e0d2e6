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
from torch_geometric.data import Data, FeatureStore, GraphStore
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


LOADER_KWARGS = (  # what torch's DataLoader takes beside the dataset and the sampler
    "batch_size", "shuffle", "drop_last", "num_workers", "pin_memory", "timeout",
    "worker_init_fn", "multiprocessing_context", "generator", "prefetch_factor",
    "persistent_workers", "pin_memory_device", "in_order", "collate_fn",
)  # fmt: skip


def _check_loader_kwargs(owner: str, kwargs: dict[str, Any]) -> None:
    """A keyword neither PyG's NeighborLoader nor torch's DataLoader takes is named."""
    unknown = sorted(set(kwargs) - set(LOADER_KWARGS))
    if unknown:
        raise GconvTypeError(
            f"{owner}: got an unexpected keyword argument {unknown[0]!r} (it takes PyG's "
            "NeighborLoader arguments and torch's DataLoader ones)"
        )


def _graph_of(owner: str, data: Any) -> Data:
    """The graph a loader samples: ``data``, or the edges of a ``(FeatureStore,
    GraphStore)`` pair's one edge type (PyG's remote backend, homogeneous)."""
    if isinstance(data, Data):
        return data
    if (
        isinstance(data, tuple)
        and len(data) == 2
        and isinstance(data[0], FeatureStore)
        and isinstance(data[1], GraphStore)
    ):
        attrs = data[1].get_all_edge_attrs()
        if len(attrs) != 1 or attrs[0].edge_type is not None:
            raise GconvValueError(
                f"{owner}: a GraphStore must hold one homogeneous edge index (got "
                f"{[a.edge_type for a in attrs]})"
            )
        row, col, _ = data[1].coo()  # COO from any layout the store holds (one type)
        size = attrs[0].size
        num_nodes = max(size) if size else int(torch.cat([row, col]).max()) + 1
        return Data(edge_index=torch.stack([row, col]), num_nodes=num_nodes)
    raise GconvTypeError(
        f"{owner}: data must be a PyG Data or a (FeatureStore, GraphStore) pair; HeteroData "
        f"is not taken (got {type(data).__name__})"
    )


class NeighborLoader(NodeLoader):
    """Mini-batches of sampled neighbourhoods around seed nodes, as PyG's.

    Args:
        data: a PyG ``Data``, or a ``(FeatureStore, GraphStore)`` pair of one edge type
            (PyG's remote backend). ``HeteroData`` is not taken: gconv's sampler is
            homogeneous.
        num_neighbors: neighbours drawn per node at each hop, e.g. ``[10, 5]``; ``-1``
            takes all of them.
        input_nodes: the seed nodes (a bool mask or ids); all nodes when ``None``.
        input_time: the seeds' times, for temporal sampling.
        replace: draw neighbours with replacement.
        subgraph_type: ``"directional"``, ``"bidirectional"`` or ``"induced"``, as
            PyG's (see :class:`~gconv.loader.TorchNeighborSampler` for these options).
        disjoint: each seed its own subgraph (``batch`` says whose each node is).
        temporal_strategy: ``"uniform"`` or ``"last"``.
        time_attr: a node or edge attribute of times: only neighbours not later than
            their seed's ``input_time`` are drawn (disjoint, as PyG's).
        weight_attr: an edge attribute: neighbours drawn in proportion to it.
        transform: applied to each batch.
        transform_sampler_output: as PyG's.
        is_sorted: as PyG's: a hint that gconv's sampler does not need.
        filter_per_worker: as PyG's.
        neighbor_sampler: a sampler to use instead, as PyG's.
        directed: as PyG's (deprecated there): ``False`` is ``subgraph_type="induced"``.
        backend: ``"auto"`` (PyG's sampler where installed, else gconv's), ``"torch"``
            or ``"pyg"``.
        **kwargs: ``batch_size``, ``shuffle``, ``drop_last``, ``num_workers``, ... of
            ``torch.utils.data.DataLoader``.

    Example:
        >>> from gconv.data import load_dataset
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
        input_time: Tensor | None = None,
        replace: bool = False,
        subgraph_type: str = "directional",
        disjoint: bool = False,
        temporal_strategy: str = "uniform",
        time_attr: str | None = None,
        weight_attr: str | None = None,
        transform: Callable[..., Any] | None = None,
        transform_sampler_output: Callable[..., Any] | None = None,
        is_sorted: bool = False,
        filter_per_worker: bool | None = None,
        neighbor_sampler: Any = None,
        directed: bool = True,
        *,
        backend: str = "auto",
        **kwargs: Any,
    ) -> None:
        owner = type(self).__name__
        graph = _graph_of(owner, data)
        check_input_nodes(owner, input_nodes, graph.num_nodes)
        if "batch_size" in kwargs:
            check_positive_int(owner, "batch_size", kwargs["batch_size"])
        if backend not in ("auto", "torch", "pyg"):
            raise GconvValueError(
                f"{owner}: backend must be 'auto', 'torch' or 'pyg' (got {backend!r})"
            )
        _check_loader_kwargs(owner, kwargs)
        if not directed:  # PyG's deprecated spelling of an induced subgraph
            subgraph_type = "induced"
        options: dict[str, Any] = {  # PyG's sampling options, as its NeighborLoader names them
            "subgraph_type": subgraph_type,
            "disjoint": disjoint,
            "temporal_strategy": temporal_strategy,
            "time_attr": time_attr,
            "weight_attr": weight_attr,
        }
        pyg = backend == "pyg" or (backend == "auto" and pyg_sampling_available())
        if neighbor_sampler is not None:
            sampler: Any = neighbor_sampler
            self.backend = "given"
        elif pyg:
            from torch_geometric.sampler import NeighborSampler

            sampler = NeighborSampler(
                data, list(num_neighbors), replace=replace, is_sorted=is_sorted, **options
            )
            self.backend = "pyg"
        else:
            sampler = TorchNeighborSampler(graph, num_neighbors, replace=replace, **options)
            self.backend = "torch"
        self.num_neighbors = list(num_neighbors)
        super().__init__(
            data,
            node_sampler=sampler,
            input_nodes=input_nodes,
            input_time=input_time,
            transform=transform,
            transform_sampler_output=transform_sampler_output,
            filter_per_worker=filter_per_worker,
            **kwargs,
        )
