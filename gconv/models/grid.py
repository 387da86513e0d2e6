"""A CNN and its graph twin: the same function on images and on pixel grid graphs.

``grid_cnn`` is a stack of 'same' convolutions with ReLU, a global mean pool and a linear
head. ``grid_gnn`` is the same stack written with :class:`gconv.nn.GridConv2d` on pixel
grid graphs and a mean :class:`gconv.nn.Readout`. Their state dicts have the same keys
and shapes, so ``gnn.load_state_dict(cnn.state_dict())`` makes them compute the same
function.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from gconv._checks import check_positive_int
from gconv.graph.grid_conv import GridConv2d
from gconv.graph.readout import Readout
from gconv.models._base import Classifier
from gconv.models._inputs import graph_inputs, image_input
from gconv.models._registry import register_model


def _widths(owner: str, in_channels: int, hidden_channels: tuple[int, ...]) -> list[int]:
    check_positive_int(owner, "in_channels", in_channels)
    if not hidden_channels:
        raise ValueError(f"{owner}: hidden_channels must name at least one layer (got ())")
    return [in_channels, *hidden_channels]


class GridCNN(Classifier):
    """'Same' convolutions with ReLU, global mean pool, linear head; no spatial pooling."""

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        hidden_channels: tuple[int, ...] = (32, 64, 64),
        kernel_size: int = 3,
    ) -> None:
        super().__init__()
        widths = _widths("GridCNN", in_channels, hidden_channels)
        self.convs = nn.ModuleList(
            nn.Conv2d(a, b, kernel_size, padding=kernel_size // 2) for a, b in pairwise(widths)
        )
        self.num_features = widths[-1]
        self.head = nn.Linear(widths[-1], num_classes)

    def forward_features(self, data: Any) -> Tensor:
        x = image_input("GridCNN", data)
        for conv in self.convs:
            x = F.relu(conv(x))
        return x.mean(dim=(2, 3))


class GridGNN(Classifier):
    """:class:`GridCNN` as message passing: ``GridConv2d`` layers and a mean readout."""

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        hidden_channels: tuple[int, ...] = (32, 64, 64),
        kernel_size: int = 3,
    ) -> None:
        super().__init__()
        widths = _widths("GridGNN", in_channels, hidden_channels)
        self.convs = nn.ModuleList(GridConv2d(a, b, kernel_size) for a, b in pairwise(widths))
        self.readout = Readout("mean")
        self.num_features = widths[-1]
        self.head = nn.Linear(widths[-1], num_classes)

    def forward_features(self, data: Any) -> Tensor:
        x, edge_index, batch, num_graphs = graph_inputs("GridGNN", data)
        edge_type = getattr(data, "edge_type", None)
        if edge_type is None:
            raise ValueError("GridGNN: the graph must carry edge_type (see gconv.grid_graph)")
        grid_shape = getattr(data, "grid_shape", None)
        for conv in self.convs:
            x = F.relu(conv(x, edge_index, edge_type, grid_shape=grid_shape))
        return self.readout(x, batch, num_graphs)


@register_model(inputs=("image",))
def grid_cnn(
    in_channels: int,
    num_classes: int,
    *,
    input_shape: tuple[int, int, int] | None = None,
    hidden_channels: tuple[int, ...] = (32, 64, 64),
    kernel_size: int = 3,
) -> GridCNN:
    """The CNN twin of ``grid_gnn`` (any input size; ``input_shape`` is not needed)."""
    return GridCNN(in_channels, num_classes, hidden_channels, kernel_size)


@register_model(inputs=("grid_graph",))
def grid_gnn(
    in_channels: int,
    num_classes: int,
    *,
    hidden_channels: tuple[int, ...] = (32, 64, 64),
    kernel_size: int = 3,
) -> GridGNN:
    """``GridConv2d`` stack on pixel grid graphs; the same function as ``grid_cnn``."""
    return GridGNN(in_channels, num_classes, hidden_channels, kernel_size)
