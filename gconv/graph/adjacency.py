"""Sparse adjacency matrices for graph convolution: a graph normalized once into CSR
matrices (:func:`normalized_sparse`), their product with features, and the edges of
the sparse adjacencies PyG's layers take (``adj_t``)."""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple

import torch
import torch_geometric.typing
from torch import Tensor

from gconv.errors import GconvValueError
from gconv.graph.norm import gcn_normalize


class NormalizedAdjacency(NamedTuple):
    """A normalized adjacency as two CSR matrices: ``matrix`` (targets as rows) and its
    ``transpose``, which the backward pass multiplies by. Built once per graph or batch
    and shared by every layer, it costs two sorts, not one per layer and pass."""

    matrix: Tensor
    transpose: Tensor


def row_pointers(sorted_rows: Tensor, n: int) -> Tensor:
    """CSR row pointers of ``n`` rows from the (sorted) row index of every entry."""
    crow = torch.zeros(n + 1, dtype=torch.long, device=sorted_rows.device)
    crow[1:] = torch.bincount(sorted_rows, minlength=n).cumsum(0)
    return crow


def csr_matrix(crow: Tensor, cols: Tensor, values: Tensor, n: int) -> Tensor:
    """An ``[n, n]`` CSR tensor from sorted indices of a valid graph, so its invariants
    hold without paying for a check."""
    with warnings.catch_warnings():  # "sparse CSR support is in beta": a stable subset
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(crow, cols, values, (n, n), check_invariants=False)


def _csr(rows: Tensor, cols: Tensor, values: Tensor, n: int) -> Tensor:
    order = torch.argsort(rows * n + cols)  # row-major: CSR's order, one sort
    rows, cols, values = rows[order], cols[order], values[order]
    return csr_matrix(row_pointers(rows, n), cols, values, n)


def normalized_sparse(
    edge_index: Tensor,
    edge_weight: Tensor | None,
    num_nodes: int,
    *,
    mode: str = "sym",
    add_self_loops: bool = True,
    dtype: torch.dtype | None = None,
) -> NormalizedAdjacency:
    """:func:`gcn_normalize`'s graph as CSR matrices, the form
    :meth:`GCNLayer.diffuse` multiplies by in one sparse product per layer.

    A half-precision ``dtype`` (features under autocast) gives float32 matrices: torch
    has no bfloat16 or float16 sparse CSR product on the CPU, and the product returns
    the features' dtype (see ``AdjacencyProduct``)."""
    if dtype in (torch.bfloat16, torch.float16):
        dtype = torch.float32
    index, weight = gcn_normalize(
        edge_index, edge_weight, num_nodes, mode=mode, add_self_loops=add_self_loops, dtype=dtype
    )
    weight = weight.detach()  # no gradient flows to the graph's weights on this path
    return NormalizedAdjacency(
        _csr(index[1], index[0], weight, num_nodes), _csr(index[0], index[1], weight, num_nodes)
    )


class AdjacencyProduct(torch.autograd.Function):
    """``matrix @ h``, whose gradient ``transpose @ grad`` reuses the prebuilt transpose
    (torch's own backward would transpose, and sort, the matrix again every layer)."""

    # in the matrix's dtype, outside autocast: under bfloat16 autocast the product stays
    # float32 (torch has no bfloat16 sparse CSR kernel on the CPU), and the result comes
    # back in h's dtype

    @staticmethod
    def forward(ctx: Any, matrix: Tensor, transpose: Tensor, h: Tensor) -> Tensor:
        ctx.transpose = transpose
        return _sparse_mm(matrix, h)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[None, None, Tensor]:
        return None, None, _sparse_mm(ctx.transpose, grad)


def _sparse_mm(matrix: Tensor, h: Tensor) -> Tensor:
    with torch.autocast(h.device.type, enabled=False):
        return torch.sparse.mm(matrix, h.to(matrix.dtype)).to(h.dtype)


def is_sparse_tensor(adj: object) -> bool:
    """A torch-sparse ``SparseTensor`` (only where torch-sparse is installed)."""
    return torch_geometric.typing.WITH_TORCH_SPARSE and isinstance(
        adj, torch_geometric.typing.SparseTensor
    )


def is_adjacency(edge_index: object) -> bool:
    """A sparse adjacency matrix, as PyG layers take one, rather than an edge list."""
    if isinstance(edge_index, Tensor):
        return edge_index.layout != torch.strided
    return is_sparse_tensor(edge_index)


def adjacency_edges(
    owner: str, adj_t: Any, n: int, *, dtype: torch.dtype, loops: bool, improved: bool
) -> tuple[Tensor, Tensor]:
    """The edges (``[2, E]`` sources and targets) and weights of a sparse adjacency as
    PyG's layers take it, ``adj_t``: a torch sparse tensor of any layout, or a
    ``SparseTensor``, with a row per target. With ``loops``, the self-loops PyG's
    ``gcn_norm`` gives such a matrix: ``I`` (``2I`` with ``improved``) added to a torch
    sparse matrix, its diagonal set to that in a ``SparseTensor``."""
    if tuple(adj_t.sizes() if is_sparse_tensor(adj_t) else adj_t.shape) != (n, n):
        shape = tuple(adj_t.sizes()) if is_sparse_tensor(adj_t) else tuple(adj_t.shape)
        raise GconvValueError(f"{owner}: the sparse adjacency must be [{n}, {n}] (got {shape})")
    if is_sparse_tensor(adj_t):
        target, source, value = adj_t.coo()
    else:
        coo = adj_t.to_sparse_coo().coalesce()
        (target, source), value = coo.indices(), coo.values()
    if value is None:
        value = torch.ones(source.numel(), dtype=dtype, device=source.device)
    if loops:
        if is_sparse_tensor(adj_t):  # fill_diag: the diagonal replaced
            keep = source != target
            source, target, value = source[keep], target[keep], value[keep]
        node = torch.arange(n, device=source.device)
        fill = torch.full((n,), 2.0 if improved else 1.0, dtype=value.dtype)
        source, target = torch.cat([source, node]), torch.cat([target, node])
        value = torch.cat([value, fill.to(value.device)])
    return torch.stack([source, target]), value
