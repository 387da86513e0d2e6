r"""Classic fixed image filters: box blur, Gaussian blur, Laplacian and Sobel edges.

The kernel functions return a ``[k, k]`` tensor to be used as a cross-correlation, which
is what ``F.conv2d`` computes; :class:`FixedFilter2d` applies one to every channel.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gconv._checks import check_choice, check_feature_map, check_odd_kernel, check_positive_int
from gconv.errors import GconvValueError

FILTER_KINDS = ("box", "gaussian", "laplacian", "sobel_x", "sobel_y")
PADDING_MODES = ("zeros", "reflect", "replicate")


def box_kernel(kernel_size: int = 3, *, dtype: torch.dtype | None = None) -> Tensor:
    r"""Box (mean) filter: :math:`K_{ij} = 1 / k^2`."""
    k = check_odd_kernel("box_kernel", kernel_size)
    return torch.full((k, k), 1.0 / (k * k), dtype=dtype)


def gaussian_kernel(
    kernel_size: int = 3, sigma: float = 1.0, *, dtype: torch.dtype | None = None
) -> Tensor:
    r"""Sampled Gaussian, normalized to sum to 1.

    .. math::
        K_{ij} \propto \exp\left(-\frac{(i - r)^2 + (j - r)^2}{2\sigma^2}\right),
        \quad r = \lfloor k / 2 \rfloor
    """
    k = check_odd_kernel("gaussian_kernel", kernel_size)
    if not isinstance(sigma, (int, float)) or not math.isfinite(sigma) or sigma <= 0:
        raise GconvValueError(f"gaussian_kernel: sigma must be a positive number (got {sigma!r})")
    offsets = torch.arange(k, dtype=torch.float64) - k // 2
    g = torch.exp(-(offsets**2) / (2 * sigma**2))
    kernel = torch.outer(g, g)
    return (kernel / kernel.sum()).to(dtype or torch.get_default_dtype())


def laplacian_kernel(*, dtype: torch.dtype | None = None) -> Tensor:
    r"""Five-point discrete Laplacian :math:`\nabla^2 f \approx f_{N} + f_{S} + f_{E} + f_{W}
    - 4 f`; it sums to 0, so a constant image maps to 0."""
    return torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]], dtype=dtype)


def sobel_kernel(direction: str = "x", *, dtype: torch.dtype | None = None) -> Tensor:
    r"""Sobel derivative: smoothing across, central difference along ``direction``.

    ``"x"`` differentiates along columns (responds to vertical edges), ``"y"`` along rows.
    On the ramp :math:`f(r, c) = c` the ``"x"`` kernel gives 8 everywhere inside.
    """
    check_choice("sobel_kernel", "direction", direction, ("x", "y"))
    kx = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]], dtype=dtype)
    return kx if direction == "x" else kx.t().contiguous()


def make_kernel(
    kind: str, kernel_size: int = 3, *, sigma: float = 1.0, dtype: torch.dtype | None = None
) -> Tensor:
    """Returns the ``[k, k]`` kernel of a filter kind (one of ``FILTER_KINDS``)."""
    check_choice("make_kernel", "kind", kind, FILTER_KINDS)
    k = check_odd_kernel("make_kernel", kernel_size)
    if kind == "box":
        return box_kernel(k, dtype=dtype)
    if kind == "gaussian":
        return gaussian_kernel(k, sigma, dtype=dtype)
    if k != 3:
        raise GconvValueError(f"make_kernel: kind {kind!r} is defined for kernel_size 3 (got {k})")
    if kind == "laplacian":
        return laplacian_kernel(dtype=dtype)
    return sobel_kernel(kind[-1], dtype=dtype)


class FixedFilter2d(nn.Module):
    r"""A fixed (non-trainable) filter applied to every channel on its own.

    .. math::
        y_c = K \star x_c, \quad c = 1, \dots, C

    The kernel is a buffer, not a parameter: it moves with ``.to()`` and is saved in the
    state dict, but no optimizer sees it.

    Args:
        kind: one of ``"box"``, ``"gaussian"``, ``"laplacian"``, ``"sobel_x"``, ``"sobel_y"``.
        channels: channels of the input (each filtered separately).
        kernel_size: odd kernel size (3 for ``laplacian`` and ``sobel_*``).
        sigma: standard deviation of the ``gaussian`` kernel.
        padding_mode: ``"zeros"``, ``"reflect"`` or ``"replicate"``; the output keeps the
            input size.

    Shapes:
        - input: :math:`(B, C, H, W)`
        - output: :math:`(B, C, H, W)`

    Example:
        >>> blur = FixedFilter2d("gaussian", channels=3, kernel_size=5, sigma=1.5)
        >>> blur(torch.rand(2, 3, 32, 32)).shape
        torch.Size([2, 3, 32, 32])
    """

    weight: Tensor

    def __init__(
        self,
        kind: str,
        channels: int = 1,
        kernel_size: int = 3,
        *,
        sigma: float = 1.0,
        padding_mode: str = "zeros",
    ) -> None:
        super().__init__()
        owner = type(self).__name__
        check_choice(owner, "kind", kind, FILTER_KINDS)
        check_positive_int(owner, "channels", channels)
        check_choice(owner, "padding_mode", padding_mode, PADDING_MODES)
        self.kind = kind
        self.channels = channels
        self.kernel_size = kernel_size
        self.sigma = sigma
        self.padding_mode = padding_mode
        kernel = make_kernel(kind, kernel_size, sigma=sigma)
        self.register_buffer("weight", kernel.expand(channels, 1, -1, -1).clone())

    def forward(self, x: Tensor) -> Tensor:
        check_feature_map("FixedFilter2d", x, self.channels)
        r = self.kernel_size // 2
        weight = self.weight.to(x.dtype)
        if self.padding_mode == "zeros":
            return F.conv2d(x, weight, padding=r, groups=self.channels)
        x = F.pad(x, (r, r, r, r), mode=self.padding_mode)
        return F.conv2d(x, weight, groups=self.channels)

    def extra_repr(self) -> str:
        extra = f", sigma={self.sigma}" if self.kind == "gaussian" else ""
        return f"{self.kind!r}, channels={self.channels}, kernel_size={self.kernel_size}{extra}"
