"""Gathering neighbour rows by a table, with a backward that gathers too (col2im)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor


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


class GatherRows(torch.autograd.Function):
    """``out[i, t] = x[table[i, t]]`` (zero where ``table[i, t] == N``).

    The backward of plain indexing accumulates with an atomic-style ``index_put_``; when
    a reverse table exists it is a gather and a sum instead, which is several times faster.
    """

    @staticmethod
    def forward(ctx: Any, x: Tensor, table: Tensor, reverse: Tensor | None) -> Tensor:
        n, t = table.shape
        padded = torch.cat([x, x.new_zeros(1, x.size(1))])
        ctx.save_for_backward(table, reverse if reverse is not None else table.new_empty(0))
        ctx.has_reverse = reverse is not None
        ctx.num_nodes = x.size(0)
        return padded.index_select(0, table.reshape(-1)).view(n, t, x.size(1))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        table, reverse = ctx.saved_tensors
        n, t = table.shape
        c = grad.size(-1)
        flat = grad.reshape(n * t, c)
        if ctx.has_reverse:
            padded = torch.cat([flat, flat.new_zeros(1, c)])
            picked = padded.index_select(0, reverse.reshape(-1))
            return picked.view(ctx.num_nodes, t, c).sum(1), None, None
        out = flat.new_zeros(ctx.num_nodes + 1, c).index_add_(0, table.reshape(-1), flat)
        return out[: ctx.num_nodes], None, None
