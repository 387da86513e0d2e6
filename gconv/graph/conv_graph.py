r"""The graph of any ``nn.Conv2d``: from an input grid to the output grid its options
(kernel, stride, padding, dilation, each an int or a pair) give.

Output pixel :math:`(i, j)` receives, through tap :math:`(a, b)` of a
:math:`k_h \times k_w` kernel, from input pixel

.. math::
    (i s_h - p_{top} + a d_h, \; j s_w - p_{left} + b d_w)

where that is inside the image (zero padding adds no edges; ``padding_mode``
``"reflect"``, ``"replicate"`` or ``"circular"`` sends the tap the pixel that
``F.pad`` would put there), typed by the tap :math:`a k_w + b`, the index into
``nn.Conv2d``'s ``[k_h, k_w]`` kernel. The output is
:math:`\lfloor (H + p_{top} + p_{bottom} - d_h (k_h - 1) - 1) / s_h \rfloor + 1` high,
as ``nn.Conv2d``'s.
"""

from __future__ import annotations

import torch
from torch import Tensor

from gconv._checks import check_choice, check_positive_int
from gconv._made_for import mark
from gconv.errors import GconvValueError

Pair = tuple[int, int]


def pair(owner: str, name: str, value: object, minimum: int = 1) -> Pair:
    """An int or a pair of ints, as ``nn.Conv2d`` takes them, as a pair."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise GconvValueError(f"{owner}: {name} must be an int or a pair (got {value!r})")
        first, second = value
        return (
            check_positive_int(owner, name, first, minimum=minimum),
            check_positive_int(owner, name, second, minimum=minimum),
        )
    v = check_positive_int(owner, name, value, minimum=minimum)
    return v, v


def conv_padding(
    owner: str, padding: object, kernel: Pair, stride: Pair, dilation: Pair
) -> tuple[int, int, int, int]:
    """``(top, bottom, left, right)`` of ``nn.Conv2d``'s ``padding``: an int, a pair,
    ``"valid"`` (none) or ``"same"`` (the output as large as the input; where the total
    is odd, the extra row or column goes at the bottom or right, as torch pads)."""
    if padding == "valid":
        return 0, 0, 0, 0
    if padding == "same":
        if stride != (1, 1):
            raise GconvValueError(
                f"{owner}: padding='same' needs stride 1, as nn.Conv2d (got stride {stride})"
            )
        th, tw = (d * (k - 1) for d, k in zip(dilation, kernel, strict=True))
        return th // 2, th - th // 2, tw // 2, tw - tw // 2
    if isinstance(padding, str):
        raise GconvValueError(
            f"{owner}: padding must be an int, a pair, 'same' or 'valid' (got {padding!r})"
        )
    ph, pw = pair(owner, "padding", padding, minimum=0)
    return ph, ph, pw, pw


def conv_output_shape(
    size: Pair,
    kernel: Pair,
    stride: Pair,
    padding: tuple[int, int, int, int],
    dilation: Pair,
    ceil_mode: bool = False,
) -> Pair:
    """The output grid; with ``ceil_mode`` (pooling's), windows that start inside the
    input or its leading padding also count, as ``nn.MaxPool2d(ceil_mode=True)``."""
    shape = []
    for n, k, s, lead, trail, d in zip(
        size, kernel, stride, padding[::2], padding[1::2], dilation, strict=True
    ):
        span = n + lead + trail - d * (k - 1) - 1
        out = (span + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (out - 1) * s >= n + lead:
            out -= 1
        shape.append(out)
    return shape[0], shape[1]


def conv_graph(
    height: int,
    width: int,
    kernel_size: int | Pair,
    *,
    stride: int | Pair = 1,
    padding: int | Pair | str = 0,
    dilation: int | Pair = 1,
    batch_size: int = 1,
    device: torch.device | str | None = None,
    padding_mode: str = "zeros",
) -> tuple[Tensor, Tensor, Pair]:
    """The bipartite graph from ``batch_size`` input grids of ``height x width`` to the
    output grids of ``nn.Conv2d(..., kernel_size, stride, padding, dilation,
    padding_mode=padding_mode)``.

    With :class:`gconv.nn.GridConv2d` of the same ``kernel_size`` and
    ``forward(..., size=(B * H * W, B * Ho * Wo))`` it computes ``F.conv2d``.

    Returns:
        ``(edge_index, edge_type, (Ho, Wo))``: input sources, output targets (each
        target's edges in window order), taps :math:`a k_w + b`.

    Example:
        >>> edge_index, edge_type, size = conv_graph(5, 5, (2, 3), stride=2, dilation=(2, 1))
        >>> size
        (2, 2)
    """
    kernel = pair("conv_graph", "kernel_size", kernel_size)
    steps = pair("conv_graph", "stride", stride)
    dilations = pair("conv_graph", "dilation", dilation)
    pads = conv_padding("conv_graph", padding, kernel, steps, dilations)
    check_choice("conv_graph", "padding_mode", padding_mode, PADDING_MODES)
    if padding_mode == "reflect" and (max(pads[:2]) >= height or max(pads[2:]) >= width):
        raise GconvValueError(
            f"conv_graph: reflect padding {pads} must be smaller than the {height}x{width} "
            "input, as F.pad's"
        )
    return window_graph(
        "conv_graph", height, width, kernel, steps, pads, dilations, batch_size, device,
        padding_mode=padding_mode,
    )  # fmt: skip


def window_graph(
    owner: str,
    height: int,
    width: int,
    kernel: Pair,
    stride: Pair,
    padding: tuple[int, int, int, int],
    dilation: Pair,
    batch_size: int = 1,
    device: torch.device | str | None = None,
    ceil_mode: bool = False,
    padding_mode: str = "zeros",
) -> tuple[Tensor, Tensor, Pair]:
    """:func:`conv_graph` with its options resolved (``padding`` as top, bottom, left,
    right), and pooling's ``ceil_mode``."""
    check_positive_int(owner, "height", height)
    check_positive_int(owner, "width", width)
    check_positive_int(owner, "batch_size", batch_size)
    ho, wo = conv_output_shape((height, width), kernel, stride, padding, dilation, ceil_mode)
    if ho < 1 or wo < 1:
        raise GconvValueError(
            f"{owner}: a {height}x{width} input is smaller than the dilated kernel "
            f"{kernel} (dilation {dilation}) with padding {padding[::2]}"
        )
    coarse_to_fine, edge_type = tap_edges(
        (ho, wo),
        (height, width),
        kernel,
        stride,
        (padding[0], padding[2]),
        batch_size,
        device,
        dilation,
        padding_mode,
    )
    return coarse_to_fine.flip(0), mark(edge_type, kernel), (ho, wo)  # the same taps, reversed


def tap_edges(
    coarse: Pair,
    fine: Pair,
    kernel: Pair,
    stride: Pair,
    padding: Pair,
    batch_size: int,
    device: torch.device | str | None,
    dilation: Pair = (1, 1),
    padding_mode: str = "zeros",
) -> tuple[Tensor, Tensor]:
    """Edges from coarse pixel (i, j) to fine pixel (i s - p + a d, j s - p + b d) inside
    the fine grid (outside it, with a ``padding_mode`` other than zeros, the pixel that
    mode pads with), typed by the tap a k_w + b, for ``batch_size`` pairs of grids."""
    (h, w), (fh, fw) = coarse, fine
    i, j, a, b = torch.meshgrid(
        torch.arange(h, device=device),
        torch.arange(w, device=device),
        torch.arange(kernel[0], device=device),
        torch.arange(kernel[1], device=device),
        indexing="ij",
    )
    y = _padded(i * stride[0] - padding[0] + a * dilation[0], fh, padding_mode)
    x = _padded(j * stride[1] - padding[1] + b * dilation[1], fw, padding_mode)
    keep = (y >= 0) & (y < fh) & (x >= 0) & (x < fw)
    source, target = (i * w + j)[keep], (y * fw + x)[keep]
    shift = torch.arange(batch_size, device=device).view(-1, 1)
    edge_index = torch.stack(
        [(source + shift * h * w).reshape(-1), (target + shift * fh * fw).reshape(-1)]
    )
    return edge_index, (a * kernel[1] + b)[keep].repeat(batch_size)


PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _padded(index: Tensor, size: int, mode: str) -> Tensor:
    """Where ``F.pad(mode)`` takes a padded row or column from (zeros: outside, kept)."""
    if mode == "reflect":
        index = index.abs()
        return torch.where(index >= size, 2 * (size - 1) - index, index)
    if mode == "replicate":
        return index.clamp(0, size - 1)
    if mode == "circular":
        return index.remainder(size)
    return index
