r"""Transposed convolution as message passing from a coarse pixel grid to a fine one."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import Parameter
from torch_geometric.nn import MessagePassing

from gconv._checks import (
    check_dtype,
    check_edge_index,
    check_features,
    check_positive_int,
    check_tensor,
)
from gconv.errors import GconvTypeError, GconvValueError
from gconv.graph._cache import GraphCache
from gconv.graph._grid_plan import check_kernel
from gconv.graph.transposed_grid import (
    conv_transpose_to,
    fine_size,
    transposed_grid_graph,
    transposed_options,
)


class GridConvTranspose2d(MessagePassing):
    r"""``nn.ConvTranspose2d`` written as message passing over a bipartite grid graph.

    Each coarse pixel :math:`j` sends to the fine pixels its kernel reaches (see
    :func:`gconv.graph.transposed_grid_graph`), and the edge's type :math:`t` (the kernel
    tap) picks the weight:

    .. math::
        x'_i = b + \sum_{j \to i} W_{t_{ji}}^\top x_j,
        \quad W_t \in \mathbb R^{C_{in} \times C_{out}}

    On the full transposed grid graph this is exactly ``F.conv_transpose2d(images,
    weight, bias, stride, padding, output_padding, groups)``: upsampling is zeros
    inserted between pixels and a convolution, or, read as a graph, each coarse pixel
    scattering a weighted copy of itself onto a :math:`k \times k` patch of the fine
    grid. The weight has ``nn.ConvTranspose2d``'s layout, ``[C_in, C_out / groups, k,
    k]``, and initialization.

    With ``grid_shape=(B, H, W)`` (the coarse batch) the graph is checked once to be the
    full transposed grid of that shape, and the layer runs ``F.conv_transpose2d`` on the
    image view; otherwise messages go through PyG's ``propagate``. ``output_size=(Ho,
    Wo)`` picks the fine grid as ``nn.ConvTranspose2d.forward(x, output_size)`` does, and
    a smaller one crops the bottom and right (see
    :func:`gconv.graph.transposed_grid_graph`).

    Args:
        in_channels: input channels :math:`C_{in}`.
        out_channels: output channels :math:`C_{out}`.
        kernel_size: kernel size :math:`k` (any, e.g. 2 or 4 with stride 2), or
            :math:`(k_h, k_w)`; like every option here, an int or a pair.
        stride: upsampling factor.
        padding: rows and columns cut from each border of the output.
        output_padding: rows and columns added at the bottom and right (smaller than
            the stride or the dilation).
        groups: channel groups, as ``nn.ConvTranspose2d``'s.
        bias: learn an additive bias.
        dilation: spacing of the kernel's taps on the output.

    Shapes:
        - input: ``x`` :math:`(N_{coarse}, C_{in})`, ``edge_index`` :math:`(2, E)` from
          coarse to fine ids, ``edge_type`` :math:`(E)`, ``size`` :math:`(N_{coarse},
          N_{fine})`
        - output: :math:`(N_{fine}, C_{out})`

    Example:
        >>> up = GridConvTranspose2d(8, 4, kernel_size=2, stride=2)
        >>> edge_index, edge_type, (ho, wo) = transposed_grid_graph(7, 7, 2, stride=2)
        >>> up(torch.randn(49, 8), edge_index, edge_type, size=(49, ho * wo)).shape
        torch.Size([196, 4])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        output_padding: int | tuple[int, int] = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: int | tuple[int, int] = 1,
    ) -> None:
        super().__init__(aggr="add")
        owner = type(self).__name__
        check_positive_int(owner, "in_channels", in_channels)
        check_positive_int(owner, "out_channels", out_channels)
        check_positive_int(owner, "groups", groups)
        self.options = transposed_options(
            owner, kernel_size, stride, padding, output_padding, dilation
        )  # (kernel, stride, padding, output_padding, dilation), each a pair
        self.kernel = self.options[0]
        self.taps = self.kernel[0] * self.kernel[1]
        if in_channels % groups or out_channels % groups:
            raise GconvValueError(
                f"{owner}: in_channels ({in_channels}) and out_channels ({out_channels}) "
                f"must be divisible by groups (got {groups})"
            )
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.output_padding, self.groups, self.dilation = output_padding, groups, dilation
        self.weight = Parameter(torch.empty(in_channels, out_channels // groups, *self.kernel))
        self.bias: Parameter | None = Parameter(torch.empty(out_channels)) if bias else None
        self._checked: GraphCache[tuple[int, ...]] = GraphCache()
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # nn.ConvTranspose2d's initialization (its fan-in is computed on dim 1)
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.size(1) * self.taps
            bound = 1 / math.sqrt(fan_in)
            nn.init.uniform_(self.bias, -bound, bound)

    @classmethod
    def from_conv_transpose2d(cls, conv: nn.ConvTranspose2d) -> GridConvTranspose2d:
        """A ``GridConvTranspose2d`` with the weights, dtype and device of ``conv``."""
        owner = f"{cls.__name__}.from_conv_transpose2d"
        if not isinstance(conv, nn.ConvTranspose2d):
            raise GconvTypeError(
                f"{owner}: conv must be an nn.ConvTranspose2d (got {type(conv).__name__})"
            )
        if conv.padding_mode != "zeros":
            raise GconvValueError(
                f"{owner}: conv must have zero padding (got padding_mode {conv.padding_mode!r})"
            )

        def simple(value: tuple[int, ...]) -> int | tuple[int, int]:  # (3, 3) -> 3
            return int(value[0]) if value[0] == value[1] else (int(value[0]), int(value[1]))

        layer = cls(
            conv.in_channels,
            conv.out_channels,
            simple(conv.kernel_size),
            simple(conv.stride),
            simple(tuple(int(p) for p in conv.padding)),  # ints for transposed convolutions
            simple(conv.output_padding),
            conv.groups,
            bias=conv.bias is not None,
            dilation=simple(conv.dilation),
        ).to(device=conv.weight.device, dtype=conv.weight.dtype)
        with torch.no_grad():
            layer.weight.copy_(conv.weight)
            if conv.bias is not None and layer.bias is not None:
                layer.bias.copy_(conv.bias)
        return layer

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        return fine_size(
            type(self).__name__, (height, width), *self.options[:4], None, self.options[4]
        )

    def graph(
        self,
        height: int,
        width: int,
        batch_size: int = 1,
        *,
        output_size: tuple[int, int] | None = None,
    ) -> tuple[Tensor, Tensor, tuple[int, int]]:
        """This layer's full transposed grid graph for ``batch_size`` coarse grids."""
        kernel, stride, padding, output_padding, dilation = self.options
        return transposed_grid_graph(
            height,
            width,
            kernel,
            stride=stride,
            padding=padding,
            output_padding=output_padding,
            output_size=output_size,
            dilation=dilation,
            batch_size=batch_size,
            device=self.weight.device,
        )

    def _tap_weight(self) -> Tensor:
        """``[C_in, k*k * C_out]``: every tap's ``C_in x C_out`` matrix side by side,
        block-diagonal over the groups."""
        k2, g = self.taps, self.groups
        cin, cout = self.in_channels // g, self.out_channels // g
        taps = self.weight.flatten(2).permute(0, 2, 1)  # [C_in, k*k, C_out / g]
        if g == 1:
            return taps.reshape(self.in_channels, k2 * cout)
        full = taps.new_zeros(self.in_channels, k2, self.out_channels)
        for i in range(g):
            full[i * cin : (i + 1) * cin, :, i * cout : (i + 1) * cout] = taps[
                i * cin : (i + 1) * cin
            ]
        return full.reshape(self.in_channels, k2 * self.out_channels)

    def forward(
        self,
        x: Tensor,
        edge_index: Tensor,
        edge_type: Tensor,
        size: tuple[int, int] | None = None,
        *,
        grid_shape: tuple[int, int, int] | None = None,
        output_size: tuple[int, int] | None = None,
    ) -> Tensor:
        owner = type(self).__name__
        x = check_features(owner, x, channels=self.in_channels)
        check_dtype(owner, x, self.weight)
        check_kernel(self, edge_type)
        if grid_shape is not None:
            return self._dense(x, edge_index, edge_type, grid_shape, output_size)
        if size is None:
            raise GconvValueError(
                f"{owner}: size=(num_coarse, num_fine) is needed: the fine grid's node count "
                "does not follow from edge_index"
            )
        n_src, n_dst = (int(s) for s in size)
        if n_src != x.size(0):
            raise GconvValueError(f"{owner}: size[0] must be x's {x.size(0)} rows (got {n_src})")
        check_edge_index(owner, edge_index, None)
        edge_type = check_tensor(owner, "edge_type", edge_type)
        if edge_type.shape != (edge_index.size(1),):
            raise GconvValueError(
                f"{owner}: edge_type must have shape [{edge_index.size(1)}] "
                f"(got {tuple(edge_type.shape)})"
            )
        h = (x @ self._tap_weight()).view(n_src * self.taps, self.out_channels)
        out = self.propagate(edge_index, h=h, edge_type=edge_type, size=(n_src, n_dst))
        return out if self.bias is None else out + self.bias

    def message(self, h: Tensor, edge_index_j: Tensor, edge_type: Tensor) -> Tensor:
        return h[edge_index_j * self.taps + edge_type]

    def _dense(
        self,
        x: Tensor,
        edge_index: Tensor,
        edge_type: Tensor,
        grid_shape: tuple[int, int, int],
        output_size: tuple[int, int] | None,
    ) -> Tensor:
        b, h, w = (int(s) for s in grid_shape)
        owner = type(self).__name__
        if b * h * w != x.size(0):
            raise GconvValueError(
                f"{owner}: grid_shape must be (B, H, W) with B*H*W = {x.size(0)} rows of x "
                f"(got {grid_shape})"
            )
        kernel, stride, padding, output_padding, dilation = self.options
        ho, wo = fine_size(
            owner, (h, w), kernel, stride, padding, output_padding, output_size, dilation
        )
        shape = (b, h, w, ho, wo)
        if self._checked.get(edge_index, edge_type, b * h * w) != shape:
            expected_index, expected_type, _ = self.graph(h, w, b, output_size=(ho, wo))
            if not (
                edge_index.shape == expected_index.shape
                and torch.equal(edge_index, expected_index.to(edge_index.device))
                and torch.equal(edge_type, expected_type.to(edge_type.device))
            ):
                raise GconvValueError(
                    f"{owner}: grid_shape={grid_shape} was given, but the graph is not this "
                    "layer's full transposed grid of that shape (see GridConvTranspose2d.graph)"
                )
            self._checked.put(edge_index, edge_type, b * h * w, shape)
        images = x.view(b, h, w, self.in_channels).permute(0, 3, 1, 2)
        out = conv_transpose_to(
            images, self.weight, self.bias, stride, padding, self.groups, (ho, wo), dilation
        )
        return out.permute(0, 2, 3, 1).reshape(-1, self.out_channels)

    def __repr__(self) -> str:
        extra = f", stride={self.stride}" if self.stride != 1 else ""
        extra += f", padding={self.padding}" if self.padding else ""
        extra += f", output_padding={self.output_padding}" if self.output_padding else ""
        extra += f", groups={self.groups}" if self.groups != 1 else ""
        extra += f", dilation={self.dilation}" if self.dilation not in (1, (1, 1)) else ""
        return (
            f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
            f"kernel_size={self.kernel_size}{extra})"
        )
