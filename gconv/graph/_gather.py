"""Convolution over a neighbour table (im2col on a graph), with a gather-only backward."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
import torch.nn.grad
from torch import Tensor


def _as_pixels(a: Tensor) -> Tensor:
    """``[M, K]`` as a channels-last ``[1, K, M, 1]`` image (a view, no copy)."""
    return a.view(1, a.size(0), 1, a.size(1)).permute(0, 3, 1, 2)


def matmul(a: Tensor, b: Tensor, bias: Tensor | None = None) -> Tensor:
    """``a @ b + bias``; on the CPU as a 1x1 convolution over ``a``'s rows.

    oneDNN's convolution runs this tall, narrow product (50,000 x 144 x 32) several
    times faster than the BLAS ``mm`` on a CPU; elsewhere ``addmm`` is used.
    """
    if a.device.type != "cpu":
        return a @ b if bias is None else torch.addmm(bias, a, b)
    weight = b.t().reshape(b.size(1), b.size(0), 1, 1)
    out = F.conv2d(_as_pixels(a), weight, bias)
    return out.permute(0, 2, 3, 1).reshape(a.size(0), b.size(1))


def matmul_t(a: Tensor, g: Tensor) -> Tensor:
    """``a.T @ g`` (a weight gradient), on the CPU through oneDNN's convolution backward."""
    if a.device.type != "cpu":
        return a.t() @ g
    shape = (g.size(1), a.size(1), 1, 1)
    grad = torch.nn.grad.conv2d_weight(_as_pixels(a), shape, _as_pixels(g))
    return grad.view(g.size(1), a.size(1)).t()


def reverse_table(table: Tensor, num_nodes: int) -> Tensor | None:
    """For each source node and tap, the flat ``[N * T]`` slot of the table that reads it.

    Exists when every (source, tap) pair is read at most once, as on a grid graph; slots
    with no reader hold ``N * T``, the index of a zero row appended in the backward.
    """
    n, t = table.shape
    slots = torch.arange(n * t, device=table.device)
    flat = table.reshape(-1)
    read = flat < num_nodes
    key = flat[read] * t + slots[read] % t
    if key.numel() and int(torch.bincount(key, minlength=num_nodes * t).max()) > 1:
        return None
    reverse = torch.full((num_nodes * t,), n * t, device=table.device)
    reverse[key] = slots[read]
    return reverse.view(num_nodes, t)


def reverse_slots(reverse: Tensor, num_nodes: int) -> Tensor:
    """For each ``(source, tap)``, the row of a ``[(N + 1) * T, C]`` per-tap gradient to read.

    That is ``target * T + tap`` for the target reading the source at that tap, and row
    ``N``'s slot (all zeros) where no target reads it.
    """
    t = reverse.size(1)
    target = torch.where(reverse < num_nodes * t, reverse // t, num_nodes)
    return target * t + torch.arange(t, device=reverse.device)


class Buffers:
    """Scratch tensors reused across calls, one per (rows, width, dtype, device).

    A fresh im2col matrix of 50,000 x 288 floats is above glibc's mmap threshold, so each
    call would map new pages and fault through them, which costs more than the gather
    itself. Buffers are used only inside one forward or one backward, never kept in the
    autograd graph, so reusing them is safe.
    """

    def __init__(self) -> None:
        self._store: dict[tuple[object, ...], Tensor] = {}

    def get(self, rows: int, width: int, like: Tensor) -> Tensor:
        key = (rows, width, like.dtype, like.device)
        if key not in self._store:
            self._store[key] = like.new_empty(rows, width)
        return self._store[key]


def _columns(x: Tensor, table: Tensor, buffers: Buffers) -> Tensor:
    n, t = table.shape
    padded = torch.cat([x, x.new_zeros(1, x.size(1))])
    out = buffers.get(n * t, x.size(1), x)
    torch.index_select(padded, 0, table.reshape(-1), out=out)
    return out.view(n, t * x.size(1))


class TableConv(torch.autograd.Function):
    """``out = im2col(x, table) @ weight + bias`` with a gather-only backward.

    ``weight`` is ``[T * C_in, C_out]`` (tap-major). The input gradient is the column
    gradient ``grad_out @ weight.T`` summed back onto the nodes that were read: with
    ``slots`` (from :func:`reverse_slots`) that is a gather and a sum over taps, the
    transposed convolution; without, a scatter with ``index_add_``. The columns are
    recomputed in the backward rather than saved, like a convolution that keeps only its
    input.
    """

    @staticmethod
    def forward(
        ctx: Any,
        x: Tensor,
        weight: Tensor,
        bias: Tensor | None,
        table: Tensor,
        slots: Tensor | None,
        buffers: Buffers,
    ) -> Tensor:
        out = matmul(_columns(x, table, buffers), weight, bias)
        ctx.save_for_backward(x, weight, table, slots if slots is not None else table)
        ctx.has_slots, ctx.has_bias, ctx.buffers = slots is not None, bias is not None, buffers
        return out

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> tuple[Tensor | None, ...]:
        x, weight, table, slots = ctx.saved_tensors
        n, t = table.shape
        c_in = x.size(1)
        grad_x = grad_weight = grad_bias = None
        grad_out = grad_out.contiguous()
        if ctx.needs_input_grad[1]:
            grad_weight = matmul_t(_columns(x, table, ctx.buffers), grad_out)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_bias = grad_out.sum(0)
        if ctx.needs_input_grad[0]:
            # a zero row appended to grad_out gives a zero row N of the column gradient
            padded = torch.cat([grad_out, grad_out.new_zeros(1, grad_out.size(1))])
            grad_columns = matmul(padded, weight.t()).view((n + 1) * t, c_in)
            if ctx.has_slots:
                picked = ctx.buffers.get(n * t, c_in, grad_columns)
                torch.index_select(grad_columns, 0, slots.reshape(-1), out=picked)
                grad_x = picked.view(n, t, c_in).sum(1)
            else:
                grad_x = grad_out.new_zeros(n + 1, c_in).index_add_(
                    0, table.reshape(-1), grad_columns[: n * t]
                )[:n]
        return grad_x, grad_weight, grad_bias, None, None, None


def weighted_taps(
    x: Tensor, layer: Any, edge_index: Tensor, edge_type: Tensor, edge_weight: Tensor
) -> Tensor:
    r"""``GridConv2d`` over weighted typed edges as one sparse product: the weighted sum
    of each node's neighbours per tap, :math:`a_{i,t} = \sum_{j \to i,\ t_{ji} = t}
    w_{ji} x_j` (a ``[N, taps, C_in]`` sparse-times-dense product), then the taps'
    weights, :math:`x'_i = b + \sum_t W_t a_{i,t}`; the same sums as per-edge
    messages, in a fraction of the time on the CPU."""
    weight, bias, groups = layer.weight, layer.bias, layer.groups
    n, taps = x.size(0), weight.size(2) * weight.size(3)
    rows = edge_index[1] * taps + edge_type
    adjacency = torch.sparse_coo_tensor(
        torch.stack([rows, edge_index[0]]),
        edge_weight.to(x.dtype),
        (n * taps, n),
        check_invariants=False,  # the indices are in range: the graph was checked
    )
    gathered = torch.sparse.mm(adjacency.coalesce(), x).view(n, taps, groups, -1)
    out_channels = weight.size(0)
    kernel = weight.reshape(groups, out_channels // groups, -1, taps)  # [g, o, i, t]
    if groups == 1:
        out = gathered.view(n, -1) @ kernel[0].permute(2, 1, 0).reshape(-1, out_channels)
    else:
        out = torch.einsum("ntgi,goit->ngo", gathered, kernel).reshape(n, out_channels)
    return out if bias is None else out + bias
