r"""Max pooling as message passing from a fine pixel grid to a coarse one."""

from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.nn import MessagePassing

from gconv._checks import check_bool, check_edge_index, check_features
from gconv.errors import GconvValueError
from gconv.graph.conv_graph import pair, window_graph


class GridMaxPool2d(MessagePassing):
    r"""``nn.MaxPool2d`` as message passing: each coarse pixel takes the largest value of
    the fine pixels its window covers.

    .. math::
        x'_i = \max_{j \to i} x_j

    over :func:`gconv.graph.strided_grid_graph` (fine sources, coarse targets). Padding
    adds no edges, which is ``nn.MaxPool2d``'s padding with :math:`-\infty`.

    Args:
        kernel_size: window size :math:`k`, or :math:`(k_h, k_w)`; like every option
            here, an int or a pair, as ``nn.MaxPool2d`` takes them.
        stride: step of the window (``kernel_size`` if ``None``, as ``nn.MaxPool2d``).
        padding: implicit padding, at most half the dilated window, as torch's rule.
        dilation: spacing of the window's taps.
        return_indices: also return, for each output, the fine node its maximum came
            from; for :meth:`graph`'s nodes, ``index % (H * W)`` is ``nn.MaxPool2d``'s
            flat index (what ``nn.MaxUnpool2d`` takes).
        ceil_mode: windows that start inside the input or its leading padding also
            count, as ``nn.MaxPool2d(ceil_mode=True)``.

    Shapes:
        - input: ``x`` :math:`(N_{fine}, C)`, ``edge_index`` :math:`(2, E)`, ``size``
          :math:`(N_{fine}, N_{coarse})`
        - output: :math:`(N_{coarse}, C)`, and with ``return_indices`` the
          :math:`(N_{coarse}, C)` fine node ids of the maxima

    Example:
        >>> pool = GridMaxPool2d(2)
        >>> edge_index, _, (ho, wo) = pool.graph(8, 8)
        >>> pool(torch.randn(64, 3), edge_index, size=(64, ho * wo)).shape
        torch.Size([16, 3])

        A batch from :func:`gconv.convert.images_to_graphs` is pooled over :meth:`graph`'s
        edges for its ``grid_shape`` (the batch's own edges are its 3x3 grid's):

        >>> from gconv.convert import images_to_graphs
        >>> batch = images_to_graphs(torch.randn(4, 3, 8, 8))
        >>> b, h, w = batch.grid_shape
        >>> edge_index, _, (ho, wo) = pool.graph(h, w, batch_size=b)
        >>> pool(batch.x, edge_index, size=(b * h * w, b * ho * wo)).shape
        torch.Size([64, 3])
    """

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        dilation: int | tuple[int, int] = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__(aggr="max")
        owner = type(self).__name__
        kernel = pair(owner, "kernel_size", kernel_size)
        steps = kernel if stride is None else pair(owner, "stride", stride)
        pads = pair(owner, "padding", padding, minimum=0)
        dilations = pair(owner, "dilation", dilation)
        check_bool(owner, "return_indices", return_indices)
        check_bool(owner, "ceil_mode", ceil_mode)
        for p, k, d in zip(pads, kernel, dilations, strict=True):
            if 2 * p > (k - 1) * d + 1:
                raise GconvValueError(
                    f"{owner}: padding must be at most half the dilated window "
                    f"((kernel_size - 1) * dilation + 1) / 2 (got padding {padding}, "
                    f"kernel_size {kernel_size}, dilation {dilation})"
                )
        self.kernel_size, self.padding, self.dilation = kernel_size, padding, dilation
        self.stride = kernel_size if stride is None else stride
        self.return_indices, self.ceil_mode = return_indices, ceil_mode
        self._window = (kernel, steps, (pads[0], pads[0], pads[1], pads[1]), dilations)
        self._first: Tensor | None = None

    def graph(
        self, height: int, width: int, batch_size: int = 1
    ) -> tuple[Tensor, Tensor, tuple[int, int]]:
        """This pooling's fine-to-coarse graph for ``batch_size`` grids (each coarse
        pixel's edges in window order)."""
        kernel, steps, pads, dilations = self._window
        return window_graph(
            type(self).__name__,
            height,
            width,
            kernel,
            steps,
            pads,
            dilations,
            batch_size,
            ceil_mode=self.ceil_mode,
        )

    def forward(
        self, x: Tensor, edge_index: Tensor, size: tuple[int, int]
    ) -> Tensor | tuple[Tensor, Tensor]:
        owner = type(self).__name__
        x = check_features(owner, x)
        n_src, n_dst = (int(v) for v in size)
        if n_src != x.size(0):
            raise GconvValueError(f"{owner}: size[0] must be x's {x.size(0)} rows (got {n_src})")
        check_edge_index(owner, edge_index, max(n_src, n_dst))
        out = self.propagate(edge_index, x=x, size=(n_src, n_dst))
        if not self.return_indices:
            return out
        assert self._first is not None
        sources = torch.cat([edge_index[0].long(), edge_index.new_full((1,), -1).long()])
        return out, sources[self._first]

    def message(self, x_j: Tensor) -> Tensor:
        return x_j

    def aggregate(
        self, inputs: Tensor, index: Tensor, ptr: Tensor | None = None, dim_size: int | None = None
    ) -> Tensor:
        """The largest message into each target, with the gradient of ``nn.MaxPool2d``:
        all of it to the first maximum in edge order (window order for :meth:`graph`'s
        edges), none to ties after it (PyG's max aggregation splits it between ties). A
        NaN propagates, as torch's: the window's last NaN is its value and index."""
        n = int(dim_size) if dim_size is not None else int(index.max()) + 1
        e, c = inputs.shape
        target = index.view(-1, 1).expand(e, c)
        with torch.no_grad():
            best = inputs.new_zeros(n, c).scatter_reduce(
                0, target, inputs, "amax", include_self=False
            )
            positions = torch.arange(e, device=inputs.device).view(-1, 1).expand(e, c)
            order = torch.where(inputs == best.gather(0, target), positions, e)
            first = torch.full((n, c), e, device=inputs.device)
            first = first.scatter_reduce(0, target, order, "amin", include_self=True)
            # a NaN wins its window, the last one in edge order, as F.max_pool2d's does
            nans = torch.where(inputs.isnan(), positions, -1)
            last_nan = torch.full((n, c), -1, device=inputs.device)
            last_nan = last_nan.scatter_reduce(0, target, nans, "amax", include_self=True)
            first = torch.where(last_nan >= 0, last_nan, first)
        # targets without edges read an appended zero row, as the amax leaves them at 0
        self._first = first  # for return_indices
        padded = torch.cat([inputs, inputs.new_zeros(1, c)])
        return padded.gather(0, first)

    def __repr__(self) -> str:
        extra = f", dilation={self.dilation}" if self.dilation not in (1, (1, 1)) else ""
        extra += ", return_indices=True" if self.return_indices else ""
        extra += ", ceil_mode=True" if self.ceil_mode else ""
        return (
            f"{type(self).__name__}(kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding}{extra})"
        )
