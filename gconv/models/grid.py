"""A CNN and its graph twin: the same function on images and on pixel grid graphs.

``grid_cnn`` is a stack of 'same' convolutions with ReLU and a linear head; with
``pool=True`` a 2x2 max pool halves the grid between layers, as CNNs are built (each
layer a stage, e.g. widths doubling). ``grid_gnn`` is ``grid_cnn`` converted by
:func:`gconv.convert.cnn_to_gnn`: :class:`gconv.nn.GridConv2d` on pixel grid graphs, its
pools :class:`gconv.nn.GridMaxPool2d` over the fine-to-coarse graphs. Their state dicts
have the same keys and shapes, so ``gnn.load_state_dict(cnn.state_dict())`` makes them
compute the same function. ``grid_gnn``'s ``layer`` may be another graph convolution
(:class:`gconv.nn.GCNLayer`): the same network with one weight for every neighbour
instead of one per offset.

The head reads the features through ``readout``: ``"flatten"`` (the default) keeps every
pixel's features in (row, column, channel) order, which on a pixel grid batch is the
order of the nodes, so the head knows where each feature is. Its width is set by the
``H x W`` of ``input_shape`` (28x28 when not given); both average-pool images or pixel
grids of another size to that grid first (``adaptive_avg_pool2d``); ``"mean"`` averages over
pixels (any image size, but position is lost: 0.79 validation accuracy on MNIST after one
epoch, against 0.986 for ``"flatten"``).
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from gconv._checks import check_choice, check_positive_int
from gconv.convert import GraphNetwork, cnn_to_gnn
from gconv.errors import GconvValueError
from gconv.models._base import Classifier
from gconv.models._inputs import check_input_shape
from gconv.models._registry import register_model

READOUTS = ("flatten", "mean")


def layer_widths(owner: str, in_channels: int, hidden_channels: tuple[int, ...]) -> list[int]:
    check_positive_int(owner, "in_channels", in_channels)
    if not hidden_channels:
        raise GconvValueError(f"{owner}: hidden_channels must name at least one layer (got ())")
    return [in_channels, *hidden_channels]


def head_width(owner: str, readout: str, channels: int, grid: tuple[int, int]) -> int:
    check_choice(owner, "readout", readout, READOUTS)
    return channels if readout == "mean" else channels * grid[0] * grid[1]


def flat_grid(input_shape: tuple[int, int, int] | None, depth: int, pool: bool) -> tuple[int, int]:
    """The ``H x W`` a flatten head reads: MNIST's unless told, halved (floor) by every
    pool, as ``nn.MaxPool2d(2)``."""
    h, w = (28, 28) if input_shape is None else (int(input_shape[-2]), int(input_shape[-1]))
    for _ in range(depth - 1 if pool else 0):
        h, w = h // 2, w // 2
    return h, w


def min_grid_size(owner: str, in_channels: int, depth: int, pool: bool, input_shape: Any) -> int:
    """The smallest grid side that ``depth - 1`` pools leave at least one pixel of."""
    size = 2 ** (depth - 1) if pool else 1
    check_input_shape(owner, input_shape, in_channels, size)
    return size


class GridCNN(Classifier):
    """'Same' convolutions with ReLU and a linear head.

    With ``norm=True`` each convolution is followed by batch norm; with ``residual=True``
    a layer whose input and output widths agree adds its input to its output (after the
    ReLU); with ``pool=True`` a 2x2 max pool follows every layer but the last (each layer
    a stage); ``head_hidden`` makes the head a two-layer MLP.

    Shapes:
        - input: :math:`(B, C_{in}, H, W)`, ``input_shape`` for ``readout="flatten"``
        - output: :math:`(B, \\text{num\\_classes})`

    Example:
        >>> GridCNN(1, 10, input_shape=(1, 28, 28))(torch.randn(2, 1, 28, 28)).shape
        torch.Size([2, 10])
    """

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        hidden_channels: tuple[int, ...] = (16, 32, 32),
        kernel_size: int = 3,
        readout: str = "flatten",
        input_shape: tuple[int, int, int] | None = None,
        *,
        norm: bool = False,
        residual: bool = False,
        pool: bool = False,
        head_hidden: int | None = None,
    ) -> None:
        super().__init__()
        widths = layer_widths("GridCNN", in_channels, hidden_channels)
        self.in_channels = in_channels
        self.readout, self.residual, self.pool = readout, residual, pool
        depth = len(hidden_channels)
        self.min_input_size = min_grid_size("GridCNN", in_channels, depth, pool, input_shape)
        self.grid = flat_grid(input_shape, len(hidden_channels), pool)
        self.convs = nn.ModuleList(
            nn.Conv2d(a, b, kernel_size, padding=kernel_size // 2) for a, b in pairwise(widths)
        )
        self.norms = nn.ModuleList(nn.BatchNorm2d(b) if norm else nn.Identity() for b in widths[1:])
        # a residual where a layer keeps its width (a pool comes before the layer)
        self.adds = [residual and a == b for a, b in pairwise(widths)]
        self.num_features = head_width("GridCNN", readout, widths[-1], self.grid)
        self.set_head(self.num_features, num_classes, head_hidden)

    def forward_features(self, data: Any) -> Tensor:
        x = self.images(data)
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms, strict=True)):
            if self.pool and i:
                x = F.max_pool2d(x, 2)
            # in place after batch norm (whose backward reads its input, not its output)
            out = F.relu(norm(conv(x)), inplace=isinstance(norm, nn.BatchNorm2d))
            x = x + out if self.adds[i] else out
        if self.readout == "mean":
            return x.mean(dim=(2, 3))
        x = F.adaptive_avg_pool2d(x, self.grid)  # the identity at the size it was built for
        return x.permute(0, 2, 3, 1).flatten(1)  # (row, col, channel): the node order


@register_model(inputs=("images",))
def grid_cnn(
    in_channels: int,
    num_classes: int,
    *,
    input_shape: tuple[int, int, int] | None = None,
    hidden_channels: tuple[int, ...] = (16, 32, 32),
    kernel_size: int = 3,
    readout: str = "flatten",
    norm: bool = False,
    residual: bool = False,
    pool: bool = False,
    head_hidden: int | None = None,
) -> GridCNN:
    """The CNN twin of ``grid_gnn``; the flatten head is sized by ``input_shape``."""
    return GridCNN(
        in_channels,
        num_classes,
        hidden_channels,
        kernel_size,
        readout,
        input_shape,
        norm=norm,
        residual=residual,
        pool=pool,
        head_hidden=head_hidden,
    )


@register_model(inputs=("pixel_grid",))
def grid_gnn(
    in_channels: int,
    num_classes: int,
    *,
    input_shape: tuple[int, int, int] | None = None,
    hidden_channels: tuple[int, ...] = (16, 32, 32),
    kernel_size: int = 3,
    readout: str = "flatten",
    norm: bool = False,
    residual: bool = False,
    pool: bool = False,
    layer: Callable[[int, int], nn.Module] | None = None,
    head_hidden: int | None = None,
) -> GraphNetwork:
    """``grid_cnn`` converted by :func:`gconv.convert.cnn_to_gnn`: the same function on
    pixel grid graphs, the same state dict; with ``layer`` (e.g.
    :class:`gconv.nn.GCNLayer`) in place of each convolution, one weight for every
    neighbour instead of one per offset."""
    cnn = grid_cnn(
        in_channels,
        num_classes,
        input_shape=input_shape,
        hidden_channels=hidden_channels,
        kernel_size=kernel_size,
        readout=readout,
        norm=norm,
        residual=residual,
        pool=pool,
        head_hidden=head_hidden,
    )
    return cnn_to_gnn(cnn, layer=layer)
