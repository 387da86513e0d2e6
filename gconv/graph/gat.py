r"""Graph attention (Veličković et al.) with its aggregation as sparse products."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch_geometric.nn import GATConv
from torch_geometric.utils import add_self_loops, remove_self_loops

from gconv._checks import check_positive_int, check_probability
from gconv.graph._attention import Structure, attention_aggregate, structure
from gconv.graph._cache import GraphCache

# the structure of the last graph seen, shared by every layer with the same self-loop
# options: a network's layers all take the batch's edge_index, so it is sorted once per
# batch, not once per layer (a hit needs the same edges, see GraphCache)
_SHARED: dict[tuple[bool, Any], GraphCache[tuple[Tensor, Tensor | None, Structure]]] = {}


def _pair(in_channels: Any) -> tuple[Any, ...]:
    """``in_channels`` as GATConv reads it: one width, or a bipartite (source, target)."""
    return tuple(in_channels) if isinstance(in_channels, (tuple, list)) else (in_channels,)


class GATLayer(GATConv):
    r"""PyG's :class:`~torch_geometric.nn.conv.GATConv`, the same parameters and function,
    with the attention-weighted sum computed as one CSR product over all heads.

    .. math::
        \mathbf{x}'_i = \Big\Vert_{h=1}^{H} \sum_{j \in \mathcal{N}(i) \cup \{ i \}}
        \alpha^h_{i,j} \mathbf{\Theta}^h \mathbf{x}_j, \quad
        \alpha^h_{i,j} = \mathrm{softmax}_j \big(\mathrm{LeakyReLU}(
        \mathbf{a}^{h\top}_{s} \mathbf{\Theta}^h \mathbf{x}_j
        + \mathbf{a}^{h\top}_{t} \mathbf{\Theta}^h \mathbf{x}_i)\big)

    The coefficients are PyG's own (``GATConv.edge_update``: LeakyReLU, the softmax over
    each target's edges, dropout), so a seeded dropout draws the same masks. The sum
    :math:`\sum_j \alpha_{ij} x_j` is where ``GATConv`` spends its time on a CPU: an
    ``[E, H, C]`` gather, a product and a scatter, forward and backward. Here the edges
    are sorted by target once per graph (cached, as :class:`gconv.nn.GCNLayer` caches
    its normalization, and shared by a network's layers); the coefficients are computed
    in that order, so the softmax is a segment reduction over the row pointers, and the
    sum is one CSR product over (node, head) pairs, with a sampled product for the
    coefficients' gradient (``gconv/graph/_attention.py``). In training with
    ``dropout``, the coefficients are computed in the edges' order instead, so that a
    seeded dropout draws ``GATConv``'s masks.

    Paper: `Graph Attention Networks <https://arxiv.org/abs/1710.10903>`_.

    Args:
        in_channels: input features (an ``int``: the bipartite ``(source, target)``
            form and ``size`` are passed to ``GATConv``'s own path).
        out_channels: features per head.
        heads: attention heads.
        **kwargs: ``GATConv``'s options, all covered by the fast path: ``concat``,
            ``negative_slope``, ``dropout``, ``add_self_loops``, ``edge_dim``,
            ``fill_value``, ``bias``, ``residual``.

    Shapes:
        - input: ``x`` :math:`(N, F_{in})`, ``edge_index`` :math:`(2, E)`, optional
          ``edge_attr`` :math:`(E, D)`
        - output: :math:`(N, H \cdot C)` with ``concat=True``, else :math:`(N, C)`

    Example:
        >>> layer = GATLayer(16, 8, heads=4)
        >>> layer(torch.randn(5, 16), torch.tensor([[0, 1, 2], [1, 2, 3]])).shape
        torch.Size([5, 32])
    """

    def __init__(self, in_channels: Any, out_channels: int, heads: int = 1, **kwargs: Any):
        owner = type(self).__name__
        widths = _pair(in_channels)
        for i, value in enumerate(widths):
            if value != -1:  # -1: PyG's lazy initialization
                name = "in_channels" if len(widths) == 1 else f"in_channels[{i}]"
                check_positive_int(owner, name, value)
        check_positive_int(owner, "out_channels", out_channels)
        check_positive_int(owner, "heads", heads)
        check_probability(owner, "dropout", kwargs.get("dropout", 0.0))
        super().__init__(in_channels, out_channels, heads, **kwargs)

    def forward(
        self,
        x: Any,
        edge_index: Any,
        edge_attr: Tensor | None = None,
        size: Any = None,
        return_attention_weights: bool | None = None,
    ) -> Any:
        if not (isinstance(x, Tensor) and isinstance(edge_index, Tensor)) or size is not None:
            return super().forward(x, edge_index, edge_attr, size, return_attention_weights)
        # a sparse adjacency, separate source/target weights, or (newer PyG) GAT's
        # normalization: GATConv's own path
        if (
            edge_index.layout != torch.strided
            or self.lin is None
            or getattr(self, "normalize", False)
        ):
            return super().forward(x, edge_index, edge_attr, size, return_attention_weights)
        heads, channels = self.heads, self.out_channels
        n = x.size(0)
        res = self.res(x) if self.res is not None else None
        h = self.lin(x).view(-1, heads, channels)
        alpha_source = (h * self.att_src).sum(dim=-1)
        alpha_target = (h * self.att_dst).sum(dim=-1)
        edges, attr, graph = self._graph(edge_index, edge_attr, n)
        if self.training and self.dropout > 0:  # the edges' order: GATConv's dropout masks
            (source, target), ptr = edges, None
        else:  # the target-sorted order: the softmax is a segment reduction over ptr
            source, target, ptr = graph.target_cols, graph.targets, graph.target_rows
            attr = None if attr is None else attr.index_select(0, graph.by_target)
        alpha = self.edge_update(
            alpha_source.index_select(0, source),
            alpha_target.index_select(0, target),
            attr,
            target,
            ptr,
            n,
        )
        if ptr is None:
            alpha = alpha.index_select(0, graph.by_target)  # the aggregate's order
        out = attention_aggregate(alpha, h, graph)
        out = out.reshape(n, heads * channels) if self.concat else out.mean(dim=1)
        if res is not None:
            out = out + res
        if self.bias is not None:
            out = out + self.bias
        if return_attention_weights:
            return out, (edges, alpha.index_select(0, graph.rank))  # in the edges' order
        return out

    def _graph(
        self, edge_index: Tensor, edge_attr: Tensor | None, n: int
    ) -> tuple[Tensor, Tensor | None, Structure]:
        """The edges (self loops as ``GATConv`` adds them) and their sorted structure,
        once per graph; edge features are looked up again when they change."""
        fill = self.fill_value if isinstance(self.fill_value, (float, int, str)) else None
        cache = _SHARED.setdefault((self.add_self_loops, fill), GraphCache())
        cached = cache.get(edge_index, edge_attr, n) if fill is not None else None
        if cached is not None:
            return cached
        edges, attr = edge_index, edge_attr
        if self.add_self_loops:
            edges, attr = remove_self_loops(edges, attr)
            edges, attr = add_self_loops(edges, attr, fill_value=self.fill_value, num_nodes=n)
        value = (edges, attr, structure(edges, n))
        if fill is not None and (edge_attr is None or not edge_attr.requires_grad):
            cache.put(edge_index, edge_attr, n, value)
        return value
