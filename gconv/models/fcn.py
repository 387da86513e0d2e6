r"""Fully convolutional networks for semantic segmentation (Long et al., 2015).

An encoder gives feature maps at growing strides. Each map is scored by a 1x1
convolution, the deepest score is upsampled by a transposed convolution (zeros inserted
between pixels, then a convolution) and added to the score of the next shallower map,
and so on up to the input's resolution, where a per-pixel linear head gives the class
logits. There is no dense layer, so the network runs on any image size and returns the
input's height and width.

Paper: `Fully Convolutional Networks for Semantic Segmentation
<https://arxiv.org/abs/1411.4038>`_. As in FCN-8s the fusion is linear (scores are
summed, upsampling starts bilinear); here the scores are ``decoder_channels`` wide and
the head maps them to classes, which is the same function class when
``decoder_channels >= num_classes`` and keeps ``reset_classifier`` a one-layer swap.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import torch
from torch import Tensor, nn

from gconv._checks import check_positive_int
from gconv.errors import GconvTypeError, GconvValueError
from gconv.graph.transposed_grid import transposed_output_size
from gconv.models._base import DenseClassifier
from gconv.models._registry import register_model
from gconv.models.resnet import ResNet, resnet18


def bilinear_(weight: Tensor) -> Tensor:
    """Fills a ``[C, C, k, k]`` transposed-convolution weight with bilinear upsampling of
    each channel onto itself (FCN's initialization), in place."""
    channels, k = weight.size(0), weight.size(-1)
    factor = (k + 1) // 2
    centre = factor - 1 if k % 2 == 1 else factor - 0.5
    ramp = 1 - (torch.arange(k, dtype=torch.float64) - centre).abs() / factor
    kernel = (ramp.view(-1, 1) * ramp.view(1, -1)).to(weight)
    with torch.no_grad():
        weight.zero_()
        for c in range(min(channels, weight.size(1))):
            weight[c, c] = kernel
    return weight


def upsampler(channels: int, factor: int) -> nn.ConvTranspose2d:
    """A ``factor``-times upsampling (kernel ``2 factor``, stride ``factor``, padding
    ``factor / 2``: exactly ``factor`` times the input's size), bilinear at the start."""
    up = nn.ConvTranspose2d(channels, channels, 2 * factor, factor, factor // 2)
    bilinear_(up.weight)
    nn.init.zeros_(up.bias)  # type: ignore[arg-type]
    return up


def conv_pairs(
    owner: str, in_channels: int, hidden_channels: tuple[int, ...], convs_per_stage: int
) -> list[tuple[int, int]]:
    """``(in, out)`` widths of every 3x3 convolution of an encoder, stage by stage."""
    check_positive_int(owner, "in_channels", in_channels)
    check_positive_int(owner, "convs_per_stage", convs_per_stage)
    if not hidden_channels:
        raise GconvValueError(f"{owner}: hidden_channels must name at least one stage (got ())")
    for width in hidden_channels:
        check_positive_int(owner, "hidden_channels", width)
    widths = [in_channels, *hidden_channels]
    return [(a if i == 0 else b, b) for a, b in pairwise(widths) for i in range(convs_per_stage)]


class ConvEncoder(nn.Module):
    """Stages of ``convs_per_stage`` 3x3 convolutions with batch norm and ReLU, a 2x2 max
    pool between stages: feature maps at strides 1, 2, 4, ...

    Shapes:
        - input: :math:`(B, C_{in}, H, W)`
        - output: a list of one :math:`(B, C_s, H / 2^s, W / 2^s)` map per stage ``s``

    Example:
        >>> maps = ConvEncoder(1, (8, 16))(torch.randn(2, 1, 32, 32))
        >>> [m.shape for m in maps]
        [torch.Size([2, 8, 32, 32]), torch.Size([2, 16, 16, 16])]
    """

    def __init__(
        self, in_channels: int, hidden_channels: tuple[int, ...], convs_per_stage: int = 2
    ) -> None:
        super().__init__()
        pairs = conv_pairs("ConvEncoder", in_channels, hidden_channels, convs_per_stage)
        self.convs_per_stage = convs_per_stage
        self.convs = nn.ModuleList(nn.Conv2d(a, b, 3, padding=1) for a, b in pairs)
        self.norms = nn.ModuleList(nn.BatchNorm2d(b) for _, b in pairs)
        self.pool = nn.MaxPool2d(2)
        self.channels = list(hidden_channels)
        self.strides = [2**i for i in range(len(hidden_channels))]

    def forward(self, x: Tensor) -> list[Tensor]:
        features = []
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms, strict=True)):
            if i and i % self.convs_per_stage == 0:  # a new stage, one pool down
                features.append(x)
                x = self.pool(x)
            x = torch.relu(norm(conv(x)))
        return [*features, x]


class ResNetEncoder(nn.Module):
    """A gconv :class:`~gconv.models.ResNet` as an encoder: the outputs of its last three
    stages (FCN-8s' skips at strides 8 and 16 and its deepest map at 32, or half those
    with the small-image stem).

    Shapes:
        - input: :math:`(B, C_{in}, H, W)`
        - output: the maps of the ResNet's last three stages, at ``strides`` (8, 16, 32, or
          half those with the small-image stem), ``channels`` wide

    Example:
        >>> from gconv.models import get_model
        >>> encoder = ResNetEncoder(get_model("resnet18", num_classes=10))
        >>> [m.shape for m in encoder(torch.randn(2, 3, 64, 64))]
        [torch.Size([2, 128, 8, 8]), torch.Size([2, 256, 4, 4]), torch.Size([2, 512, 2, 2])]
    """

    def __init__(self, resnet: ResNet) -> None:
        super().__init__()
        if not isinstance(resnet, ResNet):
            raise GconvTypeError(f"ResNetEncoder: resnet must be a gconv ResNet (got {resnet!r})")
        self.stem, self.layer1, self.layer2 = resnet.stem, resnet.layer1, resnet.layer2
        self.layer3, self.layer4 = resnet.layer3, resnet.layer4
        stem_stride = 2 if self.stem[0].stride == (1, 1) else 4
        stages = (self.layer2, self.layer3, self.layer4)
        self.channels: list[int] = [int(stage[-1].out_channels) for stage in stages]  # type: ignore[arg-type]
        self.strides = [2 * stem_stride, 4 * stem_stride, 8 * stem_stride]

    def forward(self, x: Tensor) -> list[Tensor]:
        c2 = self.layer2(self.layer1(self.stem(x)))
        c3 = self.layer3(c2)
        return [c2, c3, self.layer4(c3)]


class FCN(DenseClassifier):
    """A fully convolutional network on an encoder with ``channels`` and ``strides``.

    Args:
        encoder: gives feature maps at the strides it lists in ``encoder.strides``
            (powers of 2, growing), ``encoder.channels`` wide.
        in_channels: image channels.
        num_classes: classes per pixel.
        decoder_channels: width of the scores and of what the head reads.

    Shapes:
        - input: :math:`(B, C, H, W)`, any :math:`H, W` from ``min_input_size``
        - output: :math:`(B, \\text{num\\_classes}, H, W)`

    Example:
        >>> model = FCN(ConvEncoder(1, (8, 16)), 1, num_classes=11)
        >>> model(torch.randn(2, 1, 32, 32)).shape
        torch.Size([2, 11, 32, 32])
    """

    def __init__(
        self,
        encoder: ConvEncoder | ResNetEncoder,
        in_channels: int,
        num_classes: int,
        decoder_channels: int = 32,
    ) -> None:
        super().__init__()
        owner = type(self).__name__
        check_positive_int(owner, "decoder_channels", decoder_channels)
        check_positive_int(owner, "num_classes", num_classes)
        self.in_channels = in_channels
        self.encoder = encoder
        strides = list(encoder.strides)
        self.min_input_size = strides[-1]
        self.score = nn.ModuleList(nn.Conv2d(c, decoder_channels, 1) for c in encoder.channels)
        self.up = nn.ModuleList(upsampler(decoder_channels, b // a) for a, b in pairwise(strides))
        self.final_up: nn.ConvTranspose2d | None
        self.final_up = upsampler(decoder_channels, strides[0]) if strides[0] > 1 else None
        self.num_features = decoder_channels
        self.set_head(decoder_channels, num_classes)

    def forward_features(self, data: Any) -> Tensor:
        x = self.images(data)
        features = self.encoder(x)
        y = self.score[-1](features[-1])
        for i in range(len(features) - 2, -1, -1):  # deepest first, one skip at a time
            skip = self.score[i](features[i])
            y = _upsample(self.up[i], y, skip.shape[-2:]) + skip  # type: ignore[arg-type]
        if self.final_up is not None:
            y = _upsample(self.final_up, y, x.shape[-2:])
        return y


@torch.fx.wrap  # sizes read in Python: one call in a traced graph (cnn_to_gnn traces FCN)
def _reach(size_in: Any, size: Any, kernel: int, stride: int, padding: int) -> list[int]:
    """The ``output_size`` that takes a transposed convolution from ``size_in`` to at
    least ``size``: ``size`` where it can, its smallest output where that is larger."""
    base = [transposed_output_size(int(n), kernel, stride, padding, 0) for n in size_in]
    return [max(int(size[0]), base[0]), max(int(size[1]), base[1])]


def _upsample(up: nn.ConvTranspose2d, x: Tensor, size: Any) -> Tensor:
    """``up`` onto a grid of ``size``: ``nn.ConvTranspose2d``'s ``output_size`` where it
    reaches that size, cropped at the bottom and right where its smallest output is
    larger (FCN's crop to a skip). The module itself runs, so hooks see it."""
    k, stride, padding = up.kernel_size[0], up.stride[0], int(up.padding[0])
    out = up(x, output_size=_reach(x.shape[-2:], size, k, stride, padding))
    return out[..., : size[0], : size[1]]


@register_model(inputs=("images_dense",))
def fcn(
    in_channels: int,
    num_classes: int,
    *,
    hidden_channels: tuple[int, ...] = (16, 32, 64),
    decoder_channels: int = 32,
    convs_per_stage: int = 2,
    input_shape: tuple[int, int, int] | None = None,
) -> FCN:
    """A small FCN: stages of ``convs_per_stage`` 3x3 convolutions (``hidden_channels``
    wide), 2x2 max pools, skips from every stage; any input size from
    ``2 ** (stages - 1)``. Its graph twin is ``grid_fcn``, which loads its state dict."""
    del input_shape  # any size
    encoder = ConvEncoder(in_channels, hidden_channels, convs_per_stage)
    return FCN(encoder, in_channels, num_classes, decoder_channels)


@register_model(inputs=("images_dense",))
def fcn_resnet18(
    in_channels: int = 3,
    num_classes: int = 21,
    *,
    backbone: ResNet | None = None,
    decoder_channels: int = 64,
    input_shape: tuple[int, int, int] | None = None,
) -> FCN:
    """FCN-8s on gconv's ``resnet18``: skips from its stages at strides 8 and 16, the
    deepest at 32 (4, 8 and 16 with the small-image stem, chosen by ``input_shape``).

    ``backbone`` is a trained ``resnet18`` (e.g. ``get_model("resnet18", ...)`` with a
    checkpoint loaded) whose stem and stages become the encoder, for transfer learning;
    freeze it with :func:`gconv.models.freeze` (``model.encoder``) to train the decoder
    only. Without one the backbone starts fresh.
    """
    if backbone is None:
        backbone = resnet18(in_channels, num_classes, input_shape=input_shape)
    if not isinstance(backbone, ResNet):
        raise GconvTypeError(f"fcn_resnet18: backbone must be a gconv ResNet (got {backbone!r})")
    if backbone.in_channels != in_channels:
        raise GconvValueError(
            f"fcn_resnet18: backbone takes {backbone.in_channels} channels, in_channels is "
            f"{in_channels}"
        )
    return FCN(ResNetEncoder(backbone), in_channels, num_classes, decoder_channels)
