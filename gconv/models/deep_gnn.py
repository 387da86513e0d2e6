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

from gconv._checks import check_choice, check_positive_int, check_probability
from gconv.errors import GconvTypeError, GconvValueError
from gconv.graph.readout import Readout
from gconv.models._base import Classifier
from gconv.models._inputs import graph_inputs
from gconv.models._registry import register_model
from gconv.models.graph_layers import GRAPH_LAYERS, GraphLayer, graph_layers


class DeepGNN(Classifier):
    """Embedding, ``num_layers`` x (conv, batch norm, ReLU, residual), readout, MLP head.

    Args:
        conv: the message-passing layer: a :class:`~gconv.models.graph_layers.GraphLayer`
            (how to build one of a width and feed it a batch), or the name of one:
            ``gcn`` (:class:`gconv.nn.GCNLayer`, the batch normalized once per forward
            as a sparse matrix, or the stencil path on pixel grids), ``sage`` (PyG's
            ``SAGEConv``), ``gat`` (:class:`gconv.nn.GATLayer`: PyG's ``GATConv`` as
            sparse products), ``gin`` (PyG's ``GINConv`` with a two-layer MLP),
            ``gated_gcn`` (:class:`gconv.nn.GatedGCNLayer` on its fused path, edge
            features embedded from ``edge_weight``) and ``grid_conv``
            (:class:`gconv.nn.GridConv2d` on ``edge_type``, e.g. from
            :class:`gconv.transforms.DirectionalEdgeType`).
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
        conv: str | GraphLayer,
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
        check_probability(owner, "dropout", dropout)
        if isinstance(conv, str):
            check_choice(owner, "conv", conv, GRAPH_LAYERS)
            if conv == "gat" and hidden_channels % heads:
                raise GconvValueError(
                    f"{owner}: hidden_channels must be a multiple of heads={heads} "
                    f"(got {hidden_channels})"
                )
            conv = graph_layers(heads)[conv]
        if not isinstance(conv, GraphLayer):
            raise GconvTypeError(
                f"{owner}: conv must be a GraphLayer or one of {', '.join(GRAPH_LAYERS)} "
                f"(got {type(conv).__name__})"
            )
        check_positive_int(owner, "in_channels", in_channels)
        check_positive_int(owner, "num_layers", num_layers)
        self.kind, self.conv, self.dropout = conv, conv.name, dropout
        self.embed = nn.Linear(in_channels, hidden_channels)
        self.edge_embed = nn.Linear(1, hidden_channels) if conv.edge_features else None
        self.layers = nn.ModuleList(conv.build(hidden_channels) for _ in range(num_layers))
        self.norms = nn.ModuleList(
            nn.BatchNorm1d(hidden_channels) if conv.norm else nn.Identity()
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
        h = self.embed(x)
        graph = self.kind.graph(data, edge_index, h)  # once for every layer
        e = None
        if self.edge_embed is not None:
            weight = getattr(data, "edge_weight", None)
            w = weight if weight is not None else h.new_ones(edge_index.size(1))
            e = self.edge_embed(w.view(-1, 1).to(h.dtype))
        for layer, norm in zip(self.layers, self.norms, strict=True):
            out, e = self.kind(layer, h, graph, e)
            if self.kind.norm:
                out = h + F.relu(norm(out))
            h = F.dropout(out, self.dropout, self.training)
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
