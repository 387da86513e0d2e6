"""Depthwise-separable networks: Xception and MobileNet (v1)."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from gconv._checks import check_positive_int
from gconv.errors import GconvValueError
from gconv.grid.conv import ConvNormAct, DepthwiseSeparableConv2d
from gconv.models._base import Classifier
from gconv.models._inputs import check_input_shape
from gconv.models._registry import register_model
from gconv.models.resnet import is_small

Shape = tuple[int, int, int] | None


class XceptionBlock(nn.Module):
    """``reps`` x (ReLU, separable 3x3 conv, BN), a strided max pool, and a 1x1 shortcut.

    Shapes:
        - input: :math:`(B, C_{in}, H, W)`
        - output: :math:`(B, C_{out}, \\lceil H / s \\rceil, \\lceil W / s \\rceil)` with
          ``s = stride``

    Example:
        >>> XceptionBlock(16, 32, reps=2, stride=2)(torch.randn(2, 16, 32, 32)).shape
        torch.Size([2, 32, 16, 16])
    """

    def __init__(self, in_channels: int, out_channels: int, reps: int, stride: int = 1) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = in_channels
        for _ in range(reps):
            layers += [
                nn.ReLU(),
                DepthwiseSeparableConv2d(width, out_channels),
                nn.BatchNorm2d(out_channels),
            ]
            width = out_channels
        if stride != 1:
            layers.append(nn.MaxPool2d(3, stride=stride, padding=1))
        self.body = nn.Sequential(*layers)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x) + self.shortcut(x)


class Xception(Classifier):
    """Xception (Chollet, 2017): entry, middle and exit flows of separable convolutions.

    Entry: two convolutions and blocks of 128, 256 and 728 channels (each halving the
    size); middle: ``middle_blocks`` residual blocks of three separable convolutions at
    728; exit: a 1024-channel block and separable convolutions to 1536 and 2048.

    Paper: `Xception <https://arxiv.org/abs/1610.02357>`_.

    Shapes:
        - input: :math:`(B, C_{in}, H, W)`
        - output: :math:`(B, \\text{num\\_classes})`

    Example:
        >>> model = Xception(3, 10, input_shape=(3, 71, 71), middle_blocks=1)
        >>> model(torch.randn(2, 3, 71, 71)).shape
        torch.Size([2, 10])
    """

    def __init__(
        self,
        in_channels: int = 3,
        num_classes: int = 1000,
        input_shape: Shape = None,
        middle_blocks: int = 8,
    ) -> None:
        super().__init__()
        check_positive_int("Xception", "in_channels", in_channels)
        check_input_shape("Xception", input_shape, in_channels, 1)
        self.in_channels = in_channels
        stride = 1 if is_small(input_shape) else 2
        self.entry = nn.Sequential(
            ConvNormAct(in_channels, 32, 3, stride=stride),
            ConvNormAct(32, 64, 3),
            XceptionBlock(64, 128, 2, stride=2),
            XceptionBlock(128, 256, 2, stride=2),
            XceptionBlock(256, 728, 2, stride=2),
        )
        self.middle = nn.Sequential(*(XceptionBlock(728, 728, 3) for _ in range(middle_blocks)))
        self.exit = nn.Sequential(
            XceptionBlock(728, 1024, 2, stride=2),
            DepthwiseSeparableConv2d(1024, 1536, norm_layer=nn.BatchNorm2d, act_layer=nn.ReLU),
            DepthwiseSeparableConv2d(1536, 2048, norm_layer=nn.BatchNorm2d, act_layer=nn.ReLU),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.num_features = 2048
        self.head = nn.Linear(2048, num_classes)

    def forward_features(self, data: Any) -> Tensor:
        return self.exit(self.middle(self.entry(self.images(data))))


# MobileNet v1: (output channels, stride) of each depthwise-separable layer
MOBILENET_CFG = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)]
MOBILENET_CFG += [(512, 1)] * 5 + [(1024, 2), (1024, 1)]


class MobileNet(Classifier):
    """MobileNet v1 (Howard et al., 2017): a 3x3 stem and 13 separable layers.

    Every separable layer is depthwise 3x3 -> BN -> ReLU -> pointwise 1x1 -> BN -> ReLU.
    ``width_mult`` scales every width (the paper's alpha). Images under 64 pixels get a
    stride-1 stem.

    Paper: `MobileNets <https://arxiv.org/abs/1704.04861>`_.

    Shapes:
        - input: :math:`(B, C_{in}, H, W)`
        - output: :math:`(B, \\text{num\\_classes})`

    Example:
        >>> model = MobileNet(3, 10, input_shape=(3, 64, 64), width_mult=0.25)
        >>> model(torch.randn(2, 3, 64, 64)).shape
        torch.Size([2, 10])
    """

    def __init__(
        self,
        in_channels: int = 3,
        num_classes: int = 1000,
        input_shape: Shape = None,
        width_mult: float = 1.0,
    ) -> None:
        super().__init__()
        check_positive_int("MobileNet", "in_channels", in_channels)
        check_input_shape("MobileNet", input_shape, in_channels, 1)
        self.in_channels = in_channels
        if not width_mult > 0:
            raise GconvValueError(f"MobileNet: width_mult must be > 0 (got {width_mult})")

        def w(c: int) -> int:
            return max(8, int(c * width_mult))

        stride = 1 if is_small(input_shape) else 2
        layers: list[nn.Module] = [ConvNormAct(in_channels, w(32), 3, stride=stride)]
        width = w(32)
        for channels, s in MOBILENET_CFG:
            layers.append(
                DepthwiseSeparableConv2d(
                    width, w(channels), stride=s, norm_layer=nn.BatchNorm2d, act_layer=nn.ReLU
                )
            )
            width = w(channels)
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        self.features = nn.Sequential(*layers)
        self.num_features = width
        self.head = nn.Linear(width, num_classes)

    def forward_features(self, data: Any) -> Tensor:
        return self.features(self.images(data))


@register_model(inputs=("images",))
def xception(
    in_channels: int = 3, num_classes: int = 1000, *, input_shape: Shape = None
) -> Xception:
    """Xception with the paper's eight middle-flow blocks."""
    return Xception(in_channels, num_classes, input_shape)


@register_model(inputs=("images",))
def mobilenet(
    in_channels: int = 3,
    num_classes: int = 1000,
    *,
    input_shape: Shape = None,
    width_mult: float = 1.0,
) -> MobileNet:
    """MobileNet v1 with width multiplier ``width_mult``."""
    return MobileNet(in_channels, num_classes, input_shape, width_mult)
