"""ResNet (He et al., 2016) and SE-ResNet (Hu et al., 2018) from ``gconv.nn`` blocks."""

from __future__ import annotations

from functools import partial
from typing import Any

from torch import Tensor, nn

from gconv._checks import check_positive_int
from gconv.grid.residual import BasicBlock, Bottleneck
from gconv.grid.squeeze_excite import SqueezeExcite
from gconv.models._base import Classifier
from gconv.models._inputs import check_input_shape
from gconv.models._registry import register_model

Block = type[BasicBlock] | type[Bottleneck]


def is_small(input_shape: tuple[int, int, int] | None) -> bool:
    """Images under 64 pixels get a gentle stem; the ImageNet stem would shrink a 28x28
    image to 7x7 before the first residual stage."""
    return input_shape is not None and max(input_shape[-2:]) < 64


class ResNet(Classifier):
    r"""Residual network: a stem, four stages of residual blocks, global pooling, a head.

    Stage :math:`i` has ``layers[i]`` blocks of width :math:`64 \cdot 2^i` (times the
    block's ``expansion``); stages 2-4 halve the resolution. ``attn_layer`` goes into
    every block, so ``ResNet(..., attn_layer=SqueezeExcite)`` is an SE-ResNet.

    Paper: `Deep Residual Learning <https://arxiv.org/abs/1512.03385>`_.

    Args:
        block: :class:`BasicBlock` or :class:`Bottleneck`.
        layers: blocks per stage, e.g. ``(2, 2, 2, 2)`` for ResNet-18.
        in_channels: image channels.
        num_classes: classes.
        input_shape: ``(C, H, W)``; under 64 pixels the stem is a 3x3 convolution and a
            2x2 max pool instead of ImageNet's 7x7 stride-2 convolution and 3x3 pool.
        attn_layer: attention factory for every block (``SqueezeExcite``), or ``None``.

    Shapes:
        - input: :math:`(B, C, H, W)`
        - output: :math:`(B, \text{num\_classes})`

    Example:
        >>> from gconv.nn import BasicBlock
        >>> model = ResNet(BasicBlock, (1, 1, 1, 1), in_channels=3, num_classes=10)
        >>> model(torch.randn(2, 3, 64, 64)).shape
        torch.Size([2, 10])
    """

    def __init__(
        self,
        block: Block,
        layers: tuple[int, int, int, int],
        in_channels: int = 3,
        num_classes: int = 1000,
        *,
        input_shape: tuple[int, int, int] | None = None,
        attn_layer: Any = None,
    ) -> None:
        super().__init__()
        check_positive_int("ResNet", "in_channels", in_channels)
        check_input_shape("ResNet", input_shape, in_channels, 1)
        check_positive_int("ResNet", "num_classes", num_classes)
        self.in_channels = in_channels
        if is_small(input_shape):
            self.stem = nn.Sequential(
                nn.Conv2d(in_channels, 64, 3, padding=1, bias=False),
                nn.BatchNorm2d(64),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
            )
        else:
            self.stem = nn.Sequential(
                nn.Conv2d(in_channels, 64, 7, stride=2, padding=3, bias=False),
                nn.BatchNorm2d(64),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(3, stride=2, padding=1),
            )
        self._width = 64
        self.layer1 = self._make_layer(block, 64, layers[0], 1, attn_layer)
        self.layer2 = self._make_layer(block, 128, layers[1], 2, attn_layer)
        self.layer3 = self._make_layer(block, 256, layers[2], 2, attn_layer)
        self.layer4 = self._make_layer(block, 512, layers[3], 2, attn_layer)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.num_features = 512 * block.expansion
        self.head = nn.Linear(self.num_features, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def _make_layer(
        self, block: Block, channels: int, blocks: int, stride: int, attn_layer: Any
    ) -> nn.Sequential:
        units = []
        for i in range(blocks):
            unit = block(self._width, channels, stride if i == 0 else 1, attn_layer=attn_layer)
            units.append(unit)
            self._width = unit.out_channels
        return nn.Sequential(*units)

    def forward_features(self, data: Any) -> Tensor:
        x = self.stem(self.images(data))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.pool(x).flatten(1)


@register_model(inputs=("images",))
def resnet18(
    in_channels: int = 3,
    num_classes: int = 1000,
    *,
    input_shape: tuple[int, int, int] | None = None,
) -> ResNet:
    """ResNet-18: basic blocks, stages 2-2-2-2."""
    return ResNet(BasicBlock, (2, 2, 2, 2), in_channels, num_classes, input_shape=input_shape)


@register_model(inputs=("images",))
def resnet34(
    in_channels: int = 3,
    num_classes: int = 1000,
    *,
    input_shape: tuple[int, int, int] | None = None,
) -> ResNet:
    """ResNet-34: basic blocks, stages 3-4-6-3."""
    return ResNet(BasicBlock, (3, 4, 6, 3), in_channels, num_classes, input_shape=input_shape)


@register_model(inputs=("images",))
def resnet50(
    in_channels: int = 3,
    num_classes: int = 1000,
    *,
    input_shape: tuple[int, int, int] | None = None,
) -> ResNet:
    """ResNet-50: bottleneck blocks (expansion 4), stages 3-4-6-3."""
    return ResNet(Bottleneck, (3, 4, 6, 3), in_channels, num_classes, input_shape=input_shape)


@register_model(inputs=("images",))
def se_resnet18(
    in_channels: int = 3,
    num_classes: int = 1000,
    *,
    input_shape: tuple[int, int, int] | None = None,
    reduction: int = 16,
) -> ResNet:
    """SE-ResNet-18: ResNet-18 with squeeze-excitation in every block."""
    return ResNet(
        BasicBlock,
        (2, 2, 2, 2),
        in_channels,
        num_classes,
        input_shape=input_shape,
        attn_layer=partial(SqueezeExcite, reduction=reduction),
    )
