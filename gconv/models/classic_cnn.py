"""AlexNet, VGG and a GoogLeNet-style Inception net, sized for small and large images."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from gconv._checks import check_positive_int
from gconv.grid.conv import ConvNormAct
from gconv.grid.inception import InceptionBlock
from gconv.models._base import Classifier
from gconv.models._inputs import check_input_shape
from gconv.models._registry import register_model
from gconv.models.resnet import is_small

Shape = tuple[int, int, int] | None


def _pool() -> nn.MaxPool2d:
    """3x3 stride-2 max pool, padded by 1: it halves any side (rounding up) and maps a
    1x1 input to 1x1, where an unpadded pool would leave nothing."""
    return nn.MaxPool2d(3, stride=2, padding=1)


class AlexNet(Classifier):
    """AlexNet (Krizhevsky et al., 2012) with batch norm and a global-pool head.

    Five convolutions (64-192-384-256-256) with three max pools. Large images get the
    11x11 stride-4 first layer; images under 64 pixels a 3x3 stride-1 one. Pools are
    padded, so no input shrinks to nothing: any image of at least ``min_input_size``
    (7 for the 11x11 stem, 1 for the 3x3 one) reaches the global pool and the head.

    Paper: `ImageNet Classification with Deep CNNs
    <https://papers.nips.cc/paper/4824-imagenet-classification-with-deep-convolutional-neural-networks>`_.

    Shapes:
        - input: :math:`(B, C_{in}, H, W)`, ``input_shape`` when given
        - output: :math:`(B, \\text{num\\_classes})`

    Example:
        >>> AlexNet(3, 10, input_shape=(3, 64, 64))(torch.randn(2, 3, 64, 64)).shape
        torch.Size([2, 10])
    """

    def __init__(self, in_channels: int = 3, num_classes: int = 1000, input_shape: Shape = None):
        super().__init__()
        check_positive_int("AlexNet", "in_channels", in_channels)
        self.in_channels = in_channels
        self.min_input_size = 1 if is_small(input_shape) else 7
        check_input_shape("AlexNet", input_shape, in_channels, self.min_input_size)
        first = (
            ConvNormAct(in_channels, 64, 3)
            if is_small(input_shape)
            else ConvNormAct(in_channels, 64, 11, stride=4, padding=2)
        )
        self.features = nn.Sequential(
            first,
            _pool(),
            ConvNormAct(64, 192, 5),
            _pool(),
            ConvNormAct(192, 384, 3),
            ConvNormAct(384, 256, 3),
            ConvNormAct(256, 256, 3),
            _pool(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Dropout(0.5),
            nn.Linear(256, 512),
            nn.ReLU(inplace=True),
        )
        self.num_features = 512
        self.head = nn.Linear(512, num_classes)

    def forward_features(self, data: Any) -> Tensor:
        return self.features(self.images(data))


# VGG configurations: output channels of each 3x3 convolution, "M" a 2x2 max pool
VGG_CFGS: dict[str, list[int | str]] = {
    "vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg16": [
        64,
        64,
        "M",
        128,
        128,
        "M",
        256,
        256,
        256,
        "M",
        512,
        512,
        512,
        "M",
        512,
        512,
        512,
        "M",
    ],
}


class VGG(Classifier):
    """VGG (Simonyan and Zisserman, 2015) from a configuration list, with batch norm.

    The five 2x2 pools round up, so 28x28 inputs end at 1x1 rather than vanishing; a
    global average pool and a 512-wide hidden layer replace the 4096-wide classifier
    (which alone would hold over 100M parameters).

    Paper: `Very Deep Convolutional Networks <https://arxiv.org/abs/1409.1556>`_.

    Shapes:
        - input: :math:`(B, C_{in}, H, W)`
        - output: :math:`(B, \\text{num\\_classes})`

    Example:
        >>> model = VGG([16, "M", 32, "M"], in_channels=3, num_classes=10)
        >>> model(torch.randn(2, 3, 32, 32)).shape
        torch.Size([2, 10])
    """

    def __init__(self, cfg: list[int | str], in_channels: int = 3, num_classes: int = 1000):
        super().__init__()
        check_positive_int("VGG", "in_channels", in_channels)
        self.in_channels = in_channels
        layers: list[nn.Module] = []
        width = in_channels
        for item in cfg:
            if item == "M":
                layers.append(nn.MaxPool2d(2, ceil_mode=True))
            else:
                assert isinstance(item, int)
                layers.append(ConvNormAct(width, item, 3))
                width = item
        self.features = nn.Sequential(*layers)
        self.pre_head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(width, 512),
            nn.ReLU(inplace=True),
            nn.Dropout(0.5),
        )
        self.num_features = 512
        self.head = nn.Linear(512, num_classes)

    def forward_features(self, data: Any) -> Tensor:
        return self.pre_head(self.features(self.images(data)))


class Inception(Classifier):
    """A small GoogLeNet (Szegedy et al., 2015): a stem and six Inception blocks.

    The blocks use GoogLeNet's 3a, 3b, 4a, 4b, 5a and 5b widths with 1x1 reductions, with
    a max pool after 3b and 4b. Images under 64 pixels get a 3x3 stem and one 2x2 pool.

    Shapes:
        - input: :math:`(B, C_{in}, H, W)`, ``input_shape`` when given
        - output: :math:`(B, \\text{num\\_classes})`

    Example:
        >>> Inception(3, 10, input_shape=(3, 32, 32))(torch.randn(2, 3, 32, 32)).shape
        torch.Size([2, 10])
    """

    def __init__(self, in_channels: int = 3, num_classes: int = 1000, input_shape: Shape = None):
        super().__init__()
        check_positive_int("Inception", "in_channels", in_channels)
        self.in_channels = in_channels
        self.min_input_size = 2 if is_small(input_shape) else 1
        check_input_shape("Inception", input_shape, in_channels, self.min_input_size)
        if is_small(input_shape):
            self.stem = nn.Sequential(
                ConvNormAct(in_channels, 64, 3), ConvNormAct(64, 192, 3), nn.MaxPool2d(2)
            )
        else:
            self.stem = nn.Sequential(
                ConvNormAct(in_channels, 64, 7, stride=2),
                _pool(),
                ConvNormAct(64, 192, 3),
                _pool(),
            )
        self.blocks = nn.Sequential(
            InceptionBlock(192, 64, 96, 128, 16, 32, 32),  # 3a -> 256
            InceptionBlock(256, 128, 128, 192, 32, 96, 64),  # 3b -> 480
            _pool(),
            InceptionBlock(480, 192, 96, 208, 16, 48, 64),  # 4a -> 512
            InceptionBlock(512, 160, 112, 224, 24, 64, 64),  # 4b -> 512
            _pool(),
            InceptionBlock(512, 256, 160, 320, 32, 128, 128),  # 5a -> 832
            InceptionBlock(832, 384, 192, 384, 48, 128, 128),  # 5b -> 1024
        )
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2))
        self.num_features = 1024
        self.head = nn.Linear(1024, num_classes)

    def forward_features(self, data: Any) -> Tensor:
        return self.pool(self.blocks(self.stem(self.images(data))))


@register_model(inputs=("images",))
def alexnet(in_channels: int = 3, num_classes: int = 1000, *, input_shape: Shape = None) -> AlexNet:
    """AlexNet with batch norm; a 3x3 first layer for images under 64 pixels."""
    return AlexNet(in_channels, num_classes, input_shape)


@register_model(inputs=("images",))
def vgg11(in_channels: int = 3, num_classes: int = 1000) -> VGG:
    """VGG-11 (configuration A) with batch norm."""
    return VGG(VGG_CFGS["vgg11"], in_channels, num_classes)


@register_model(inputs=("images",))
def vgg16(in_channels: int = 3, num_classes: int = 1000) -> VGG:
    """VGG-16 (configuration D) with batch norm."""
    return VGG(VGG_CFGS["vgg16"], in_channels, num_classes)


@register_model(inputs=("images",))
def inception(
    in_channels: int = 3, num_classes: int = 1000, *, input_shape: Shape = None
) -> Inception:
    """A small GoogLeNet-style network of Inception blocks."""
    return Inception(in_channels, num_classes, input_shape)
