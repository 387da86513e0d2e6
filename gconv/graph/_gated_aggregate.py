r"""The gated GCN's edge gating and aggregation as one autograd function.

PyG's ``propagate`` for :class:`~gconv.graph.gated_gcn.GatedGCNLayer` gathers ``B h_j``,
multiplies it by the gate, concatenates the gate beside it and scatters ``[E, 2C]``;
autograd then keeps every intermediate and accumulates through ``index_put``. Here the
forward keeps only the gate and the normalized sum, and the backward uses

.. math::
    \frac{\partial L}{\partial \sigma_{ij}} = g_i \odot (B h_j - \hat h_i), \quad
    g_i = \frac{\partial L / \partial \hat h_i}{\sum_{j'} \sigma_{ij'} + \epsilon}

with :math:`\hat h_i` the gated mean, so no ``[E, 2C]`` tensor and no concatenation is
made. It computes the same function as the ``propagate`` path, which a test holds it to
(values and gradients).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor


class GatedAggregate(torch.autograd.Function):
    """``sum_j sigmoid(e_ij) * bh_j / (sum_j sigmoid(e_ij) + eps)`` over the edges
    ``source -> target``, and the gate ``sigmoid(e_ij)``."""

    @staticmethod
    def forward(
        ctx: Any, e_hat: Tensor, bh: Tensor, source: Tensor, target: Tensor, eps: float
    ) -> Tensor:
        gate = torch.sigmoid(e_hat)
        messages = bh.index_select(0, source).mul_(gate)
        num = torch.zeros_like(bh).index_add_(0, target, messages)
        den = torch.zeros_like(bh).index_add_(0, target, gate).add_(eps)
        mean = num.div_(den)
        ctx.save_for_backward(gate, bh, mean, den, source, target)
        return mean

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        gate, bh, mean, den, source, target = ctx.saved_tensors
        scaled = grad / den
        per_edge = scaled.index_select(0, target)
        grad_bh = None
        if ctx.needs_input_grad[1]:
            grad_bh = torch.zeros_like(bh).index_add_(0, source, per_edge * gate)
        grad_e = None
        if ctx.needs_input_grad[0]:
            diff = bh.index_select(0, source).sub_(mean.index_select(0, target))
            grad_e = diff.mul_(per_edge).mul_(gate * (1 - gate))
        return grad_e, grad_bh, None, None, None


def gated_aggregate(
    e_hat: Tensor, bh: Tensor, source: Tensor, target: Tensor, eps: float
) -> Tensor:
    """The gated mean of :class:`GatedAggregate` at every node."""
    out: Tensor = GatedAggregate.apply(e_hat, bh, source, target, eps)
    return out
