r"""The gated GCN's gating and aggregation on full pixel grids, on the image view.

On ``B`` full ``H x W`` grids an edge is a pixel offset: every pixel receives the
offset ``(dy, dx)`` from the pixel that far away, where that pixel is in bounds. So the
gates of one offset are one elementwise pass over two shifted windows of the
channels-last image view (the nodes' own memory, no copy), and the sums over a node's
edges are in-place adds into a window: no per-edge gather, no scatter, no edge order.
The backward is :mod:`gconv.graph._gated_aggregate`'s, offset by offset:

.. math::
    g_i = \frac{\partial L / \partial \hat h_i}{\sum_{j'} \sigma_{ij'} + \epsilon}, \quad
    \frac{\partial L}{\partial (B h_j)} \mathrel{+}= g_i \odot \sigma_{ij}, \quad
    \frac{\partial L}{\partial \hat e_{ij}} = g_i \odot (B h_j - \hat h_i) \odot
    \sigma_{ij} (1 - \sigma_{ij})

with :math:`\hat e_{ij} = D h_i + E h_j` (plus :math:`C`'s bias), whose gradient goes
to the target's :math:`D h_i` and the source's :math:`E h_j`. Tests hold it to the
gathering path, values and gradients.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

Window = tuple[slice, slice]


def windows(height: int, width: int, dy: int, dx: int) -> tuple[Window, Window]:
    """The target pixels that receive offset ``(dy, dx)`` and their source pixels, as
    ``(rows, cols)`` slices of an ``H x W`` grid."""
    target = (slice(max(0, -dy), height - max(0, dy)), slice(max(0, -dx), width - max(0, dx)))
    source = (slice(max(0, dy), height + min(0, dy)), slice(max(0, dx), width + min(0, dx)))
    return target, source


class GridGatedAggregate(torch.autograd.Function):
    """``sum_j sigmoid(d_i + e_j) * bh_j / (sum_j sigmoid(d_i + e_j) + eps)`` over the
    ``offsets`` of full pixel grids of ``grid_shape``; inputs and output ``[B H W, C]``
    in row-major pixel order."""

    @staticmethod
    def forward(
        ctx: Any,
        dh: Tensor,
        eh: Tensor,
        bh: Tensor,
        grid_shape: tuple[int, int, int],
        offsets: tuple[tuple[int, int], ...],
        eps: float,
    ) -> Tensor:
        b, height, width = grid_shape
        c = bh.size(1)
        d, e, v = (t.view(b, height, width, c) for t in (dh, eh, bh))
        num = bh.new_zeros(b, height, width, c)
        den = bh.new_zeros(b, height, width, c)
        gates = []
        for dy, dx in offsets:
            (ty, tx), (sy, sx) = windows(height, width, dy, dx)
            gate = torch.add(d[:, ty, tx], e[:, sy, sx]).sigmoid_()
            num[:, ty, tx].addcmul_(gate, v[:, sy, sx])
            den[:, ty, tx].add_(gate)
            gates.append(gate)
        mean = num.div_(den.add_(eps))
        ctx.save_for_backward(bh, mean, den, *gates)
        ctx.grid_shape, ctx.offsets = grid_shape, offsets
        return mean.view(-1, c)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        bh, mean, den, *gates = ctx.saved_tensors
        b, height, width = ctx.grid_shape
        c = bh.size(1)
        v = bh.view(b, height, width, c)
        scaled = grad.reshape(b, height, width, c) / den
        grad_d, grad_e, grad_b = (torch.zeros_like(scaled) for _ in range(3))
        for (dy, dx), gate in zip(ctx.offsets, gates, strict=True):
            (ty, tx), (sy, sx) = windows(height, width, dy, dx)
            per_edge = scaled[:, ty, tx]
            grad_b[:, sy, sx].addcmul_(per_edge, gate)
            edge = torch.sub(v[:, sy, sx], mean[:, ty, tx]).mul_(per_edge)
            edge.mul_(gate).addcmul_(edge, gate, value=-1)  # times gate * (1 - gate)
            grad_d[:, ty, tx].add_(edge)
            grad_e[:, sy, sx].add_(edge)
        return grad_d.view(-1, c), grad_e.view(-1, c), grad_b.view(-1, c), None, None, None


def grid_gated_aggregate(
    dh: Tensor,
    eh: Tensor,
    bh: Tensor,
    grid_shape: tuple[int, int, int],
    offsets: tuple[tuple[int, int], ...],
    eps: float,
) -> Tensor:
    """The gated mean of :class:`GridGatedAggregate` at every pixel node."""
    out: Tensor = GridGatedAggregate.apply(dh, eh, bh, grid_shape, offsets, eps)
    return out
