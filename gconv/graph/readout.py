r"""Graph readout: one vector per graph from the node features of a batch."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.utils import softmax

from gconv._checks import check_choice, check_features, check_positive_int, check_tensor
from gconv.errors import GconvTypeError, GconvValueError

READOUT_KINDS = ("mean", "sum", "max", "mean_max", "attention")


def _check_batch(owner: str, batch: Tensor | None, num_nodes: int, size: int | None) -> int:
    """Validates the node-to-graph vector and returns the number of graphs."""
    if size is not None:
        check_positive_int(owner, "size", size, minimum=0)
    if batch is None:
        return 1 if size is None else size
    batch = check_tensor(owner, "batch", batch)
    if batch.dim() != 1 or batch.numel() != num_nodes:
        raise GconvValueError(
            f"{owner}: batch must have shape [{num_nodes}] (one graph id per row of x) "
            f"(got {tuple(batch.shape)})"
        )
    if batch.dtype not in (torch.long, torch.int32):
        raise GconvTypeError(f"{owner}: batch must be an integer tensor (got {batch.dtype})")
    if num_nodes == 0:
        return 0 if size is None else size
    lo, hi = int(batch.min()), int(batch.max())
    if lo < 0:
        raise GconvValueError(f"{owner}: batch must hold graph ids >= 0 (got {lo})")
    if size is not None and hi >= size:
        raise GconvValueError(f"{owner}: batch holds graph id {hi}, out of range for size={size}")
    return hi + 1 if size is None else size


class Readout(nn.Module):
    r"""Pools the node features of each graph in a batch into one row.

    .. math::
        \text{mean: } r_g = \frac{1}{|V_g|} \sum_{i \in V_g} x_i \quad
        \text{sum: } r_g = \sum_{i \in V_g} x_i \quad
        \text{max: } r_g = \max_{i \in V_g} x_i

    ``mean_max`` concatenates mean and max. ``attention`` is the gated attention readout
    of Li et al. (2016): :math:`r_g = \sum_{i \in V_g} \mathrm{softmax}_{V_g}(w^\top x_i +
    c)\, x_i`, with a learned gate :math:`(w, c)`. A graph without nodes yields a row of
    zeros for every kind. The plain kinds equal PyG's ``global_*_pool``.

    Paper: `Gated Graph Sequence Neural Networks <https://arxiv.org/abs/1511.05493>`_
    (attention readout).

    Args:
        kind: ``"mean"``, ``"sum"``, ``"max"``, ``"mean_max"`` or ``"attention"``.
        channels: node feature size; required for ``attention`` (the gate's input).

    Shapes:
        - input: ``x`` :math:`(N, C)`, ``batch`` :math:`(N)` with graph ids in
          :math:`[0, G)`, or ``None`` for one graph; or dense ``x`` :math:`(G, N, C)` (PyG's
          dense batches, ``batch=None``), pooled over its :math:`N` nodes
        - output: :math:`(G, C)`, or :math:`(G, 2C)` for ``mean_max``

    Example:
        >>> readout = Readout("mean_max")
        >>> readout(torch.randn(5, 8), torch.tensor([0, 0, 1, 1, 1])).shape
        torch.Size([2, 16])
    """

    def __init__(self, kind: str = "mean", channels: int | None = None) -> None:
        super().__init__()
        owner = type(self).__name__
        check_choice(owner, "kind", kind, READOUT_KINDS)
        if channels is not None:
            check_positive_int(owner, "channels", channels)
        if kind == "attention" and channels is None:
            raise GconvValueError(f"{owner}: kind 'attention' needs channels (got None)")
        self.kind = kind
        self.channels = channels
        self.gate = nn.Linear(channels, 1) if kind == "attention" and channels else None

    @property
    def out_channels(self) -> int | None:
        """Width of the output rows, if ``channels`` is known."""
        if self.channels is None:
            return None
        return 2 * self.channels if self.kind == "mean_max" else self.channels

    def forward(self, x: Tensor, batch: Tensor | None = None, size: int | None = None) -> Tensor:
        owner = type(self).__name__
        if isinstance(x, Tensor) and x.dim() == 3:
            return self._dense(x, batch)
        x = check_features(owner, x, channels=self.channels)
        num_graphs = _check_batch(owner, batch, x.size(0), size)
        if batch is None:
            batch = x.new_zeros(x.size(0), dtype=torch.long)
        batch = batch.long()
        if self.kind == "sum":
            return _sum(x, batch, num_graphs)
        if self.kind == "mean":
            return _mean(x, batch, num_graphs)
        if self.kind == "max":
            return _max(x, batch, num_graphs)
        if self.kind == "mean_max":
            return torch.cat([_mean(x, batch, num_graphs), _max(x, batch, num_graphs)], dim=-1)
        assert self.gate is not None
        alpha = softmax(self.gate(x), batch, num_nodes=num_graphs, dim=0)
        return _sum(alpha * x, batch, num_graphs)

    def _dense(self, x: Tensor, batch: Tensor | None) -> Tensor:
        """``[B, N, F]``: ``B`` graphs of ``N`` nodes each (PyG's dense batches), pooled
        over the nodes, as PyG's ``global_*_pool(x, None)`` pool them."""
        owner = type(self).__name__
        if batch is not None:
            raise GconvValueError(
                f"{owner}: batch must be None for dense x [B, N, F] (every graph has N nodes) "
                f"(got a batch of shape {tuple(batch.shape)})"
            )
        if self.channels is not None and x.size(-1) != self.channels:
            raise GconvValueError(
                f"{owner}: x must have {self.channels} features (got shape {tuple(x.shape)})"
            )
        if self.kind == "sum":
            return x.sum(dim=1)
        if self.kind == "mean":
            return x.mean(dim=1)
        if self.kind == "max":
            return x.amax(dim=1)
        if self.kind == "mean_max":
            return torch.cat([x.mean(dim=1), x.amax(dim=1)], dim=-1)
        assert self.gate is not None
        return (torch.softmax(self.gate(x), dim=1) * x).sum(dim=1)

    def extra_repr(self) -> str:
        return f"{self.kind!r}" + (f", channels={self.channels}" if self.channels else "")


def _sum(x: Tensor, batch: Tensor, num_graphs: int) -> Tensor:
    return x.new_zeros(num_graphs, x.size(1)).index_add_(0, batch, x)


def _mean(x: Tensor, batch: Tensor, num_graphs: int) -> Tensor:
    count = torch.bincount(batch, minlength=num_graphs).clamp_(min=1).to(x.dtype)
    return _sum(x, batch, num_graphs) / count.view(-1, 1)


def _max(x: Tensor, batch: Tensor, num_graphs: int) -> Tensor:
    out = x.new_zeros(num_graphs, x.size(1))
    index = batch.view(-1, 1).expand_as(x)
    # include_self=False: a graph with nodes takes their max, an empty one keeps its 0
    return out.scatter_reduce(0, index, x, reduce="amax", include_self=False)
