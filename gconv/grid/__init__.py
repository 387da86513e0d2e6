"""The CNN side: size formulas and fixed filters; its layers are in :mod:`gconv.nn`."""

from gconv.grid.filters import (
    FILTER_KINDS,
    box_kernel,
    gaussian_kernel,
    laplacian_kernel,
    make_kernel,
    sobel_kernel,
)
from gconv.grid.sizes import conv_output_size, conv_transpose_output_size, pool_output_size

__all__ = [
    "FILTER_KINDS",
    "box_kernel",
    "conv_output_size",
    "conv_transpose_output_size",
    "gaussian_kernel",
    "laplacian_kernel",
    "make_kernel",
    "pool_output_size",
    "sobel_kernel",
]
