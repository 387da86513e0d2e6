r"""The Inception module of GoogLeNet."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gconv._checks import check_feature_map, check_positive_int
from gconv.grid.conv import ConvNormAct, LayerFactory


class InceptionBlock(nn.Module):
    r"""Inception module with dimension reductions (Szegedy et al., 2015).

    Four branches see the same input and their outputs are concatenated on channels:

    .. math::
        y = \big[\, C_{1\times1}(x) \;\|\; C_{3\times3}(R_3(x)) \;\|\;
        C_{5\times5}(R_5(x)) \;\|\; P(\mathrm{maxpool}_{3\times3}(x)) \,\big]

    where :math:`R_3, R_5, P` are 1x1 convolutions that shrink channels before the
    expensive 3x3 and 5x5 convolutions. Each convolution is conv -> norm -> ReLU.

    Paper: `Going Deeper with Convolutions <https://arxiv.org/abs/1409.4842>`_.

    Args:
        in_channels: channels of the input.
        ch1x1: output channels of the 1x1 branch.
        ch3x3red: channels of the 1x1 reduction before the 3x3 convolution.
        ch3x3: output channels of the 3x3 branch.
        ch5x5red: channels of the 1x1 reduction before the 5x5 convolution.
        ch5x5: output channels of the 5x5 branch.
        pool_proj: output channels of the 1x1 projection after 3x3 max pooling.
        norm_layer: norm after every convolution, or ``None``.

    Shapes:
        - input: :math:`(B, C_{in}, H, W)`
        - output: :math:`(B, C_{out}, H, W)` with
          :math:`C_{out} = ch1x1 + ch3x3 + ch5x5 + pool\_proj`.

    Example:
        >>> block = InceptionBlock(192, 64, 96, 128, 16, 32, 32)  # GoogLeNet's 3a
        >>> block(torch.randn(1, 192, 28, 28)).shape
        torch.Size([1, 256, 28, 28])
    """

    def __init__(
        self,
        in_channels: int,
        ch1x1: int,
        ch3x3red: int,
        ch3x3: int,
        ch5x5red: int,
        ch5x5: int,
        pool_proj: int,
        *,
        norm_layer: LayerFactory | None = nn.BatchNorm2d,
    ) -> None:
        super().__init__()
        owner = type(self).__name__
        widths = {
            "in_channels": in_channels,
            "ch1x1": ch1x1,
            "ch3x3red": ch3x3red,
            "ch3x3": ch3x3,
            "ch5x5red": ch5x5red,
            "ch5x5": ch5x5,
            "pool_proj": pool_proj,
        }
        for name, value in widths.items():
            check_positive_int(owner, name, value)
        self.in_channels = in_channels
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + pool_proj
        self.branch1 = ConvNormAct(in_channels, ch1x1, 1, norm_layer=norm_layer)
        self.branch2 = nn.Sequential(
            ConvNormAct(in_channels, ch3x3red, 1, norm_layer=norm_layer),
            ConvNormAct(ch3x3red, ch3x3, 3, norm_layer=norm_layer),
        )
        self.branch3 = nn.Sequential(
            ConvNormAct(in_channels, ch5x5red, 1, norm_layer=norm_layer),
            ConvNormAct(ch5x5red, ch5x5, 5, norm_layer=norm_layer),
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(3, stride=1, padding=1),
            ConvNormAct(in_channels, pool_proj, 1, norm_layer=norm_layer),
        )

    def forward(self, x: Tensor) -> Tensor:
        check_feature_map(type(self).__name__, x, self.in_channels)
        branches = (self.branch1, self.branch2, self.branch3, self.branch4)
        return torch.cat([branch(x) for branch in branches], dim=1)
