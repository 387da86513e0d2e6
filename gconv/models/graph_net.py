"""Node- and graph-level networks of GraphSAGE or GAT layers (Hamilton et al.,
Veličković et al.), in the form of PyG's examples."""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import SAGEConv

from gconv._checks import check_choice, check_positive_int, check_probability
from gconv.errors import GconvTypeError
from gconv.graph.gat import GATLayer
from gconv.graph.readout import Readout
from gconv.models._base import Classifier
from gconv.models._inputs import graph_inputs
from gconv.models._registry import register_model


class GraphNet(Classifier):
    """A stack of graph convolutions (GraphSAGE, GAT or one passed in) with ReLU and
    dropout.

    ``conv`` is ``"sage"`` (PyG's ``SAGEConv``), ``"gat"`` (:class:`gconv.nn.GATLayer`
    with ``heads`` concatenated heads, ``hidden_channels // heads`` each) or a callable
    ``conv(in_channels, out_channels)`` that builds a layer called as
    ``layer(x, edge_index)`` (``partial(GraphConv, aggr="mean")``, ...).

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
        conv: str | Callable[[int, int], nn.Module],
        in_channels: int,
        num_classes: int,
        hidden_channels: int = 64,
        num_layers: int = 2,
        dropout: float = 0.5,
        readout: str | None = None,
        heads: int = 4,
    ) -> None:
        super().__init__()
        check_positive_int("GraphNet", "in_channels", in_channels)
        check_positive_int("GraphNet", "num_layers", num_layers)
        check_probability("GraphNet", "dropout", dropout)
        if isinstance(conv, str):
            check_choice("GraphNet", "conv", conv, ("sage", "gat"))
        elif not callable(conv):
            raise GconvTypeError(
                "GraphNet: conv must be 'sage', 'gat' or a callable (in_channels, "
                f"out_channels) -> layer (got {type(conv).__name__})"
            )
        build, out = _builder(conv, hidden_channels, heads, dropout)
        self.conv = conv if isinstance(conv, str) else getattr(conv, "__name__", "custom")
        self.dropout = dropout
        widths = [in_channels] + [out] * num_layers
        self.convs = nn.ModuleList(build(a, b) for a, b in pairwise(widths))
        width = out
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


def _builder(
    conv: str | Callable[[int, int], nn.Module], hidden: int, heads: int, dropout: float
) -> tuple[Callable[[int, int], nn.Module], int]:
    """The layer builder a ``conv`` names, and the width its layers give."""
    if conv == "gat":  # heads are concatenated: hidden // heads each
        out = (hidden // heads) * heads
        return lambda a, b: GATLayer(a, b // heads, heads=heads, dropout=dropout), out
    if conv == "sage":
        return SAGEConv, hidden
    assert callable(conv)
    return conv, hidden


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
