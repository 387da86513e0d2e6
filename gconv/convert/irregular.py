r"""A converted CNN on image graphs that are not pixel grids: superpixels, point sets.

The graph gives the nodes (``x``), their positions (``pos``, row and column) and their
neighbours (``edge_index``); ``pixel_size`` says how far apart two neighbouring pixels of
the CNN's input would be in ``pos``'s units. Each operation of the CNN becomes:

- a convolution of an odd :math:`k_h \times k_w` kernel with dilation :math:`d`: each
  edge :math:`j \to i` reads the tap its offset points to,

  .. math::
      u_{ji} = \frac{p_j - p_i}{s\,d}, \quad
      t_{ji} = \operatorname{round}\Big(u_{ji} / \max\big(1, |u^{row}_{ji}| / r_h,
      |u^{col}_{ji}| / r_w\big)\Big)

  with :math:`s` the level's pixel spacing and :math:`r = (k - 1) / 2`: a neighbour
  within the kernel's reach takes the tap it falls on, one beyond it the tap on the
  kernel's border in its direction (for 3x3, the direction's sector, as
  :class:`gconv.transforms.DirectionalEdgeType`). Each node reads itself at the centre
  tap and, at every other tap, the **mean** of the neighbours there (none: zero, as the
  zero padding at an image's border); a neighbour with no tap in its direction (a
  1-high kernel's vertical one) is not read. On a full pixel grid with its grid
  neighbours this is the CNN's 'same' convolution exactly;
- a stride or pool of step :math:`\sigma`: a coarsening by position, into cells of
  :math:`\sigma s` (nodes pooled by max or mean; a strided convolution averages its
  stride-1 responses in the cell); a cell's position is its nodes' mean, its edges the
  edges between cells, and the spacing grows to :math:`\sigma s` (on a grid, a pool
  whose window is its stride, exactly);
- a global pool, ``mean`` over rows and columns or an adaptive pool to 1x1: a readout
  of each graph; an adaptive pool to :math:`h \times w`: the graph's bounding box in
  :math:`h \times w` cells (empty cells zero), a pixel grid from there on;
- per-pixel operations (norms, activations, sums, concatenations, a squeeze-excitation
  scale): node by node.

Transposed convolutions, upsampling, crops and flattening an irregular graph have no
such form and are refused, by name.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gconv.convert import grid_modules
from gconv.convert.grid_values import OWNER, Grid
from gconv.convert.irregular_values import METHODS, Irregular, reduce_nodes
from gconv.errors import GconvValueError
from gconv.graph.gated_gcn import GatedGCNLayer
from gconv.graph.grid_conv import GridConv2d
from gconv.graph.grid_pool import GridMaxPool2d


def _taps(value: Irregular, kernel: tuple[int, int], dilation: tuple[int, int]) -> Any:
    """``(edge_index, edge_type, edge_weight)`` of a convolution at this level: self-loops
    at the centre tap, each edge at the tap of its offset, weighted by one over the
    edges at the same tap of the same node."""
    key = ("taps", kernel, dilation)
    if key not in value.cache:
        n, device = value.x.size(0), value.x.device
        loops = torch.arange(n, device=device).expand(2, n)
        edge_index = torch.cat([value.edge_index, loops], 1)
        reach = torch.tensor([(k - 1) // 2 for k in kernel], device=device, dtype=value.pos.dtype)
        steps = [s * d for s, d in zip(value.spacing, dilation, strict=True)]
        step = torch.tensor(steps, device=device, dtype=value.pos.dtype)
        u = (value.pos[edge_index[0]] - value.pos[edge_index[1]]) / step
        over = torch.where(reach > 0, u.abs() / reach.clamp_min(1), u.abs() * torch.inf)
        over = torch.nan_to_num(over, nan=0.0).amax(1, keepdim=True).clamp_min(1)
        tap = torch.round(u / over).long()
        radius = reach.long()
        tap = torch.clamp(tap, -radius, radius)
        keep = (tap != 0).any(1)
        keep[-n:] = True  # the node itself: the centre tap
        edge_index, tap = edge_index[:, keep], tap[keep]
        edge_type = (tap[:, 0] + radius[0]) * kernel[1] + tap[:, 1] + radius[1]
        weight = _mean_per_tap(edge_index[1], edge_type, n, kernel, value.x.dtype)
        value.cache[key] = (edge_index, edge_type, weight)
    return value.cache[key]


def _mean_per_tap(
    target: Tensor, edge_type: Tensor, size: int, kernel: tuple[int, int], dtype: torch.dtype
) -> Tensor:
    """One over the number of edges of each edge's (target, tap): the mean per tap."""
    slot = target * (kernel[0] * kernel[1]) + edge_type
    return 1.0 / torch.bincount(slot, minlength=size * kernel[0] * kernel[1])[slot].to(dtype)


def coarsen(value: Irregular, stride: tuple[int, int]) -> tuple[Tensor, Irregular]:
    """The cluster of each node in cells of ``stride`` pixel spacings, and the coarse
    level (positions the cells' means, edges between cells; ``x`` still to be set)."""
    key = ("cells", stride)
    if key not in value.cache:
        steps = [s * t for s, t in zip(value.spacing, stride, strict=True)]
        step = torch.tensor(steps, device=value.pos.device, dtype=value.pos.dtype)
        cell = torch.floor(value.pos / step + 1e-6).long()
        cell = cell - cell.amin(0)
        rows, cols = (int(c) + 1 for c in cell.amax(0))
        index = (value.batch * rows + cell[:, 0]) * cols + cell[:, 1]
        cells, cluster = torch.unique(index, return_inverse=True)
        m = cells.numel()
        pos = reduce_nodes(value.pos, cluster, m, "mean")
        edges = cluster[value.edge_index]
        edges = edges[:, edges[0] != edges[1]]
        edges = torch.unique(edges[0] * m + edges[1])
        coarse = Irregular(
            value.x.new_empty(0),
            pos,
            torch.stack([edges // m, edges % m]),
            cells // (rows * cols),
            value.num_graphs,
            (steps[0], steps[1]),
        )
        value.cache[key] = (cluster, coarse)
    return value.cache[key]


def pool(value: Irregular, stride: Any, reduce: str) -> Irregular:
    """Max or mean of each cell of ``stride`` (an int or a pair) pixel spacings."""
    steps: tuple[int, int] = (stride, stride) if isinstance(stride, int) else tuple(stride)
    if steps == (1, 1):
        return value
    cluster, coarse = coarsen(value, steps)
    return coarse.with_x(reduce_nodes(value.x, cluster, coarse.pos.size(0), reduce))


def _conv(layer: GridConv2d, value: Irregular, geometry: Any) -> Irregular:
    stride, padding, dilation, _ = geometry  # padding and its mode: the graph's border
    patches = tuple(stride) == layer.kernel and padding in ((0, 0), "valid")
    if patches and layer.kernel != (1, 1) and tuple(dilation) == (1, 1):
        return _patches(layer, value)
    if layer.kernel[0] % 2 == 0 or layer.kernel[1] % 2 == 0:
        raise GconvValueError(
            f"{OWNER}: a convolution of an even kernel {layer.kernel} has no centre tap on "
            "graphs that are not pixel grids (unless its stride is its kernel)"
        )
    edge_index, edge_type, weight = _taps(value, layer.kernel, dilation)
    out = layer(value.x, edge_index, edge_type, edge_weight=weight)
    return pool(value.with_x(out), stride, "mean")


def _patches(layer: GridConv2d, value: Irregular) -> Irregular:
    """A convolution whose stride is its kernel (a patchify stem, ConvNeXt's
    downsampling): each cell of the kernel's size reads its nodes at the tap of their
    place in the cell, the mean of those that share one."""
    kernel = layer.kernel
    cluster, coarse = coarsen(value, kernel)
    key = ("patches", kernel)
    if key not in value.cache:
        n, m = value.x.size(0), coarse.pos.size(0)
        steps = [s * k for s, k in zip(value.spacing, kernel, strict=True)]
        step = torch.tensor(steps, device=value.pos.device, dtype=value.pos.dtype)
        place = value.pos / step + 1e-6  # as coarsen's cells
        size = torch.tensor(kernel, device=place.device)
        local = torch.minimum(((place - place.floor()) * size).long(), size - 1)
        edge_type = local[:, 0] * kernel[1] + local[:, 1]
        weight = _mean_per_tap(cluster, edge_type, m, kernel, value.x.dtype)
        edge_index = torch.stack([torch.arange(n, device=cluster.device), cluster])
        value.cache[key] = (edge_index, edge_type, weight)
    edge_index, edge_type, weight = value.cache[key]
    size_ = (value.x.size(0), coarse.pos.size(0))
    return coarse.with_x(layer(value.x, edge_index, edge_type, size=size_, edge_weight=weight))


def _adaptive(module: nn.Module, value: Irregular) -> Grid:
    size: Any = module.output_size
    oh, ow = (size, size) if isinstance(size, int) else size
    reduce = "max" if isinstance(module, nn.AdaptiveMaxPool2d) else "mean"
    if (oh, ow) == (1, 1):
        return Grid(value.readout(reduce), (value.num_graphs, 1, 1))
    if oh is None or ow is None:
        raise GconvValueError(f"{OWNER}: an adaptive pool to {size} needs both sizes")
    b = value.num_graphs
    low = value.pos.new_full((b, 2), torch.inf).scatter_reduce(
        0, value.batch.view(-1, 1).expand(-1, 2), value.pos, "amin"
    )
    high = value.pos.new_full((b, 2), -torch.inf).scatter_reduce(
        0, value.batch.view(-1, 1).expand(-1, 2), value.pos, "amax"
    )
    out = torch.tensor([oh, ow], device=value.pos.device)
    span = (high - low)[value.batch].clamp_min(1e-12)
    cell = ((value.pos - low[value.batch]) / span * out).long()
    cell = torch.minimum(cell, out - 1)
    index = (value.batch * oh + cell[:, 0]) * ow + cell[:, 1]
    return Grid(reduce_nodes(value.x, index, b * oh * ow, reduce), (b, oh, ow))


def _stochastic_depth(module: nn.Module, value: Irregular) -> Irregular:
    """torchvision's ``StochasticDepth``: each graph's (``"row"``) or the batch's
    residual branch dropped with probability ``p``, the rest scaled by ``1 / (1 - p)``."""
    p = float(module.p)  # type: ignore[arg-type]
    if not module.training or p == 0.0:
        return value
    rows = value.num_graphs if module.mode == "row" else 1
    keep = torch.empty(rows, 1, dtype=value.x.dtype, device=value.x.device).bernoulli_(1 - p)
    if p < 1.0:
        keep = keep / (1 - p)
    return value.with_x(value.x * (keep[value.batch] if rows > 1 else keep))


def _on_graph(layer: nn.Module, value: Irregular) -> Irregular:
    """A graph layer in a convolution's place (``cnn_to_gnn(layer=...)``), over the
    graph's own edges."""
    if isinstance(layer, GatedGCNLayer):
        return value.with_x(layer.gate_and_aggregate(value.x, value.edge_index, None)[0])
    return value.with_x(layer(value.x, value.edge_index))


def run(module: nn.Module, value: Irregular, geometry: Any, on_graph: bool) -> Any:
    """``module`` applied to an irregular level (``geometry``: what
    :func:`gconv.convert.grid_modules.converted` said of it)."""
    if on_graph:
        return _on_graph(module, value)
    if isinstance(module, GridConv2d):
        return _conv(module, value, geometry)
    if isinstance(module, GridMaxPool2d):
        return pool(value, module.stride, "max")
    if isinstance(module, nn.AvgPool2d):
        return pool(value, module.stride or module.kernel_size, "mean")
    if isinstance(module, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
        return _adaptive(module, value)
    if isinstance(module, grid_modules.ELEMENTWISE):
        return value.with_x(module(value.x))
    name = type(module).__name__
    if isinstance(module, nn.LayerNorm) and (value.channels_last or name == "LayerNorm2d"):
        channels = (value.x.size(1),)
        return value.with_x(F.layer_norm(value.x, channels, module.weight, module.bias, module.eps))
    if isinstance(module, nn.Linear) and value.channels_last:
        return value.with_x(module(value.x))
    if name == "Permute":
        return METHODS["permute"]("Permute", value, list(module.dims))  # type: ignore[arg-type]
    if name == "StochasticDepth":
        return _stochastic_depth(module, value)
    raise GconvValueError(
        f"{OWNER}: a {type(module).__name__} has no form on graphs that are not pixel grids "
        "(converted there: convolutions, pools, norms, activations, sums, products, "
        "concatenations and global readouts; a flatten needs a pixel grid: read out with a "
        "mean or an adaptive pool first)"
    )
