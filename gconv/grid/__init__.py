"""The CNN side: layers on dense ``[B, C, H, W]`` images and their size formulas."""

from gconv.grid.conv import ConvNormAct, DepthwiseSeparableConv2d, PointwiseConv2d
from gconv.grid.filters import (
    FILTER_KINDS,
    FixedFilter2d,
    box_kernel,
    gaussian_kernel,
    laplacian_kernel,
    make_kernel,
    sobel_kernel,
)
from gconv.grid.inception import InceptionBlock
from gconv.grid.residual import BasicBlock, Bottleneck
from gconv.grid.sizes import conv_output_size, conv_transpose_output_size, pool_output_size
from gconv.grid.squeeze_excite import SqueezeExcite

__all__ = [
    "FILTER_KINDS",
    "BasicBlock",
    "Bottleneck",
    "ConvNormAct",
    "DepthwiseSeparableConv2d",
    "FixedFilter2d",
    "InceptionBlock",
    "PointwiseConv2d",
    "SqueezeExcite",
    "box_kernel",
    "conv_output_size",
    "conv_transpose_output_size",
    "gaussian_kernel",
    "laplacian_kernel",
    "make_kernel",
    "pool_output_size",
    "sobel_kernel",
]
