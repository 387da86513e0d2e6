r"""Residual units of ResNet: the basic two-conv block and the bottleneck block.

Module and parameter names follow ``torchvision.models.resnet`` (``conv1``, ``bn1``, ...,
``downsample``), so weights move between the two with ``load_state_dict``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from torch import Tensor, nn

from gconv._checks import check_feature_map, check_positive_int
from gconv.grid.conv import LayerFactory


def _shortcut(
    in_channels: int, out_channels: int, stride: int, norm_layer: LayerFactory
) -> nn.Module | None:
    """Projection shortcut (1x1 conv + norm) when the identity cannot be added."""
    if stride == 1 and in_channels == out_channels:
        return None
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
        norm_layer(out_channels),
    )


class _ResidualUnit(nn.Module, ABC):
    """What both residual units share: checks, the shortcut, attention and the sum."""

    expansion: ClassVar[int] = 1

    def __init__(
        self,
        in_channels: int,
        channels: int,
        stride: int,
        norm_layer: LayerFactory,
        attn_layer: LayerFactory | None,
    ) -> None:
        super().__init__()
        owner = type(self).__name__
        check_positive_int(owner, "in_channels", in_channels)
        check_positive_int(owner, "channels", channels)
        check_positive_int(owner, "stride", stride)
        self.in_channels = in_channels
        self.out_channels = channels * self.expansion
        self.stride = stride
        self.relu = nn.ReLU(inplace=True)
        self.attn = attn_layer(self.out_channels) if attn_layer is not None else None
        self.downsample = _shortcut(in_channels, self.out_channels, stride, norm_layer)

    @abstractmethod
    def residual(self, x: Tensor) -> Tensor:
        """The residual branch :math:`F(x)`, up to its last norm."""

    def forward(self, x: Tensor) -> Tensor:
        check_feature_map(type(self).__name__, x, self.in_channels)
        identity = x if self.downsample is None else self.downsample(x)
        out = self.residual(x)
        if self.attn is not None:
            out = self.attn(out)
        return self.relu(out + identity)


class BasicBlock(_ResidualUnit):
    r"""Basic residual unit of ResNet-18/34 (He et al., 2016).

    .. math::
        y = \mathrm{ReLU}\big(F(x) + S(x)\big), \quad
        F = \mathrm{BN} \circ \mathrm{conv}_{3\times3} \circ \mathrm{ReLU} \circ
        \mathrm{BN} \circ \mathrm{conv}_{3\times3}

    :math:`S` is the identity, or a 1x1 projection with norm when the stride or the width
    changes. An optional attention layer (e.g. :class:`SqueezeExcite`) rescales
    :math:`F(x)` before the addition, which turns the block into an SE-ResNet block.

    Paper: `Deep Residual Learning <https://arxiv.org/abs/1512.03385>`_.

    Args:
        in_channels: channels of the input.
        channels: width of the block; the output has ``channels * expansion`` channels.
        stride: stride of the first 3x3 convolution and of the shortcut.
        norm_layer: normalization factory.
        attn_layer: factory called with the output width, or ``None``.

    Shapes:
        - input: :math:`(B, C_{in}, H, W)`
        - output: :math:`(B, C, \lceil H / s \rceil, \lceil W / s \rceil)`

    Example:
        >>> BasicBlock(64, 128, stride=2)(torch.randn(2, 64, 32, 32)).shape
        torch.Size([2, 128, 16, 16])
    """

    expansion: ClassVar[int] = 1

    def __init__(
        self,
        in_channels: int,
        channels: int,
        stride: int = 1,
        *,
        norm_layer: LayerFactory = nn.BatchNorm2d,
        attn_layer: LayerFactory | None = None,
    ) -> None:
        super().__init__(in_channels, channels, stride, norm_layer, attn_layer)
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = norm_layer(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = norm_layer(channels)

    def residual(self, x: Tensor) -> Tensor:
        return self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))


class Bottleneck(_ResidualUnit):
    r"""Bottleneck residual unit of ResNet-50/101/152 (He et al., 2016).

    A 1x1 convolution reduces the width, a 3x3 convolution works at the reduced width, and
    a 1x1 convolution expands it by ``expansion = 4``:

    .. math::
        y = \mathrm{ReLU}\big(F(x) + S(x)\big), \quad
        F = \mathrm{BN} \circ \mathrm{conv}_{1\times1} \circ \mathrm{ReLU} \circ
        \mathrm{BN} \circ \mathrm{conv}_{3\times3} \circ \mathrm{ReLU} \circ
        \mathrm{BN} \circ \mathrm{conv}_{1\times1}

    The stride sits on the 3x3 convolution (ResNet v1.5, as in torchvision).

    Paper: `Deep Residual Learning <https://arxiv.org/abs/1512.03385>`_.

    Args:
        in_channels: channels of the input.
        channels: width of the 3x3 convolution; the output has ``4 * channels``.
        stride: stride of the 3x3 convolution and of the shortcut.
        norm_layer: normalization factory.
        attn_layer: factory called with the output width, or ``None``.

    Shapes:
        - input: :math:`(B, C_{in}, H, W)`
        - output: :math:`(B, 4C, \lceil H / s \rceil, \lceil W / s \rceil)`

    Example:
        >>> Bottleneck(256, 64)(torch.randn(2, 256, 14, 14)).shape
        torch.Size([2, 256, 14, 14])
    """

    expansion: ClassVar[int] = 4

    def __init__(
        self,
        in_channels: int,
        channels: int,
        stride: int = 1,
        *,
        norm_layer: LayerFactory = nn.BatchNorm2d,
        attn_layer: LayerFactory | None = None,
    ) -> None:
        super().__init__(in_channels, channels, stride, norm_layer, attn_layer)
        self.conv1 = nn.Conv2d(in_channels, channels, 1, bias=False)
        self.bn1 = norm_layer(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, stride=stride, padding=1, bias=False)
        self.bn2 = norm_layer(channels)
        self.conv3 = nn.Conv2d(channels, self.out_channels, 1, bias=False)
        self.bn3 = norm_layer(self.out_channels)

    def residual(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.bn3(self.conv3(out))
