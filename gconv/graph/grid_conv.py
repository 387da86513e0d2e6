r"""Convolution as message passing: a graph layer whose weight depends on the edge type."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn import Parameter
from torch_geometric.nn import MessagePassing

from gconv._checks import (
    check_choice,
    check_dtype,
    check_edge_weight,
    check_features,
    check_positive_int,
)
from gconv.errors import GconvTypeError, GconvValueError
from gconv.graph._cache import GraphCache
from gconv.graph._gather import TableConv, weighted_taps
from gconv.graph._grid_plan import (
    Plan,
    block_diagonal,
    build_table,
    check_typed_edges,
    grid_mask,
)
from gconv.graph.conv_graph import pair

PATHS = ("auto", "dense", "table", "scatter")


class GridConv2d(MessagePassing):
    r"""A k x k convolution written as message passing over typed edges.

    Each edge :math:`j \to i` carries a type :math:`t_{ji}`, the kernel tap it stands for,
    and the message is transformed by that tap's weight:

    .. math::
        x'_i = b + \sum_{j \in \mathcal N(i)} W_{t_{ji}} \, x_j,
        \quad W_t \in \mathbb R^{C_{out} \times C_{in}}

    On a grid graph from :func:`gconv.convert.grid_graph` (``edge_type = (dy + r) k + (dx + r)``)
    this is exactly ``F.conv2d(images, weight, bias, padding=k // 2)``: a CNN is a graph
    network whose weights depend on the neighbour's offset. The weight has the layout of
    ``nn.Conv2d``, ``[C_out, C_in, k, k]``, and the same initialization.

    Three paths compute the same function:

    - ``dense``: with ``grid_shape=(B, H, W)`` (set by :func:`gconv.convert.images_to_graphs`),
      the graph is checked once to be that grid and ``F.conv2d`` runs on the image view;
      taps missing from the graph (4-connectivity) get zero weight.
    - ``table``: when each node receives at most one edge of each type, a per-node table
      of neighbours by tap is built once per graph (an im2col over the graph), and the
      layer is one gather and one matrix product.
    - ``scatter``: any graph with ``edge_type``: per-edge messages through PyG's
      ``propagate``, each scaled by its ``edge_weight`` where given (``auto``: one
      sparse product for such weights, unless they need gradients).

    ``path="auto"`` takes the first that applies.

    Args:
        in_channels: input channels :math:`C_{in}`.
        out_channels: output channels :math:`C_{out}`.
        kernel_size: :math:`k` or :math:`(k_h, k_w)`; edge types lie in
            :math:`[0, k_h k_w)`. The dense path (the pixel grid of
            :func:`gconv.convert.images_to_graphs`) needs an odd square kernel; the graph of any
            ``nn.Conv2d`` (stride, padding, dilation) is :func:`gconv.graph.conv_graph`'s.
        groups: as ``nn.Conv2d``'s: input and output channels in ``groups`` blocks, each
            output block reading its own input block.
        bias: learn an additive bias.

    Shapes:
        - input: ``x`` :math:`(N, C_{in})`, ``edge_index`` :math:`(2, E)`,
          ``edge_type`` :math:`(E)`, optional ``edge_weight`` :math:`(E)`
        - output: :math:`(N, C_{out})`

    Example:
        >>> from gconv.convert import images_to_graphs
        >>> batch = images_to_graphs(torch.rand(8, 3, 28, 28))
        >>> conv = GridConv2d(3, 16)
        >>> conv(batch.x, batch.edge_index, batch.edge_type).shape
        torch.Size([6272, 16])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int] = 3,
        *,
        groups: int = 1,
        bias: bool = True,
    ) -> None:
        super().__init__(aggr="add")
        owner = type(self).__name__
        check_positive_int(owner, "in_channels", in_channels)
        check_positive_int(owner, "out_channels", out_channels)
        self.kernel = pair(owner, "kernel_size", kernel_size)  # (k_h, k_w)
        check_positive_int(owner, "groups", groups)
        for name, channels in (("in_channels", in_channels), ("out_channels", out_channels)):
            if channels % groups:
                raise GconvValueError(
                    f"{owner}: {name} must be divisible by groups {groups} (got {channels})"
                )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size if isinstance(kernel_size, int) else self.kernel
        self.groups = groups
        self.taps = self.kernel[0] * self.kernel[1]
        self.weight = Parameter(torch.empty(out_channels, in_channels // groups, *self.kernel))
        if bias:
            self.bias: Parameter | None = Parameter(torch.empty(out_channels))
        else:
            self.register_parameter("bias", None)
        self._cache: GraphCache[Plan] = GraphCache()
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        # the initialization of nn.Conv2d, so that both start from the same distribution
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1.0 / math.sqrt(self.in_channels // self.groups * self.taps)
            nn.init.uniform_(self.bias, -bound, bound)

    @classmethod
    def from_conv2d(cls, conv: nn.Conv2d) -> GridConv2d:
        """A ``GridConv2d`` with the weights, dtype and device of any ``nn.Conv2d``.
        Its stride, padding, ``padding_mode`` and dilation are the graph's: over
        :func:`gconv.graph.conv_graph` of the same options (``size=`` the two grids'
        node counts) it computes ``conv``; over the pixel grid of
        :func:`gconv.convert.images_to_graphs`, the zero-padded 'same' convolution of an odd
        kernel."""
        owner = f"{cls.__name__}.from_conv2d"
        if not isinstance(conv, nn.Conv2d):
            raise GconvTypeError(f"{owner}: conv must be an nn.Conv2d (got {type(conv).__name__})")
        kernel = conv.kernel_size
        layer = cls(
            conv.in_channels,
            conv.out_channels,
            kernel[0] if kernel[0] == kernel[1] else (kernel[0], kernel[1]),
            groups=conv.groups,
            bias=conv.bias is not None,
        )
        layer = layer.to(device=conv.weight.device, dtype=conv.weight.dtype)  # as conv's
        with torch.no_grad():
            layer.weight.copy_(conv.weight)
            if conv.bias is not None and layer.bias is not None:
                layer.bias.copy_(conv.bias)
        return layer

    def to_conv2d(self) -> nn.Conv2d:
        """The equivalent ``nn.Conv2d`` (stride 1, zero padding ``k // 2`` on each side,
        the same ``groups``), weights copied; the kernel must be odd on both axes."""
        if self.kernel[0] % 2 == 0 or self.kernel[1] % 2 == 0:
            raise GconvValueError(
                f"{type(self).__name__}.to_conv2d: an even kernel {self.kernel} has no "
                "'same' convolution of k // 2 padding"
            )
        conv = nn.Conv2d(
            self.in_channels,
            self.out_channels,
            self.kernel_size,
            padding=(self.kernel[0] // 2, self.kernel[1] // 2),
            groups=self.groups,
            bias=self.bias is not None,
        )
        conv = conv.to(device=self.weight.device, dtype=self.weight.dtype)
        with torch.no_grad():
            conv.weight.copy_(self.weight)
            if self.bias is not None and conv.bias is not None:
                conv.bias.copy_(self.bias)
        return conv

    def forward(
        self,
        x: Tensor,
        edge_index: Tensor,
        edge_type: Tensor,
        *,
        grid_shape: tuple[int, int, int] | None = None,
        path: str = "auto",
        size: tuple[int, int] | None = None,
        edge_weight: Tensor | None = None,
    ) -> Tensor:
        owner = type(self).__name__
        x = check_features(owner, x, channels=self.in_channels)
        check_dtype(owner, x, self.weight)
        check_choice(owner, "path", path, PATHS)
        if size is not None and int(size[1]) != x.size(0):  # bipartite, e.g. strided
            return self._bipartite(x, edge_index, edge_type, size, edge_weight)
        plan = self._plan(x.size(0), edge_index, edge_type)
        weight = check_edge_weight(owner, edge_weight, edge_index.size(1))
        if weight is not None:  # a scale per message: one sparse product, or scatter
            if path not in ("auto", "scatter"):
                raise GconvValueError(f"{owner}: edge_weight needs path 'auto' or 'scatter'")
            if path == "auto" and not weight.requires_grad:
                return weighted_taps(x, self, edge_index, edge_type, weight)
            return self._scatter(x, edge_index, edge_type, edge_weight=weight)
        if path == "dense" and grid_shape is None:
            raise GconvValueError(f"{owner}: path 'dense' needs grid_shape=(B, H, W) (got None)")
        if grid_shape is not None and path in ("auto", "dense"):
            mask = grid_mask(self, plan, grid_shape, x.size(0), edge_index, edge_type)
            return self._dense(x, grid_shape, mask)
        if path in ("auto", "table"):
            if build_table(plan, x.size(0), edge_index, edge_type, self.taps):
                return self._table(x, plan)
            if path == "table":
                raise GconvValueError(
                    f"{owner}: path 'table' needs at most one edge of each edge_type into a "
                    "node (got repeated (target, edge_type) pairs); use path='scatter'"
                )
        return self._scatter(x, edge_index, edge_type)

    def _plan(self, num_nodes: int, edge_index: Tensor, edge_type: Tensor) -> Plan:
        plan = self._cache.get(edge_index, edge_type, num_nodes)
        if plan is None:  # validated once per graph
            check_typed_edges(self, num_nodes, edge_index, edge_type)
            plan = Plan()
            self._cache.put(edge_index, edge_type, num_nodes, plan)
        return plan

    def _dense(self, x: Tensor, grid_shape: tuple[int, int, int], mask: Tensor) -> Tensor:
        b, h, w = (int(s) for s in grid_shape)
        weight = self.weight if bool(mask.all()) else self.weight * mask.to(self.weight)
        images = x.view(b, h, w, self.in_channels).permute(0, 3, 1, 2)
        out = F.conv2d(images, weight, self.bias, padding=self.kernel[0] // 2, groups=self.groups)
        return out.permute(0, 2, 3, 1).reshape(b * h * w, self.out_channels)

    def _table(self, x: Tensor, plan: Plan) -> Tensor:
        assert plan.table is not None and plan.taps is not None
        t, full = plan.taps.numel(), block_diagonal(self.weight, self.groups)
        if t == 0:  # no edges (every output in padding): the bias, as F.conv2d gives
            zero = full.flatten(1)[:, : self.in_channels].t() * 0
            out0 = x @ zero  # zero values, and zero gradients for x and the weight
            return out0 if self.bias is None else out0 + self.bias
        weight = full.flatten(2)[:, :, plan.taps].permute(2, 1, 0)
        weight = weight.reshape(t * self.in_channels, self.out_channels)
        out: Tensor = TableConv.apply(x, weight, self.bias, plan.table, plan.slots, plan.buffers)
        return out

    def _bipartite(
        self,
        x: Tensor,
        edge_index: Tensor,
        edge_type: Tensor,
        size: tuple[int, int],
        edge_weight: Tensor | None,
    ) -> Tensor:
        """From ``size[0]`` source nodes to ``size[1]`` others, e.g. a strided
        convolution over :func:`gconv.graph.strided_grid_graph`."""
        owner = type(self).__name__
        n_src, n_dst = (int(v) for v in size)
        if n_src != x.size(0):
            raise GconvValueError(f"{owner}: size[0] must be x's {x.size(0)} rows (got {n_src})")
        check_typed_edges(self, max(n_src, n_dst), edge_index, edge_type)
        weight = check_edge_weight(owner, edge_weight, edge_index.size(1))
        return self._scatter(x, edge_index, edge_type, n_dst, weight)

    def _scatter(
        self,
        x: Tensor,
        edge_index: Tensor,
        edge_type: Tensor,
        n_dst: int | None = None,
        edge_weight: Tensor | None = None,
    ) -> Tensor:
        n, k2, g = x.size(0), self.taps, self.groups
        # every node transformed by every tap: h[j, t] = W_t x_j, picked per edge below
        if g == 1:
            weight = self.weight.flatten(2).permute(1, 2, 0).reshape(self.in_channels, -1)
            h = (x @ weight).view(n * k2, self.out_channels)
        else:  # group by group: no block-diagonal C_in x C_out matrix per tap
            weight = self.weight.reshape(g, self.out_channels // g, -1, k2)
            h = torch.einsum("ngi,goit->ntgo", x.view(n, g, -1), weight)
            h = h.reshape(n * k2, self.out_channels)
        out = self.propagate(
            edge_index, h=h, edge_type=edge_type, edge_weight=edge_weight, size=(n, n_dst or n)
        )
        return out if self.bias is None else out + self.bias

    def message(
        self, h: Tensor, edge_index_j: Tensor, edge_type: Tensor, edge_weight: Tensor | None
    ) -> Tensor:
        message = h[edge_index_j * self.taps + edge_type]
        return message if edge_weight is None else message * edge_weight.view(-1, 1)

    def __repr__(self) -> str:
        groups = f", groups={self.groups}" if self.groups > 1 else ""
        return (
            f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
            f"kernel_size={self.kernel_size}{groups})"
        )
