r"""Grid graphs between resolutions: a transposed convolution's coarse-to-fine graph, and
the fine-to-coarse graph of a strided convolution or a pooling, its reverse.

A transposed convolution with kernel :math:`k`, stride :math:`s` and padding :math:`p`
inserts :math:`s - 1` zeros between input pixels and convolves. As a graph it is
bipartite: coarse pixel :math:`(i, j)` sends, through tap :math:`(a, b)`, to fine pixel

.. math::
    (y, x) = (i s - p + a, \; j s - p + b), \quad 0 \le a, b < k,

kept where it falls inside the :math:`H_{out} \times W_{out}` output, with
:math:`H_{out} = (H - 1) s - 2p + k + \text{output\_padding}`. The edge type is the tap,
:math:`a k + b`, the index into ``nn.ConvTranspose2d``'s ``[k, k]`` kernel.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from gconv._checks import check_positive_int
from gconv._made_for import mark
from gconv.errors import GconvValueError
from gconv.graph.conv_graph import pair
from gconv.graph.conv_graph import tap_edges as _taps  # shared with conv_graph

Pair = tuple[int, int]


def transposed_output_size(
    size: int,
    kernel_size: int,
    stride: int,
    padding: int,
    output_padding: int,
    dilation: int = 1,
) -> int:
    """One axis of ``nn.ConvTranspose2d``'s output."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1


def transposed_options(
    owner: str,
    kernel_size: object,
    stride: object,
    padding: object,
    output_padding: object,
    dilation: object = 1,
) -> tuple[Pair, Pair, Pair, Pair, Pair]:
    """``nn.ConvTranspose2d``'s options, each an int or a pair, as pairs; torch's rule
    that the output padding be smaller than the stride or the dilation, per axis."""
    kernel = pair(owner, "kernel_size", kernel_size)
    steps = pair(owner, "stride", stride)
    pads = pair(owner, "padding", padding, minimum=0)
    extra = pair(owner, "output_padding", output_padding, minimum=0)
    dilations = pair(owner, "dilation", dilation)
    for op, s, d in zip(extra, steps, dilations, strict=True):
        if op >= max(s, d):
            raise GconvValueError(
                f"{owner}: output_padding must be smaller than stride {stride} or "
                f"dilation {dilation} (got {output_padding})"
            )
    return kernel, steps, pads, extra, dilations


def check_transposed(
    owner: str, kernel_size: object, stride: object, padding: object, output_padding: object
) -> None:
    transposed_options(owner, kernel_size, stride, padding, output_padding)


def fine_size(
    owner: str,
    coarse: Pair,
    kernel_size: object,
    stride: object,
    padding: object,
    output_padding: object,
    output_size: tuple[int, int] | None,
    dilation: object = 1,
) -> Pair:
    """The fine grid of a transposed convolution: from ``output_padding``, or
    ``output_size``, which may be anything from 1 up to the largest size
    ``nn.ConvTranspose2d`` reaches (``output_padding = stride - 1``)."""
    kernel, steps, pads, extra, dilations = transposed_options(
        owner, kernel_size, stride, padding, output_padding, dilation
    )
    axes = list(zip(coarse, kernel, steps, pads, dilations, strict=True))
    if output_size is None:
        return (
            transposed_output_size(*axes[0][:4], extra[0], axes[0][4]),
            transposed_output_size(*axes[1][:4], extra[1], axes[1][4]),
        )
    size = tuple(output_size)
    largest = [transposed_output_size(n, k, st, p, max(st, d) - 1, d) for n, k, st, p, d in axes]
    if (
        len(size) != 2
        or not all(isinstance(n, int) and not isinstance(n, bool) for n in size)
        or not all(1 <= n <= top for n, top in zip(size, largest, strict=True))
    ):
        raise GconvValueError(
            f"{owner}: output_size must be (H, W) with 1 <= H <= {largest[0]} and "
            f"1 <= W <= {largest[1]} for a {coarse[0]}x{coarse[1]} input (got {output_size!r})"
        )
    return int(size[0]), int(size[1])


def transposed_grid_graph(
    height: int,
    width: int,
    kernel_size: int | Pair,
    *,
    stride: int | Pair = 1,
    padding: int | Pair = 0,
    output_padding: int | Pair = 0,
    output_size: tuple[int, int] | None = None,
    dilation: int | Pair = 1,
    batch_size: int = 1,
    device: torch.device | str | None = None,
) -> tuple[Tensor, Tensor, Pair]:
    """The bipartite graph from ``batch_size`` coarse ``height x width`` grids to their
    fine grids, for ``nn.ConvTranspose2d``'s options (each an int or a pair).

    Coarse node ids are ``b * H * W + i * W + j``; fine ones ``b * Ho * Wo + y * Wo + x``.
    ``output_size=(Ho, Wo)`` sets the fine grid instead of ``output_padding``, as
    ``nn.ConvTranspose2d.forward(x, output_size)`` does; a size below the transposed
    convolution's crops its bottom rows and right columns (FCN's crop to a skip's size).
    See :func:`fine_size`.

    Returns:
        ``(edge_index, edge_type, (Ho, Wo))``: ``edge_index[0]`` coarse sources,
        ``edge_index[1]`` fine targets, ``edge_type`` the kernel tap of each edge.

    Example:
        >>> edge_index, edge_type, size = transposed_grid_graph(4, 4, 2, stride=2)
        >>> edge_index.shape, size
        (torch.Size([2, 64]), (8, 8))
    """
    owner = "transposed_grid_graph"
    check_positive_int(owner, "height", height)
    check_positive_int(owner, "width", width)
    check_positive_int(owner, "batch_size", batch_size)
    kernel, steps, pads, _, dilations = transposed_options(
        owner, kernel_size, stride, padding, output_padding, dilation
    )
    ho, wo = fine_size(
        owner, (height, width), kernel, steps, pads, output_padding, output_size, dilations
    )
    if ho < 1 or wo < 1:
        raise GconvValueError(
            f"{owner}: a {height}x{width} input gives an empty {ho}x{wo} output "
            f"(kernel_size {kernel_size}, stride {stride}, padding {padding})"
        )
    edge_index, edge_type = _taps(
        (height, width), (ho, wo), kernel, steps, pads, batch_size, device, dilations
    )
    return edge_index, mark(edge_type, kernel), (ho, wo)


def strided_grid_graph(
    height: int,
    width: int,
    kernel_size: int,
    *,
    stride: int = 1,
    padding: int = 0,
    batch_size: int = 1,
    device: torch.device | str | None = None,
) -> tuple[Tensor, Tensor, tuple[int, int]]:
    r"""The bipartite graph from ``batch_size`` fine ``height x width`` grids to the coarse
    grids a strided convolution or pooling computes.

    Coarse pixel :math:`(i, j)` receives, through tap :math:`(a, b)`, from fine pixel
    :math:`(i s - p + a, j s - p + b)` where that is inside the image: the transposed
    convolution's graph with its edges reversed, and the same edge types, so ``F.conv2d``'s
    weight ``[..., a, b]`` is the weight of tap :math:`a k + b`. The coarse grid is
    :math:`\lfloor (H + 2p - k) / s \rfloor + 1` high, as ``nn.Conv2d``'s.

    Returns:
        ``(edge_index, edge_type, (Ho, Wo))`` with fine sources and coarse targets.

    Example:
        >>> edge_index, edge_type, size = strided_grid_graph(8, 8, 2, stride=2)
        >>> edge_index.shape, size
        (torch.Size([2, 64]), (4, 4))
    """
    owner = "strided_grid_graph"
    check_positive_int(owner, "height", height)
    check_positive_int(owner, "width", width)
    check_positive_int(owner, "kernel_size", kernel_size)
    check_positive_int(owner, "stride", stride)
    check_positive_int(owner, "padding", padding, minimum=0)
    ho = (height + 2 * padding - kernel_size) // stride + 1
    wo = (width + 2 * padding - kernel_size) // stride + 1
    if ho < 1 or wo < 1:
        raise GconvValueError(
            f"{owner}: a {height}x{width} input is smaller than kernel_size {kernel_size} "
            f"with padding {padding}"
        )
    coarse_to_fine, edge_type = _taps(
        (ho, wo),
        (height, width),
        (kernel_size, kernel_size),
        (stride, stride),
        (padding, padding),
        batch_size,
        device,
    )
    return coarse_to_fine.flip(0), edge_type, (ho, wo)  # the same taps, reversed


def conv_transpose_to(
    images: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    stride: int | tuple[int, int],
    padding: int | tuple[int, int],
    groups: int,
    output_size: tuple[int, int],
    dilation: int | tuple[int, int] = 1,
) -> Tensor:
    """``F.conv_transpose2d`` onto an ``output_size`` fine grid: the output padding that
    reaches it, then a crop of the bottom and right where it is smaller."""
    owner = "conv_transpose_to"
    steps, pads = pair(owner, "stride", stride), pair(owner, "padding", padding, minimum=0)
    dilations = pair(owner, "dilation", dilation)
    axes = zip(images.shape[-2:], weight.shape[-2:], steps, pads, dilations, strict=True)
    base = [transposed_output_size(n, k, st, p, 0, d) for n, k, st, p, d in axes]
    extra = tuple(max(0, t - n) for t, n in zip(output_size, base, strict=True))
    out = F.conv_transpose2d(images, weight, bias, steps, pads, extra, groups, dilations)
    return out[..., : output_size[0], : output_size[1]]
