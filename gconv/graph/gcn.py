r"""The graph convolution of Kipf and Welling as a PyG ``MessagePassing`` layer."""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn import Parameter
from torch_geometric.nn import MessagePassing
from torch_geometric.nn.dense.linear import Linear
from torch_geometric.nn.inits import zeros

from gconv._checks import (
    check_choice,
    check_edge_index,
    check_edge_weight,
    check_features,
    check_positive_int,
)
from gconv.graph._cache import GraphCache
from gconv.graph.norm import NORMALIZATIONS, gcn_normalize
from gconv.graph.sparse import is_sparse_csr, sparse_linear


class GCNLayer(MessagePassing):
    r"""Graph convolution of Kipf and Welling (2017).

    .. math::
        X' = \hat D^{-1/2} \hat A \hat D^{-1/2} X W + b, \quad \hat A = A + I

    node-wise: :math:`x'_i = \sum_{j \in \mathcal N(i) \cup \{i\}}
    \frac{e_{ji}}{\sqrt{\hat d_j \hat d_i}} W^\top x_j + b`. Other normalizations are
    available through ``normalize`` (see :func:`gconv.gcn_normalize`). Parameter names
    (``lin.weight``, ``bias``) match ``torch_geometric.nn.GCNConv``, so its state dict
    loads as is.

    Paper: `Semi-Supervised Classification with GCNs <https://arxiv.org/abs/1609.02907>`_.

    Args:
        in_channels: size of each input node feature.
        out_channels: size of each output node feature.
        normalize: ``"sym"``, ``"rw"`` or ``"none"``.
        add_self_loops: add :math:`I` where a node has no self-loop.
        cached: keep the normalized graph between calls (transductive learning). A call
            with a different graph recomputes it rather than reusing the old one.
        bias: learn an additive bias.

    Shapes:
        - input: ``x`` :math:`(N, C_{in})`, dense or a sparse CSR tensor (see
          :mod:`gconv.graph.sparse`), ``edge_index`` :math:`(2, E)`, ``edge_weight``
          :math:`(E)` (optional)
        - output: :math:`(N, C_{out})`

    Example:
        >>> conv = GCNLayer(16, 32)
        >>> conv(torch.randn(4, 16), torch.tensor([[0, 1, 2], [1, 2, 3]])).shape
        torch.Size([4, 32])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        normalize: str = "sym",
        add_self_loops: bool = True,
        cached: bool = False,
        bias: bool = True,
    ) -> None:
        super().__init__(aggr="add")
        owner = type(self).__name__
        check_positive_int(owner, "in_channels", in_channels)
        check_positive_int(owner, "out_channels", out_channels)
        check_choice(owner, "normalize", normalize, NORMALIZATIONS)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.normalize = normalize
        self.add_self_loops = add_self_loops
        self.cached = cached
        self._cache: GraphCache[tuple[Tensor, Tensor]] = GraphCache()
        self.lin = Linear(in_channels, out_channels, bias=False, weight_initializer="glorot")
        if bias:
            self.bias: Parameter | None = Parameter(torch.empty(out_channels))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self.lin.reset_parameters()
        zeros(self.bias)
        self._cache.clear()

    def _normalized(
        self, edge_index: Tensor, edge_weight: Tensor | None, num_nodes: int
    ) -> tuple[Tensor, Tensor]:
        if self.cached:
            hit = self._cache.get(edge_index, edge_weight, num_nodes)
            if hit is not None:
                return hit
        owner = type(self).__name__
        check_edge_index(owner, edge_index, num_nodes)
        check_edge_weight(owner, edge_weight, edge_index.size(1))
        value = gcn_normalize(
            edge_index,
            edge_weight,
            num_nodes,
            mode=self.normalize,
            add_self_loops=self.add_self_loops,
        )
        if self.cached:
            self._cache.put(edge_index, edge_weight, num_nodes, value)
        return value

    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Tensor | None = None) -> Tensor:
        x = check_features(type(self).__name__, x, channels=self.in_channels)
        edge_index, weight = self._normalized(edge_index, edge_weight, x.size(0))
        h = sparse_linear(x, self.lin.weight) if is_sparse_csr(x) else self.lin(x)
        out = self.propagate(edge_index, x=h, edge_weight=weight.to(h.dtype))
        if self.bias is not None:
            out = out + self.bias
        return out

    def message(self, x_j: Tensor, edge_weight: Tensor) -> Tensor:
        return edge_weight.view(-1, 1) * x_j

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_channels}, {self.out_channels})"
