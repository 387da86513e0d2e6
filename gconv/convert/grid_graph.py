r"""Images as grid graphs: the bridge between the CNN and the GNN side.

A pixel is a node, numbered ``row * width + col`` (the order in which an image flattens),
and each pixel receives an edge from every in-bounds pixel under a k x k kernel centred on
it. The edge's ``edge_type`` is the kernel tap it stands for, so a layer whose weight
depends on the edge type (:class:`gconv.nn.GridConv2d`) computes a convolution.
"""

from __future__ import annotations

from collections import OrderedDict
from functools import lru_cache
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import Batch, Data

from gconv._checks import check_choice, check_images, check_odd_kernel, check_positive_int
from gconv._made_for import mark
from gconv.errors import GconvValueError


def grid_offsets(
    kernel_size: int = 3, connectivity: int = 8, self_loops: bool = True
) -> list[tuple[int, int, int]]:
    """The ``(edge_type, dy, dx)`` taps of a grid graph, in edge-type order.

    ``edge_type = (dy + r) * k + (dx + r)`` with ``r = k // 2``, which is the index of the
    tap in a flattened ``nn.Conv2d`` kernel.
    """
    k = check_odd_kernel("grid_offsets", kernel_size)
    check_choice("grid_offsets", "connectivity", connectivity, (4, 8))
    r = k // 2
    taps = []
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            if connectivity == 4 and abs(dy) + abs(dx) > 1:
                continue
            if not self_loops and dy == 0 and dx == 0:
                continue
            taps.append(((dy + r) * k + (dx + r), dy, dx))
    return taps


@lru_cache(maxsize=32)
def _template(
    height: int, width: int, kernel_size: int, connectivity: int, self_loops: bool
) -> tuple[Tensor, Tensor, Tensor]:
    """``(edge_index, edge_type, pos)`` of one grid; cached, so never modified in place."""
    rows = torch.arange(height).view(-1, 1).expand(height, width)
    cols = torch.arange(width).view(1, -1).expand(height, width)
    sources, targets, types = [], [], []
    for edge_type, dy, dx in grid_offsets(kernel_size, connectivity, self_loops):
        src_r, src_c = rows + dy, cols + dx
        valid = (src_r >= 0) & (src_r < height) & (src_c >= 0) & (src_c < width)
        targets.append((rows * width + cols)[valid])
        sources.append((src_r * width + src_c)[valid])
        types.append(torch.full((int(valid.sum()),), edge_type, dtype=torch.long))
    edge_index = torch.stack([torch.cat(sources), torch.cat(targets)])
    pos = torch.stack([rows.reshape(-1), cols.reshape(-1)], dim=1).float()
    return edge_index, torch.cat(types), pos


_BATCHED: OrderedDict[tuple[Any, ...], tuple[tuple[Tensor, ...], tuple[int, ...]]] = OrderedDict()


def _batched_template(
    b: int, h: int, w: int, kernel_size: int, connectivity: int, device: torch.device
) -> tuple[Tensor, ...]:
    """``(edge_index, edge_type, pos, batch, ptr)`` of ``b`` grids, built once per shape.

    The tensors are shared by every batch of that shape; one that was modified in place
    (its version counter moved) is rebuilt rather than reused.
    """
    key = (b, h, w, kernel_size, connectivity, str(device))
    hit = _BATCHED.get(key)
    if hit is not None and tuple(t._version for t in hit[0]) == hit[1]:
        _BATCHED.move_to_end(key)
        return hit[0]
    edge_index, edge_type, pos = _template(h, w, kernel_size, connectivity, True)
    n, e = h * w, edge_type.numel()
    offsets = torch.arange(b) * n
    tensors = tuple(
        t.to(device)
        for t in (
            (edge_index.unsqueeze(1) + offsets.view(1, b, 1)).view(2, b * e),
            edge_type.repeat(b),
            pos.repeat(b, 1),
            torch.arange(b).repeat_interleave(n),
            torch.arange(b + 1) * n,
        )
    )
    mark(tensors[1], (kernel_size, kernel_size))
    _BATCHED[key] = (tensors, tuple(t._version for t in tensors))
    if len(_BATCHED) > 8:
        _BATCHED.popitem(last=False)
    return tensors


def batched_grid_graph(
    batch_size: int,
    height: int,
    width: int,
    *,
    kernel_size: int = 3,
    connectivity: int = 8,
    device: torch.device | str | None = None,
) -> tuple[Tensor, Tensor]:
    """``(edge_index, edge_type)`` of ``batch_size`` ``height x width`` grids side by
    side (node ``b * H * W + row * W + col``), the edges of :func:`images_to_graphs`.

    Built once per shape and device and shared: treat them as read-only (a tensor
    modified in place is rebuilt, not reused). Layers that cache per graph see the same
    tensors on every call, so they check a grid once.
    """
    owner = "batched_grid_graph"
    for name, value in (("batch_size", batch_size), ("height", height), ("width", width)):
        check_positive_int(owner, name, value)
    check_odd_kernel(owner, kernel_size)
    check_choice(owner, "connectivity", connectivity, (4, 8))
    device = torch.device("cpu") if device is None else torch.device(device)
    edge_index, edge_type, *_ = _batched_template(
        batch_size, height, width, kernel_size, connectivity, device
    )
    return edge_index, edge_type


def grid_graph(
    height: int,
    width: int,
    *,
    kernel_size: int = 3,
    connectivity: int = 8,
    self_loops: bool = True,
) -> Data:
    r"""The pixel grid of an image as a PyG graph.

    Each target pixel :math:`(r, c)` receives an edge from every in-bounds source pixel
    :math:`(r + dy, c + dx)` with :math:`dy, dx \in [-\lfloor k/2 \rfloor,
    \lfloor k/2 \rfloor]`, typed by the kernel tap:

    .. math::
        \text{edge\_type} = (dy + r) k + (dx + r), \quad r = \lfloor k / 2 \rfloor

    ``connectivity=4`` keeps the taps with :math:`|dy| + |dx| \le 1`. For ``k = 3`` and
    8-connectivity the edge set equals ``torch_geometric.utils.grid(height, width)``.

    Args:
        height: image height :math:`H`.
        width: image width :math:`W`.
        kernel_size: odd kernel size :math:`k`.
        connectivity: 8 (all taps) or 4 (no diagonals).
        self_loops: keep the centre tap (each pixel's edge to itself).

    Returns:
        ``Data`` with ``edge_index`` :math:`(2, E)` (source -> target), ``edge_type``
        :math:`(E)`, ``pos`` :math:`(HW, 2)` as (row, col), ``grid_size`` ``[[H, W]]``
        (what makes a PyG ``DataLoader`` batch of such graphs a pixel grid, see
        :func:`gconv.convert.grid_shape_of`) and ``num_nodes = HW``.

    Example:
        >>> g = grid_graph(28, 28)
        >>> g.num_nodes, g.edge_index.shape
        (784, torch.Size([2, 6724]))
    """
    owner = "grid_graph"
    check_positive_int(owner, "height", height)
    check_positive_int(owner, "width", width)
    check_odd_kernel(owner, kernel_size)
    check_choice(owner, "connectivity", connectivity, (4, 8))
    edge_index, edge_type, pos = _template(height, width, kernel_size, connectivity, self_loops)
    return Data(
        edge_index=edge_index.clone(),
        edge_type=mark(edge_type.clone(), (kernel_size, kernel_size)),
        pos=pos.clone(),
        grid_size=torch.tensor([[height, width]]),
        num_nodes=height * width,
    )


def images_to_graphs(
    images: Tensor,
    labels: Tensor | None = None,
    *,
    kernel_size: int = 3,
    connectivity: int = 8,
) -> Batch:
    r"""Turns a batch of images into one PyG ``Batch`` of grid graphs.

    The edge lists of :math:`B` grids are built once per batch shape and shared by every
    batch of that shape (treat them as read-only: one modified in place is rebuilt), so a
    call costs little more than a view of the pixels, instead of building :math:`B`
    graphs and collating them. The batch carries ``grid_shape = (B, H, W)``, which lets
    :class:`gconv.nn.GridConv2d` and :class:`gconv.nn.GCNLayer` take their fast paths.

    Args:
        images: ``[B, C, H, W]`` floating tensor, or one unbatched ``[C, H, W]`` image
            (a batch of one, as ``nn.Conv2d`` takes it).
        labels: optional ``[B]`` labels, one per image, or ``[B, H, W]`` labels, one per
            pixel (segmentation masks), stored as ``y`` (``[B]`` or ``[BHW]``); for an
            unbatched image, its label (a scalar) or its ``[H, W]`` mask.
        kernel_size: odd kernel size of the grid's taps.
        connectivity: 8 or 4.

    Returns:
        ``Batch`` with ``x`` :math:`(BHW, C)`, ``edge_index``, ``edge_type``, ``batch``,
        ``ptr``, ``pos``, ``y``, ``grid_shape`` and each graph's ``grid_size``.
        ``to_data_list()`` gives the single graphs back, pixel grids as
        :func:`gconv.convert.grid_graph`'s.

    Example:
        >>> batch = images_to_graphs(torch.rand(64, 1, 28, 28), torch.arange(64) % 10)
        >>> batch.x.shape, batch.num_graphs
        (torch.Size([50176, 1]), 64)
    """
    owner = "images_to_graphs"
    if isinstance(images, Tensor) and images.dim() == 3:  # one unbatched [C, H, W] image
        images = images.unsqueeze(0)
        if isinstance(labels, Tensor) and labels.dim() in (0, 2):  # its label or mask
            labels = labels.unsqueeze(0)
    images = check_images(owner, images)
    check_odd_kernel(owner, kernel_size)
    check_choice(owner, "connectivity", connectivity, (4, 8))
    b, c, h, w = images.shape
    if b == 0 or h == 0 or w == 0:
        raise GconvValueError(
            f"{owner}: images must hold at least one image of at least 1x1 pixels "
            f"(got shape {tuple(images.shape)})"
        )
    per_pixel = isinstance(labels, Tensor) and labels.shape == (b, h, w)
    if (
        labels is not None
        and not per_pixel
        and (not isinstance(labels, Tensor) or labels.dim() != 1 or labels.numel() != b)
    ):
        got = tuple(labels.shape) if isinstance(labels, Tensor) else type(labels).__name__
        raise GconvValueError(
            f"{owner}: labels must be a [{b}] tensor, one per image, or [{b}, {h}, {w}], "
            f"one per pixel (got {got})"
        )
    device = images.device
    edge_index, edge_type, pos, node_batch, ptr = _batched_template(
        b, h, w, kernel_size, connectivity, device
    )
    n, e = h * w, edge_type.numel() // b
    batch = Batch(
        x=images.permute(0, 2, 3, 1).reshape(b * n, c),
        edge_index=edge_index,
        edge_type=edge_type,
        pos=pos,
        batch=node_batch,
        ptr=ptr,
    )
    # what Batch.from_data_list would record, so that to_data_list() works
    node_slices, edge_slices = torch.arange(b + 1) * n, torch.arange(b + 1) * e
    zeros = torch.zeros(b, dtype=torch.long)
    slice_dict = {"x": node_slices, "pos": node_slices}
    slice_dict.update(edge_index=edge_slices, edge_type=edge_slices)
    inc_dict = {"x": zeros, "pos": zeros, "edge_index": node_slices[:-1], "edge_type": zeros}
    if labels is not None:
        batch.y = labels.reshape(-1).to(device)  # a pixel's label is its node's
        slice_dict["y"] = node_slices if per_pixel else torch.arange(b + 1)
        inc_dict["y"] = zeros
    # each graph's own grid_size, as grid_graph's: to_data_list() gives pixel grids
    batch.grid_size = torch.tensor([[h, w]], device=device).expand(b, 2)
    slice_dict["grid_size"], inc_dict["grid_size"] = torch.arange(b + 1), zeros
    batch.grid_shape = (b, h, w)
    batch._num_graphs = b
    batch._slice_dict = slice_dict
    batch._inc_dict = inc_dict
    return batch


def graphs_to_images(x: Tensor, batch_size: int, height: int, width: int) -> Tensor:
    r"""Inverse of :func:`images_to_graphs`: node features back to ``[B, C, H, W]``.

    Shapes:
        - input: :math:`(BHW, C)`
        - output: :math:`(B, C, H, W)`

    Example:
        >>> graphs_to_images(torch.rand(2 * 28 * 28, 3), 2, 28, 28).shape
        torch.Size([2, 3, 28, 28])
    """
    owner = "graphs_to_images"
    for name, value in (("batch_size", batch_size), ("height", height), ("width", width)):
        check_positive_int(owner, name, value)
    if not isinstance(x, Tensor) or x.dim() != 2:
        got = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise GconvValueError(f"{owner}: x must be a 2-D [B*H*W, C] tensor (got {got})")
    n = batch_size * height * width
    if x.size(0) != n:
        raise GconvValueError(
            f"{owner}: x must have batch_size*height*width = {n} rows (got {x.size(0)})"
        )
    return x.view(batch_size, height, width, x.size(1)).permute(0, 3, 1, 2)
