r"""Max pooling as message passing from a fine pixel grid to a coarse one."""

from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.nn import MessagePassing

from gconv._checks import check_edge_index, check_features, check_positive_int
from gconv.graph.transposed_grid import strided_grid_graph


class GridMaxPool2d(MessagePassing):
    r"""``nn.MaxPool2d`` as message passing: each coarse pixel takes the largest value of
    the fine pixels its window covers.

    .. math::
        x'_i = \max_{j \to i} x_j

    over :func:`gconv.graph.strided_grid_graph` (fine sources, coarse targets). Padding
    adds no edges, which is ``nn.MaxPool2d``'s padding with :math:`-\infty`.

    Args:
        kernel_size: window size :math:`k`.
        stride: step of the window (``kernel_size`` if ``None``, as ``nn.MaxPool2d``).
        padding: implicit padding, at most ``kernel_size // 2``.

    Shapes:
        - input: ``x`` :math:`(N_{fine}, C)`, ``edge_index`` :math:`(2, E)`, ``size``
          :math:`(N_{fine}, N_{coarse})`
        - output: :math:`(N_{coarse}, C)`

    Example:
        >>> pool = GridMaxPool2d(2)
        >>> edge_index, _, (ho, wo) = pool.graph(8, 8)
        >>> pool(torch.randn(64, 3), edge_index, size=(64, ho * wo)).shape
        torch.Size([16, 3])
    """

    def __init__(self, kernel_size: int, stride: int | None = None, padding: int = 0) -> None:
        super().__init__(aggr="max")
        owner = type(self).__name__
        check_positive_int(owner, "kernel_size", kernel_size)
        stride = kernel_size if stride is None else stride
        check_positive_int(owner, "stride", stride)
        check_positive_int(owner, "padding", padding, minimum=0)
        if padding > kernel_size // 2:
            raise ValueError(
                f"{owner}: padding must be at most kernel_size // 2 = {kernel_size // 2} "
                f"(got {padding})"
            )
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def graph(
        self, height: int, width: int, batch_size: int = 1
    ) -> tuple[Tensor, Tensor, tuple[int, int]]:
        """This pooling's fine-to-coarse graph for ``batch_size`` grids."""
        return strided_grid_graph(
            height,
            width,
            self.kernel_size,
            stride=self.stride,
            padding=self.padding,
            batch_size=batch_size,
        )

    def forward(self, x: Tensor, edge_index: Tensor, size: tuple[int, int]) -> Tensor:
        owner = type(self).__name__
        x = check_features(owner, x)
        n_src, n_dst = (int(v) for v in size)
        if n_src != x.size(0):
            raise ValueError(f"{owner}: size[0] must be x's {x.size(0)} rows (got {n_src})")
        check_edge_index(owner, edge_index, max(n_src, n_dst))
        return self.propagate(edge_index, x=x, size=(n_src, n_dst))

    def message(self, x_j: Tensor) -> Tensor:
        return x_j

    def aggregate(
        self, inputs: Tensor, index: Tensor, ptr: Tensor | None = None, dim_size: int | None = None
    ) -> Tensor:
        """The largest message into each target, with the gradient of ``nn.MaxPool2d``:
        all of it to the first maximum in edge order (window order for :meth:`graph`'s
        edges), none to ties after it. (PyG's max aggregation splits it between ties.)"""
        n = int(dim_size) if dim_size is not None else int(index.max()) + 1
        e, c = inputs.shape
        target = index.view(-1, 1).expand(e, c)
        with torch.no_grad():
            best = inputs.new_zeros(n, c).scatter_reduce(
                0, target, inputs, "amax", include_self=False
            )
            order = torch.arange(e, device=inputs.device).view(-1, 1).expand(e, c)
            order = torch.where(inputs == best.gather(0, target), order, e)
            first = torch.full((n, c), e, device=inputs.device)
            first = first.scatter_reduce(0, target, order, "amin", include_self=True)
        # targets without edges read an appended zero row, as the amax leaves them at 0
        padded = torch.cat([inputs, inputs.new_zeros(1, c)])
        return padded.gather(0, first)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding})"
        )
