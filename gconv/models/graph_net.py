"""Node- and graph-level networks of GraphSAGE or GAT layers (Hamilton et al.,
Veličković et al.), in the form of PyG's examples."""

from __future__ import annotations

from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from gconv._checks import check_positive_int
from gconv.graph.readout import Readout
from gconv.models._base import Classifier
from gconv.models._inputs import graph_inputs
from gconv.models._registry import register_model


class GraphNet(Classifier):
    """A stack of PyG convolutions (GraphSAGE or GAT) with ReLU and dropout.

    Node level: per-node features go to the linear head. Graph level (``readout``
    given): the readout pools them into one row per graph first.

    Papers: `GraphSAGE <https://arxiv.org/abs/1706.02216>`_,
    `GAT <https://arxiv.org/abs/1710.10903>`_.

    Shapes:
        - input: ``Data``/``Batch`` with ``x`` :math:`(N, C_{in})`, ``edge_index`` :math:`(2, E)`
        - output: :math:`(N, \\text{num\\_classes})`, or :math:`(G, \\text{num\\_classes})` with a
          readout

    Example:
        >>> from torch_geometric.data import Data
        >>> data = Data(x=torch.randn(5, 16), edge_index=torch.tensor([[0, 1, 2], [1, 2, 3]]))
        >>> GraphNet("sage", 16, 3)(data).shape
        torch.Size([5, 3])
    """

    def __init__(
        self,
        conv: str,
        in_channels: int,
        num_classes: int,
        hidden_channels: int = 64,
        num_layers: int = 2,
        dropout: float = 0.5,
        readout: str | None = None,
        heads: int = 4,
    ) -> None:
        super().__init__()
        from torch_geometric.nn import SAGEConv

        from gconv.graph.gat import GATLayer

        check_positive_int("GraphNet", "in_channels", in_channels)
        check_positive_int("GraphNet", "num_layers", num_layers)
        self.conv, self.dropout = conv, dropout
        self.convs = nn.ModuleList()
        width = in_channels
        for _ in range(num_layers):
            if conv == "gat":  # heads are concatenated: hidden_channels in all
                layer = GATLayer(width, hidden_channels // heads, heads=heads, dropout=dropout)
                width = (hidden_channels // heads) * heads
            else:
                layer = SAGEConv(width, hidden_channels)
                width = hidden_channels
            self.convs.append(layer)
        self.readout = Readout(readout, width) if readout else None
        self.input_kind = "graphs" if self.readout is not None else "nodes"
        self.num_features = self.readout.out_channels or width if self.readout else width
        self.head = nn.Linear(self.num_features, num_classes)

    def forward_features(self, data: Any) -> Tensor:
        x, edge_index, batch, num_graphs = graph_inputs("GraphNet", data)
        for conv in self.convs:
            x = F.dropout(x, self.dropout, self.training)
            x = F.relu(conv(x, edge_index))
        if self.readout is None:
            return F.dropout(x, self.dropout, self.training)
        return self.readout(x, batch, num_graphs)


@register_model(inputs=("nodes", "graphs"))
def sage(
    in_channels: int,
    num_classes: int,
    *,
    hidden_channels: int = 64,
    num_layers: int = 2,
    dropout: float = 0.5,
    readout: str | None = None,
) -> GraphNet:
    """GraphSAGE (mean aggregation); ``readout="mean"`` for graph classification."""
    return GraphNet("sage", in_channels, num_classes, hidden_channels, num_layers, dropout, readout)


@register_model(inputs=("nodes", "graphs"))
def gat(
    in_channels: int,
    num_classes: int,
    *,
    hidden_channels: int = 64,
    num_layers: int = 2,
    heads: int = 4,
    dropout: float = 0.5,
    readout: str | None = None,
) -> GraphNet:
    """Graph attention network with ``heads`` concatenated heads per layer."""
    return GraphNet(
        "gat", in_channels, num_classes, hidden_channels, num_layers, dropout, readout, heads
    )
