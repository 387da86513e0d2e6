"""Models without graph structure: an MLP and LeNet-5."""

from __future__ import annotations

import math
from typing import Any

import torch.fx
import torch.nn.functional as F
from torch import Tensor, nn

from gconv._checks import check_positive_int, check_probability
from gconv.convert.grid_modules import POOLS
from gconv.errors import GconvTypeError, GconvValueError
from gconv.grid.sizes import conv_output_size, pool_output_size
from gconv.models._base import Classifier
from gconv.models._inputs import check_input_shape
from gconv.models._registry import register_model


class MLP(Classifier):
    """Fully connected layers on flattened images or on node features.

    Args:
        in_features: input width (``C * H * W`` for images).
        num_classes: classes.
        hidden_channels: widths of the hidden layers.
        dropout: dropout before each hidden layer's output.

    Shapes:
        - input: :math:`(B, *)` with ``in_features`` values per example (flattened)
        - output: :math:`(B, \\text{num\\_classes})`

    Example:
        >>> model = MLP(784, 10, hidden_channels=(64, 32))
        >>> model(torch.randn(4, 1, 28, 28)).shape
        torch.Size([4, 10])
    """

    def __init__(
        self,
        in_features: int,
        num_classes: int,
        hidden_channels: tuple[int, ...] = (256, 128),
        dropout: float = 0.2,
        head_hidden: int | None = None,
    ) -> None:
        super().__init__()
        check_positive_int("MLP", "in_features", in_features)
        check_positive_int("MLP", "num_classes", num_classes)
        check_probability("MLP", "dropout", dropout)
        layers: list[nn.Module] = []
        width = in_features
        for hidden in hidden_channels:
            layers += [nn.Linear(width, hidden), nn.ReLU(), nn.Dropout(dropout)]
            width = hidden
        self.in_features = in_features
        self.features = nn.Sequential(*layers)
        self.num_features = width
        self.set_head(width, num_classes, head_hidden)

    def forward_features(self, data: Any) -> Tensor:
        x = data.x if hasattr(data, "x") and hasattr(data, "edge_index") else data
        if not isinstance(x, Tensor):
            raise GconvTypeError(
                f"MLP: expected a tensor or a PyG Data (got {type(data).__name__})"
            )
        if not x.is_floating_point():
            raise GconvTypeError(
                f"MLP: input must be floating point (got dtype {x.dtype}); convert it with "
                "x.float()"
            )
        x = x.flatten(1) if x.dim() > 2 else x
        if x.size(-1) != self.in_features:
            raise GconvValueError(
                f"MLP: input must have {self.in_features} features (got shape {tuple(x.shape)})"
            )
        return self.features(x)


@register_model(inputs=("images", "nodes"))
def mlp(
    in_channels: int,
    num_classes: int,
    *,
    input_shape: tuple[int, int, int] | None = None,
    hidden_channels: tuple[int, ...] = (256, 128),
    dropout: float = 0.2,
    head_hidden: int | None = None,
) -> MLP:
    """MLP on pixels (give ``input_shape``) or on node features (``in_channels`` wide)."""
    in_features = in_channels if input_shape is None else math.prod(input_shape)
    model = MLP(in_features, num_classes, hidden_channels, dropout, head_hidden)
    model.input_kind = "nodes" if input_shape is None else "images"
    return model


@torch.fx.wrap  # a call in a traced graph (torchvision's feature extraction), not traced
def _to_grid(maps: Tensor, side: int) -> Tensor:
    """``maps`` average-pooled to ``side x side``, and left alone when they are that size
    already: the pool's CUDA backward has no deterministic kernel, so under
    ``torch.use_deterministic_algorithms(True)`` LeNet-5 could not train on a GPU."""
    if maps.shape[-2:] == (side, side):
        return maps
    return F.adaptive_avg_pool2d(maps, side)


POOLS[_to_grid] = (nn.AdaptiveAvgPool2d, ("output_size",))  # for cnn_to_gnn: the same pool


class LeNet5(Classifier):
    r"""LeNet-5 (LeCun et al., 1998) with ReLU and max pooling.

    conv 5x5 (6, padding 2) -> pool -> conv 5x5 (16) -> pool -> fc 120 -> fc 84 -> head.
    The flattened width comes from :func:`gconv.grid.conv_output_size` and
    :func:`gconv.grid.pool_output_size` for ``input_size``; other sizes (at least 12x12) are
    average-pooled to that grid before the fully connected layers, so any image runs.

    Paper: `Gradient-based learning applied to document recognition
    <http://yann.lecun.com/exdb/publis/pdf/lecun-98.pdf>`_.

    Shapes:
        - input: :math:`(B, C_{in}, S, S)` with ``S = input_size``
        - output: :math:`(B, \\text{num\\_classes})`

    Example:
        >>> LeNet5()(torch.randn(2, 1, 28, 28)).shape
        torch.Size([2, 10])
    """

    min_input_size = 12  # conv 5 (padding 2), pool 2, conv 5, pool 2 leave 1x1

    def __init__(self, in_channels: int = 1, num_classes: int = 10, input_size: int = 28) -> None:
        super().__init__()
        check_positive_int("LeNet5", "in_channels", in_channels)
        check_positive_int("LeNet5", "num_classes", num_classes)
        check_positive_int("LeNet5", "input_size", input_size, minimum=self.min_input_size)
        self.in_channels = in_channels
        self.input_size = input_size
        side = input_size
        for padding in (2, 0):
            side = pool_output_size(conv_output_size(side, 5, padding=padding), 2)
        self.conv = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.side = side  # fc's grid, which other input sizes are pooled to
        self.fc = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * side * side, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU()
        )
        self.num_features = 84
        self.head = nn.Linear(84, num_classes)

    def forward_features(self, data: Any) -> Tensor:
        return self.fc(_to_grid(self.conv(self.images(data)), self.side))


@register_model(inputs=("images",))
def lenet5(
    in_channels: int = 1,
    num_classes: int = 10,
    *,
    input_shape: tuple[int, int, int] | None = None,
) -> LeNet5:
    """LeNet-5 for ``input_shape`` (default 1x28x28)."""
    check_input_shape("lenet5", input_shape, in_channels, LeNet5.min_input_size)
    size = 28 if input_shape is None else input_shape[-1]
    return LeNet5(in_channels, num_classes, size)
