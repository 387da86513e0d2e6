"""Recognizing a batch of pixel grid graphs, so that layers can compute on the image view."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from gconv.errors import GconvValueError
from gconv.graph._cache import GraphCache


def grid_stencil(
    owner: str,
    edge_index: Tensor,
    grid_shape: tuple[int, int, int],
    num_nodes: int,
    *,
    kernel_size: int | None = None,
    edge_type: Tensor | None = None,
) -> Tensor:
    """Checks that a graph is ``B`` full ``H x W`` pixel grids and returns its taps.

    The offset of each edge follows from its node ids (``b * H * W + row * W + col``).
    The graph passes when every edge joins two pixels of one image, each offset occurs
    for every pixel where it stays in bounds or not at all, and no pixel receives the
    same offset twice. With ``edge_type``, each type must be the offset's kernel tap.

    Returns:
        A ``[k, k]`` 0/1 mask of the offsets present (``k`` odd), as ``float``.

    Raises:
        ValueError: naming ``owner``, if the graph is not such a grid.
    """
    shape = tuple(int(s) for s in grid_shape)
    if len(shape) != 3 or min(shape) < 1 or shape[0] * shape[1] * shape[2] != num_nodes:
        raise GconvValueError(
            f"{owner}: grid_shape must be (B, H, W) with B*H*W = {num_nodes} rows of x "
            f"(got {grid_shape})"
        )
    b, h, w = shape
    source, target = edge_index[0].long(), edge_index[1].long()
    pixel_s, pixel_t = source % (h * w), target % (h * w)
    dy, dx = pixel_s // w - pixel_t // w, pixel_s % w - pixel_t % w
    if kernel_size is None:
        r = int(torch.maximum(dy.abs(), dx.abs()).max()) if source.numel() else 0
    else:
        r = kernel_size // 2
    k = 2 * r + 1
    taps = (dy + r) * k + (dx + r)
    ok = bool((source // (h * w) == target // (h * w)).all())
    ok = ok and bool(((dy.abs() <= r) & (dx.abs() <= r)).all())
    if ok and edge_type is not None:
        ok = bool((edge_type.long() == taps).all())
    if ok:
        offsets = torch.arange(-r, r + 1, device=source.device).abs()
        full = b * (h - offsets).clamp(min=0).view(-1, 1) * (w - offsets).clamp(min=0)
        hist = torch.bincount(taps, minlength=k * k).view(k, k)
        ok = bool(((hist == 0) | (hist == full)).all())
        once = torch.bincount(target * (k * k) + taps, minlength=num_nodes * k * k)
        ok = ok and (once.numel() == 0 or int(once.max()) <= 1)
    if not ok:
        raise GconvValueError(
            f"{owner}: grid_shape={shape} was given, but the graph is not the full "
            f"{k}x{k} grid of that shape; pass grid_shape=None for a general graph"
        )
    return (hist > 0).float()


def stencil_degrees(
    owner: str,
    edge_index: Tensor,
    grid_shape: tuple[int, int, int],
    num_nodes: int,
    loops: bool,
    improved: bool,
) -> tuple[Tensor, Tensor]:
    """A GCN's grid graph as a stencil: its ``[k, k]`` 0/1 mask (self loops added, weight
    2 when ``improved``) and each pixel's degree under it, ``[1, 1, H, W]``."""
    _, height, width = (int(s) for s in grid_shape)
    mask = grid_stencil(owner, edge_index, grid_shape, num_nodes)
    r = mask.size(0) // 2
    if loops and mask[r, r] == 0:  # an existing loop keeps weight 1
        mask[r, r] = 2.0 if improved else 1.0
    ones = mask.new_ones(1, 1, height, width)  # on the graph's device
    deg = F.conv2d(ones, mask.view(1, 1, *mask.shape), padding=r).view(1, 1, height, width)
    return mask, deg


def stencil_product(
    h: Tensor,
    mask: Tensor,
    deg: Tensor,
    grid_shape: tuple[int, int, int],
    mode: str,
    *,
    bias: Tensor | None = None,
    scaled: bool = False,
) -> Tensor:
    r"""A GCN's normalized adjacency times ``h`` on full pixel grids, where :math:`\hat A`
    is the k x k 0/1 stencil ``mask`` at every pixel: a per-pixel scale, a depthwise
    convolution on the nodes' channels-last image view (no copy) and a scale again
    (``mode`` ``"sym"``; ``"rw"`` divides by the degree ``deg`` ``[1, 1, H, W]``,
    ``"none"`` neither). ``scaled``: ``h`` already carries the first scale; ``bias`` is
    added in the last scale's pass."""
    b, height, width = (int(s) for s in grid_shape)
    c, r = h.size(1), mask.size(0) // 2
    image = h.view(b, height, width, c).permute(0, 3, 1, 2)
    stencil = mask.to(h.dtype).expand(c, 1, *mask.shape)
    shift = None if bias is None else bias.view(1, c, 1, 1)
    if mode == "sym":
        scale = deg.to(h.dtype).pow(-0.5)
        summed = F.conv2d(image if scaled else scale * image, stencil, padding=r, groups=c)
        out = scale * summed if shift is None else torch.addcmul(shift, scale, summed)
    else:
        out = F.conv2d(image, stencil, padding=r, groups=c)
        if mode == "rw":
            out = out / deg.to(h.dtype)
        if shift is not None:
            out = out + shift
    return out.permute(0, 2, 3, 1).reshape(b * height * width, c)


def grid_plan(
    cache: GraphCache[dict[tuple[int, ...], tuple[Tensor, Tensor]]],
    owner: str,
    edge_index: Tensor,
    grid_shape: tuple[int, int, int],
    num_nodes: int,
    loops: bool,
    improved: bool,
    device: torch.device,
) -> tuple[Tensor, Tensor]:
    """:func:`stencil_degrees` on ``device``, checked and built once per graph, batch
    shape and setting and kept in ``cache`` (the layer's)."""
    b, height, width = (int(s) for s in grid_shape)
    key = (b, height, width, loops, improved)
    plans = cache.get(edge_index, None, num_nodes)
    if plans is None:
        plans = {}
        cache.put(edge_index, None, num_nodes, plans)
    if key not in plans:
        mask, deg = stencil_degrees(owner, edge_index, grid_shape, num_nodes, loops, improved)
        plans[key] = (mask.to(device), deg.to(device))
    return plans[key]


def scale_pixels(x: Tensor, scale: Tensor, grid_shape: tuple[int, int, int]) -> Tensor:
    """Node features ``x`` (pixels in row-major order) times a per-pixel ``[1, 1, H, W]``
    ``scale``, the same for every grid of the batch."""
    b, height, width = (int(s) for s in grid_shape)
    return (x.view(b, height, width, -1) * scale.view(1, height, width, 1)).view(x.shape)
