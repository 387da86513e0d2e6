r"""Attention-weighted aggregation as sparse products: the core of :class:`GATLayer`.

PyG's ``GATConv`` gathers ``x_j`` for every edge and head (an ``[E, H, C]`` tensor),
multiplies it by the coefficients and scatters it back; autograd keeps the gathered
tensor and scatters again in the backward. Here the coefficients of all heads are the
values of one sparse matrix :math:`A` over (node, head) pairs, block-diagonal in the
heads: row :math:`iH + h` holds :math:`\alpha_{ijh}` at column :math:`jH + h`. With the
features ``[N, H, C]`` viewed as ``[N H, C]`` (no copy),

.. math::
    \mathrm{out} = A X, \quad
    \frac{\partial L}{\partial X} = A^\top G, \quad
    \frac{\partial L}{\partial \alpha_{ijh}} = \langle G_{iH+h}, X_{jH+h} \rangle

so the forward and the features' gradient are one CSR product each, and the
coefficients' gradient one sampled product (``torch.sparse.sampled_addmm``:
:math:`G X^\top` at the matrix's entries only), over a structure built once per graph
and shared by a network's layers. The coefficients stay ``[E, H]`` in the graph's
target-sorted order; a gather puts them in the matrix's order.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch import Tensor

from gconv.graph.adjacency import csr_matrix, row_pointers


class Blocks(NamedTuple):
    """The (node, head) matrices of one graph for ``H`` heads: row pointers and columns
    of :math:`A` (``rows``, ``cols``) and of :math:`A^\\top` (``t_rows``, ``t_cols``);
    ``gather`` and ``t_gather`` take the flat ``[E, H]`` coefficients to each matrix's
    value order, and ``positions`` takes :math:`A`'s value order back to theirs."""

    rows: Tensor
    cols: Tensor
    gather: Tensor
    positions: Tensor
    t_rows: Tensor
    t_cols: Tensor
    t_gather: Tensor


class Structure(NamedTuple):
    """A graph's edges as CSR matrices with a row per target and a row per source: the
    permutation that sorts the edges by target, the row pointers and the column indices.
    The coefficients live in the target-sorted order (``targets`` is each entry's row);
    ``rank`` puts that order back into the edges' own and ``to_source`` takes it to the
    source-sorted one. ``blocks`` keeps :class:`Blocks` by number of heads."""

    by_target: Tensor
    target_rows: Tensor
    target_cols: Tensor
    targets: Tensor
    rank: Tensor
    to_source: Tensor
    source_rows: Tensor
    source_cols: Tensor
    num_nodes: int
    blocks: dict[int, Blocks]


def structure(edge_index: Tensor, num_nodes: int) -> Structure:
    """The sorted orders, row pointers and columns of ``edge_index``, once per graph."""
    source, target = edge_index
    by_target = torch.argsort(target * num_nodes + source)
    by_source = torch.argsort(source * num_nodes + target)
    rank = torch.empty_like(by_target)
    rank[by_target] = torch.arange(by_target.numel(), device=by_target.device)
    targets = target[by_target]
    return Structure(
        by_target,
        row_pointers(targets, num_nodes),
        source[by_target],
        targets,
        rank,
        rank[by_source],
        row_pointers(source[by_source], num_nodes),
        target[by_source],
        num_nodes,
        {},
    )


def _expand(ptr: Tensor, cols: Tensor, heads: int) -> tuple[Tensor, Tensor, Tensor]:
    """The block-diagonal (node, head) matrix of the CSR pattern (``ptr``, ``cols``):
    its row pointers, its columns, and ``[nnz * H]``: where entry ``e``'s head ``h`` is
    in its value order (row ``iH + h`` holds row ``i``'s entries for head ``h``)."""
    nnz, device = cols.numel(), cols.device
    degree = ptr[1:] - ptr[:-1]
    rows = torch.repeat_interleave(torch.arange(degree.numel(), device=device), degree)
    offsets = torch.arange(heads, device=device)
    start, length = ptr.index_select(0, rows), degree.index_select(0, rows)
    first = torch.arange(nnz, device=device).add_(start, alpha=heads - 1)  # H ptr_i + k
    positions = torch.addcmul(first.unsqueeze(1), length.unsqueeze(1), offsets).view(-1)
    big_rows = torch.full((degree.numel() * heads + 1,), nnz * heads, device=device)
    big_rows[:-1] = torch.addcmul(
        (heads * ptr[:-1]).unsqueeze(1), degree.unsqueeze(1), offsets
    ).view(-1)
    columns = cols.unsqueeze(1) * heads + offsets
    big_cols = torch.empty(nnz * heads, dtype=cols.dtype, device=device)
    big_cols.index_copy_(0, positions, columns.view(-1))
    return big_rows, big_cols, positions


def blocks(graph: Structure, heads: int) -> Blocks:
    """The graph's :class:`Blocks` for ``heads`` heads, built on first use."""
    if heads not in graph.blocks:
        rows, cols, positions = _expand(graph.target_rows, graph.target_cols, heads)
        flat = torch.arange(positions.numel(), device=positions.device)
        gather = torch.empty_like(flat).index_copy_(0, positions, flat)
        t_rows, t_cols, t_positions = _expand(graph.source_rows, graph.source_cols, heads)
        offsets = torch.arange(heads, device=flat.device)
        entries = graph.to_source.unsqueeze(1) * heads + offsets
        t_gather = torch.empty_like(flat).index_copy_(0, t_positions, entries.view(-1))
        graph.blocks[heads] = Blocks(rows, cols, gather, positions, t_rows, t_cols, t_gather)
    return graph.blocks[heads]


def _full(t: Tensor) -> Tensor:
    """Half precision in float32 (torch has no half CSR kernels on the CPU)."""
    return t.float() if t.dtype in (torch.float16, torch.bfloat16) else t


class AttentionAggregate(torch.autograd.Function):
    """``out[i, h] = sum_j alpha[e, h] * x[j, h]`` over the edges ``e = (j -> i)``, with
    ``alpha`` ``[E, H]`` in the structure's target-sorted order and ``x`` ``[N, H, C]``."""

    @staticmethod
    def forward(ctx: Any, alpha: Tensor, x: Tensor, graph: Structure) -> Tensor:
        n, heads, channels = x.shape
        with torch.autocast(x.device.type, enabled=False):
            flat = _full(alpha).reshape(-1)
            h = _full(x).reshape(n * heads, channels)
            b = blocks(graph, heads)
            ctx.graph, ctx.alpha_dtype = graph, alpha.dtype
            ctx.save_for_backward(flat, h)
            # torch.sparse.mm, not torch.mm(..., out=): FLOP counters take the latter for
            # a dense product of the full matrix
            a = csr_matrix(b.rows, b.cols, flat.index_select(0, b.gather), n * heads)
            return torch.sparse.mm(a, h).view(n, heads, channels).to(x.dtype)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None, None]:
        flat, h = ctx.saved_tensors
        graph: Structure = ctx.graph
        n, heads, channels = grad.shape
        b = blocks(graph, heads)
        grad_alpha = grad_x = None
        with torch.autocast(grad.device.type, enabled=False):
            g = grad.to(h.dtype).reshape(n * heads, channels)
            if ctx.needs_input_grad[1]:
                values = flat.index_select(0, b.t_gather)
                a_t = csr_matrix(b.t_rows, b.t_cols, values, n * heads)
                grad_x = torch.sparse.mm(a_t, g).view(n, heads, channels).to(grad.dtype)
            if ctx.needs_input_grad[0]:
                pattern = csr_matrix(b.rows, b.cols, flat.new_zeros(flat.numel()), n * heads)
                sampled = torch.sparse.sampled_addmm(pattern, g, h.t(), beta=0.0).values()
                grad_alpha = sampled.index_select(0, b.positions).view(-1, heads)
                grad_alpha = grad_alpha.to(ctx.alpha_dtype)
        return grad_alpha, grad_x, None


def attention_aggregate(alpha: Tensor, x: Tensor, graph: Structure) -> Tensor:
    """The attention-weighted sum of :class:`AttentionAggregate` at every target;
    ``alpha`` is ``[E, H]`` in ``graph``'s target-sorted order, ``x`` ``[N, H, C]``."""
    out: Tensor = AttentionAggregate.apply(alpha, x, graph)
    return out
