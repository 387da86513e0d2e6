r"""Attention-weighted aggregation as sparse products: the core of :class:`GATLayer`.

PyG's ``GATConv`` gathers ``x_j`` for every edge and head (an ``[E, H, C]`` tensor),
multiplies it by the coefficients and scatters it back; autograd keeps the gathered
tensor and scatters again in the backward. Here, for each head :math:`h`, the
coefficients are the values of a sparse matrix :math:`A_h` (a row per target) and

.. math::
    \mathrm{out}_h = A_h X_h, \quad
    \frac{\partial L}{\partial X_h} = A_h^\top G_h, \quad
    \frac{\partial L}{\partial \alpha_{ijh}} = \langle G_{ih}, X_{jh} \rangle

so the forward and the features' gradient are CSR products, and the coefficients'
gradient a sampled product (``torch.sparse.sampled_addmm``: :math:`G_h X_h^\top` at the
graph's edges only), over a structure built once per graph and shared by the heads.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch import Tensor

from gconv.graph.adjacency import csr_matrix, row_pointers


class Structure(NamedTuple):
    """A graph's edges as CSR matrices with a row per target (``matrix``) and a row per
    source (``transpose``): the permutation that sorts the edges into each, the row
    pointers and the column indices; ``rank`` puts the target-sorted order back into
    the edges' own."""

    by_target: Tensor
    target_rows: Tensor
    target_cols: Tensor
    rank: Tensor
    by_source: Tensor
    source_rows: Tensor
    source_cols: Tensor
    num_nodes: int


def structure(edge_index: Tensor, num_nodes: int) -> Structure:
    """The sorted orders, row pointers and columns of ``edge_index``, once per graph."""
    source, target = edge_index
    by_target = torch.argsort(target * num_nodes + source)
    by_source = torch.argsort(source * num_nodes + target)
    rank = torch.empty_like(by_target)
    rank[by_target] = torch.arange(by_target.numel(), device=by_target.device)
    return Structure(
        by_target,
        row_pointers(target[by_target], num_nodes),
        source[by_target],
        rank,
        by_source,
        row_pointers(source[by_source], num_nodes),
        target[by_source],
        num_nodes,
    )


def _products(rows: Tensor, cols: Tensor, values: Tensor, x: Tensor) -> Tensor:
    """``[H, N, C]``: for each head ``h``, the CSR matrix (``rows``, ``cols``,
    ``values[h]``) times ``x[h]``; ``values`` is ``[H, nnz]`` and ``x`` ``[H, N, C]``."""
    heads, n, _ = x.shape
    out = torch.empty_like(x)
    for h in range(heads):
        # torch.sparse.mm, not torch.mm(..., out=): FLOP counters take the latter for a
        # dense product of the full [N, N] matrix
        out[h] = torch.sparse.mm(csr_matrix(rows, cols, values[h], n), x[h])
    return out


def _sampled(rows: Tensor, cols: Tensor, a: Tensor, b: Tensor) -> Tensor:
    """``[H, nnz]``: for each head ``h``, ``a[h] @ b[h].T`` at the CSR pattern's entries,
    in its order; ``a`` and ``b`` are ``[H, N, C]``."""
    heads, n, _ = a.shape
    pattern = csr_matrix(rows, cols, a.new_zeros(cols.numel()), n)
    out = a.new_empty(heads, cols.numel())
    for h in range(heads):
        product = torch.sparse.sampled_addmm(pattern, a[h], b[h].t(), beta=0.0)
        out[h] = product.values()
    return out


def _full(t: Tensor) -> Tensor:
    """Half precision in float32 (torch has no half CSR kernels on the CPU)."""
    return t.float() if t.dtype in (torch.float16, torch.bfloat16) else t


def _heads_first(t: Tensor, dtype: torch.dtype) -> Tensor:
    """``[N, H, C]`` as a contiguous ``[H, N, C]`` in ``dtype``: one copy."""
    return t.to(dtype).permute(1, 0, 2).contiguous()


class AttentionAggregate(torch.autograd.Function):
    """``out[i, h] = sum_j alpha[(j, i), h] * x[j, h]`` over the edges ``j -> i``."""

    @staticmethod
    def forward(ctx: Any, alpha: Tensor, x: Tensor, graph: Structure) -> Tensor:
        with torch.autocast(x.device.type, enabled=False):
            # [H, E] in CSR order: a gather of whole rows, then one transpose
            values = _full(alpha).index_select(0, graph.by_target).t().contiguous()
            h = _heads_first(x, values.dtype)
            ctx.graph = graph
            ctx.save_for_backward(alpha, h)
            out = _products(graph.target_rows, graph.target_cols, values, h)
            return out.permute(1, 0, 2).to(x.dtype)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None, None]:
        alpha, h = ctx.saved_tensors
        graph: Structure = ctx.graph
        grad_alpha = grad_x = None
        with torch.autocast(grad.device.type, enabled=False):
            g = _heads_first(grad, h.dtype)
            if ctx.needs_input_grad[1]:
                values = _full(alpha).index_select(0, graph.by_source).t().contiguous()
                grad_h = _products(graph.source_rows, graph.source_cols, values, g)
                grad_x = grad_h.permute(1, 0, 2).to(grad.dtype)
            if ctx.needs_input_grad[0]:
                sampled = _sampled(graph.target_rows, graph.target_cols, g, h)
                grad_alpha = sampled.t().index_select(0, graph.rank).to(alpha.dtype)
        return grad_alpha, grad_x, None


def attention_aggregate(alpha: Tensor, x: Tensor, graph: Structure) -> Tensor:
    """The attention-weighted sum of :class:`AttentionAggregate` at every target."""
    out: Tensor = AttentionAggregate.apply(alpha, x, graph)
    return out
