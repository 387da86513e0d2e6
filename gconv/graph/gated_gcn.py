r"""The residual gated graph convolution of Bresson and Laurent, with edge features."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import MessagePassing

from gconv._checks import (
    check_bool,
    check_edge_index,
    check_features,
    check_positive_int,
    check_probability,
)
from gconv.errors import GconvValueError
from gconv.graph._cache import GraphCache
from gconv.graph._gated_aggregate import gated_aggregate
from gconv.graph._gated_grid import grid_gated_aggregate
from gconv.graph._grid import grid_stencil

EPS = 1e-6
Offsets = tuple[tuple[int, int], ...]


class GatedGCNLayer(MessagePassing):
    r"""Residual gated graph convolution (Bresson and Laurent, 2017) in the form of
    Dwivedi et al.'s benchmark, with batch norm on nodes and edges.

    .. math::
        \hat e_{ij} &= C e_{ij} + D h_i + E h_j \\
        \eta_{ij} &= \frac{\sigma(\hat e_{ij})}{\sum_{j' \to i} \sigma(\hat e_{ij'}) + \epsilon}
        \\
        \hat h_i &= A h_i + \sum_{j \to i} \eta_{ij} \odot B h_j \\
        h'_i &= h_i + \mathrm{ReLU}(\mathrm{BN}(\hat h_i)), \quad
        e'_{ij} = e_{ij} + \mathrm{ReLU}(\mathrm{BN}(\hat e_{ij}))

    for an edge :math:`j \to i` with features :math:`e_{ij}`; :math:`\sigma` is the
    sigmoid and :math:`\epsilon = 10^{-6}`. The residual terms need
    ``in_channels == out_channels`` and are left out otherwise (or with
    ``residual=False``). :math:`A, B, D, E` are one fused linear map of the nodes.

    Papers: `Residual Gated Graph ConvNets <https://arxiv.org/abs/1711.07553>`_,
    `Benchmarking Graph Neural Networks <https://arxiv.org/abs/2003.00982>`_.

    Args:
        in_channels: node and edge feature size.
        out_channels: output node and edge feature size.
        batch_norm: batch norm on the new node and edge features.
        residual: add the input features to the output.
        dropout: dropout on the outputs.
        fused: compute the gating and aggregation as one autograd function (gathers and
            scatters with a hand-written backward, ``C e_ij`` as one ``addmm`` over the
            gathered node terms) instead of PyG's ``propagate``; the same function, faster
            on the CPU (``benchmarks/fast_layers.py``). On full pixel grids,
            :meth:`grid_aggregate` computes :math:`\hat h` on the image view instead.

    Shapes:
        - input: ``x`` :math:`(N, C_{in})`, ``edge_index`` :math:`(2, E)`, ``edge_attr``
          (``None`` for a graph without edge features: zeros, so :math:`C e_{ij}` is
          :math:`C`'s bias and the edge residual is left out)
          :math:`(E, C_{in})`
        - output: ``(x', edge_attr')`` of shapes :math:`(N, C_{out})`, :math:`(E, C_{out})`

    Example:
        >>> layer = GatedGCNLayer(16, 16)
        >>> x, e = layer(torch.randn(4, 16), torch.tensor([[0, 1, 2], [1, 2, 3]]),
        ...              torch.randn(3, 16))
        >>> x.shape, e.shape
        (torch.Size([4, 16]), torch.Size([3, 16]))
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        batch_norm: bool = True,
        residual: bool = True,
        dropout: float = 0.0,
        fused: bool = False,  # True: the comparison's path, see Args
    ) -> None:
        super().__init__(aggr="add")
        owner = type(self).__name__
        check_positive_int(owner, "in_channels", in_channels)
        check_positive_int(owner, "out_channels", out_channels)
        check_probability(owner, "dropout", dropout)
        for name, flag in (("batch_norm", batch_norm), ("residual", residual), ("fused", fused)):
            check_bool(owner, name, flag)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.batch_norm, self.dropout, self.fused = batch_norm, dropout, fused
        self.residual = residual and in_channels == out_channels
        self.node_lin = nn.Linear(in_channels, 4 * out_channels)  # A, B, D, E
        self.edge_lin = nn.Linear(in_channels, out_channels)  # C
        self.norm_h = nn.BatchNorm1d(out_channels) if batch_norm else nn.Identity()
        self.norm_e = nn.BatchNorm1d(out_channels) if batch_norm else nn.Identity()
        self._grid_cache: GraphCache[dict[tuple[int, ...], Offsets]] = GraphCache()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self.node_lin.reset_parameters()
        self.edge_lin.reset_parameters()
        for norm in (self.norm_h, self.norm_e):
            if isinstance(norm, nn.BatchNorm1d):
                norm.reset_parameters()

    def forward(
        self, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        h_hat, e_hat = self.gate_and_aggregate(x, edge_index, edge_attr)
        h = F.relu(self.norm_h(h_hat))
        e = F.relu(self.norm_e(e_hat))
        if self.residual:
            h = x + h
            e = e if edge_attr is None else edge_attr + e
        h = F.dropout(h, self.dropout, self.training)
        e = F.dropout(e, self.dropout, self.training)
        return h, e

    def gate_and_aggregate(
        self, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None
    ) -> tuple[Tensor, Tensor]:
        r"""The layer before batch norm, ReLU and residuals: :math:`\hat h` and
        :math:`\hat e`. A network with norms of its own (a grid U-Net's stages) calls
        this, with ``edge_attr=None`` on graphs without edge features."""
        owner = type(self).__name__
        x = check_features(owner, x, channels=self.in_channels)
        if edge_attr is not None and (
            edge_attr.dim() != 2 or edge_attr.shape != (edge_index.size(1), self.in_channels)
        ):
            raise GconvValueError(
                f"{owner}: edge_attr must have shape [{edge_index.size(1)}, "
                f"{self.in_channels}] (got {tuple(edge_attr.shape)})"
            )
        ah, bh, dh, eh = self.node_lin(x).chunk(4, dim=-1)
        source, target = edge_index
        if self.fused:
            lin = self.edge_lin
            ends = (dh + lin.bias).index_select(0, target).add_(eh.index_select(0, source))
            e_hat = ends if edge_attr is None else torch.addmm(ends, edge_attr, lin.weight.t())
            return ah + gated_aggregate(e_hat, bh, source, target, EPS), e_hat
        ce = self.edge_lin.bias if edge_attr is None else self.edge_lin(edge_attr)
        e_hat = ce + dh[target] + eh[source]
        gate = torch.sigmoid(e_hat)
        summed = self.propagate(edge_index, bh=bh, gate=gate, size=(x.size(0), x.size(0)))
        weighted, total = summed.split(self.out_channels, dim=-1)
        return ah + weighted / (total + EPS), e_hat

    def grid_aggregate(
        self, x: Tensor, edge_index: Tensor, grid_shape: tuple[int, int, int]
    ) -> Tensor:
        r""":math:`\hat h` of :meth:`gate_and_aggregate` with ``edge_attr=None``, on
        ``B`` full ``H x W`` pixel grids (``grid_shape=(B, H, W)``, as
        :func:`gconv.convert.images_to_graphs` sets it): each pixel offset's gates are one pass over
        shifted windows of the nodes' image view, with no per-edge gathers or scatters
        (:mod:`gconv.graph._gated_grid`); :math:`\hat e` is not formed. The graph is
        checked to be that grid once (then remembered); the sums run in offset order, so
        the result equals the edge paths' up to float rounding."""
        owner = type(self).__name__
        x = check_features(owner, x, channels=self.in_channels)
        offsets = self._grid_offsets(edge_index, grid_shape, x.size(0))
        ah, bh, dh, eh = self.node_lin(x).chunk(4, dim=-1)
        shape = (int(grid_shape[0]), int(grid_shape[1]), int(grid_shape[2]))
        # each term in its own memory: a chunk's rows are 4C floats apart, so a window's
        # rows could not be walked as one run, and every pass over it was 1.2-1.4x slower
        # in the training step (the copies included)
        d, e, b = dh + self.edge_lin.bias, eh.contiguous(), bh.contiguous()
        mean = grid_gated_aggregate(d, e, b, shape, offsets, EPS)
        return ah + mean

    def _grid_offsets(self, edge_index: Tensor, grid_shape: Any, num_nodes: int) -> Offsets:
        """The ``(dy, dx)`` offsets of a checked grid graph, once per graph and shape."""
        owner = type(self).__name__
        plans = self._grid_cache.get(edge_index, None, num_nodes)
        if plans is None:
            check_edge_index(owner, edge_index, num_nodes)
            plans = {}
            self._grid_cache.put(edge_index, None, num_nodes, plans)
        if not isinstance(grid_shape, tuple | list) or len(grid_shape) != 3:
            raise GconvValueError(f"{owner}: grid_shape must be (B, H, W) (got {grid_shape!r})")
        b, height, width = (int(s) for s in grid_shape)
        key = (b, height, width)
        if key not in plans:
            mask = grid_stencil(owner, edge_index, key, num_nodes)
            r = mask.size(0) // 2
            taps = mask.nonzero().tolist()
            plans[key] = tuple((int(i) - r, int(j) - r) for i, j in taps)
        return plans[key]

    def message(self, bh_j: Tensor, gate: Tensor) -> Tensor:
        return torch.cat([gate * bh_j, gate], dim=-1)

    def __repr__(self) -> str:
        fused = ", fused=True" if self.fused else ""
        return f"{type(self).__name__}({self.in_channels}, {self.out_channels}{fused})"
