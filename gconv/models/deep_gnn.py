"""Deep graph networks in the form of Dwivedi et al.'s benchmark, one class for every layer.

An input embedding, ``num_layers`` message-passing layers each followed by batch norm,
ReLU and a residual connection, a mean readout and a two-layer MLP head: the protocol of
`Benchmarking Graph Neural Networks <https://arxiv.org/abs/2003.00982>`_, with the
message-passing layer as the one variable.
"""

from __future__ import annotations

from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import GINConv, SAGEConv

from gconv._checks import check_choice, check_positive_int
from gconv.errors import GconvValueError
from gconv.graph.adjacency import NormalizedAdjacency, normalized_sparse
from gconv.graph.gat import GATLayer
from gconv.graph.gated_gcn import GatedGCNLayer
from gconv.graph.gcn import GCNLayer
from gconv.graph.grid_conv import GridConv2d
from gconv.graph.readout import Readout
from gconv.models._base import Classifier
from gconv.models._inputs import graph_inputs
from gconv.models._registry import register_model

CONVS = ("gcn", "sage", "gat", "gin", "gated_gcn", "grid_conv")


def _layer(conv: str, width: int, heads: int) -> nn.Module:
    if conv == "gcn":  # the batch is normalized once, see forward_features
        return GCNLayer(width, width, normalize="none", add_self_loops=False)
    if conv == "sage":
        return SAGEConv(width, width)
    if conv == "gat":  # heads are concatenated: width in all; GATConv's function, faster
        return GATLayer(width, width // heads, heads=heads)
    if conv == "gin":
        mlp = nn.Sequential(
            nn.Linear(width, width), nn.BatchNorm1d(width), nn.ReLU(), nn.Linear(width, width)
        )
        return GINConv(mlp)
    if conv == "gated_gcn":  # batch norm and residual inside; fused: 1.2-1.3x (benchmarks/)
        return GatedGCNLayer(width, width, fused=True)
    return GridConv2d(width, width, 3)  # grid_conv: edge types are 3x3 taps


class DeepGNN(Classifier):
    """Embedding, ``num_layers`` x (conv, batch norm, ReLU, residual), readout, MLP head.

    Args:
        conv: the message-passing layer, one of ``gcn`` (:class:`gconv.nn.GCNLayer`, the
            batch normalized once per forward as a sparse matrix, or the stencil path on
            pixel grids), ``sage`` (PyG's ``SAGEConv``), ``gat``
            (:class:`gconv.nn.GATLayer`: PyG's ``GATConv`` as sparse products), ``gin``
            (PyG's ``GINConv`` with a two-layer MLP), ``gated_gcn``
            (:class:`gconv.nn.GatedGCNLayer` on its fused path, edge features embedded
            from ``edge_weight``) and ``grid_conv`` (:class:`gconv.nn.GridConv2d` on
            ``edge_type``, e.g. from :class:`gconv.transforms.DirectionalEdgeType`).
        in_channels: node feature size.
        num_classes: classes.
        hidden_channels: width of every layer (a multiple of ``heads`` for ``gat``).
        num_layers: message-passing layers.
        readout: ``"mean"`` (or another :class:`gconv.nn.Readout` kind) for graphs,
            ``None`` for nodes.
        heads: attention heads of ``gat``.
        dropout: dropout after each layer.
        head_hidden: width of the MLP head's hidden layer (default half the width).

    Shapes:
        - input: a PyG ``Data`` or ``Batch`` with ``x`` :math:`(N, C_{in})` and
          ``edge_index`` :math:`(2, E)` (``edge_weight``, ``edge_type`` where the layer reads them)
        - output: :math:`(G, \\text{num\\_classes})` per graph with a readout, else
          :math:`(N, \\text{num\\_classes})`

    Example:
        >>> from torch_geometric.data import Batch, Data
        >>> edges = torch.tensor([[0, 1, 2], [1, 2, 0]])
        >>> batch = Batch.from_data_list([Data(x=torch.randn(3, 3), edge_index=edges)] * 2)
        >>> DeepGNN("gat", 3, 10, hidden_channels=16)(batch).shape
        torch.Size([2, 10])
    """

    def __init__(
        self,
        conv: str,
        in_channels: int,
        num_classes: int,
        hidden_channels: int = 64,
        num_layers: int = 4,
        *,
        readout: str | None = "mean",
        heads: int = 4,
        dropout: float = 0.0,
        head_hidden: int | None = None,
    ) -> None:
        super().__init__()
        owner = type(self).__name__
        check_choice(owner, "conv", conv, CONVS)
        check_positive_int(owner, "in_channels", in_channels)
        check_positive_int(owner, "num_layers", num_layers)
        if conv == "gat" and hidden_channels % heads:
            raise GconvValueError(
                f"{owner}: hidden_channels must be a multiple of heads={heads} "
                f"(got {hidden_channels})"
            )
        self.conv, self.dropout = conv, dropout
        self.embed = nn.Linear(in_channels, hidden_channels)
        self.edge_embed = nn.Linear(1, hidden_channels) if conv == "gated_gcn" else None
        self.layers = nn.ModuleList(_layer(conv, hidden_channels, heads) for _ in range(num_layers))
        self.norms = nn.ModuleList(
            nn.Identity() if conv == "gated_gcn" else nn.BatchNorm1d(hidden_channels)
            for _ in range(num_layers)
        )
        self.readout = Readout(readout, hidden_channels) if readout else None
        self.input_kind = "graphs" if self.readout is not None else "nodes"
        self.num_features = (
            self.readout.out_channels or hidden_channels if self.readout else hidden_channels
        )
        self.set_head(self.num_features, num_classes, head_hidden or max(hidden_channels // 2, 1))

    def forward_features(self, data: Any) -> Tensor:
        x, edge_index, batch, num_graphs = graph_inputs(type(self).__name__, data)
        weight = getattr(data, "edge_weight", None)
        grid = getattr(data, "grid_shape", None)
        h = self.embed(x)
        graph: Tensor | NormalizedAdjacency = edge_index
        if self.conv == "gcn" and grid is None:  # one normalization for all layers
            graph = normalized_sparse(edge_index, weight, h.size(0), dtype=h.dtype)
        if self.conv == "grid_conv":
            edge_type = getattr(data, "edge_type", None)
            if edge_type is None:
                raise GconvValueError(
                    "DeepGNN: grid_conv needs edge_type (see gconv.transforms.DirectionalEdgeType)"
                )
        e = None
        if self.edge_embed is not None:
            w = weight if weight is not None else h.new_ones(edge_index.size(1))
            e = self.edge_embed(w.view(-1, 1).to(h.dtype))
        for layer, norm in zip(self.layers, self.norms, strict=True):
            if e is not None:
                h, e = layer(h, edge_index, e)
                continue
            if self.conv == "gcn":
                out = layer(h, graph, grid_shape=grid)
            elif self.conv == "grid_conv":
                out = layer(h, edge_index, edge_type)
            else:
                out = layer(h, edge_index)
            h = F.dropout(h + F.relu(norm(out)), self.dropout, self.training)
        if self.readout is None:
            return h
        return self.readout(h, batch, num_graphs)


@register_model(inputs=("nodes", "graphs"))
def gated_gcn(
    in_channels: int,
    num_classes: int,
    *,
    hidden_channels: int = 70,
    num_layers: int = 4,
    dropout: float = 0.0,
    readout: str | None = None,
) -> DeepGNN:
    """Residual gated GCN (Bresson and Laurent) with edge features from ``edge_weight``;
    ``readout="mean"`` for graph classification. The width 70 gives about 100k
    parameters at 4 layers, the budget of Dwivedi et al."""
    return DeepGNN(
        "gated_gcn",
        in_channels,
        num_classes,
        hidden_channels,
        num_layers,
        readout=readout,
        dropout=dropout,
    )
