r"""The graph convolution of Kipf and Welling as a PyG ``MessagePassing`` layer."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch.nn import Parameter
from torch_geometric.nn import MessagePassing
from torch_geometric.nn.dense.linear import Linear
from torch_geometric.nn.inits import zeros

from gconv._checks import (
    check_bool,
    check_choice,
    check_dtype,
    check_edge_index,
    check_edge_weight,
    check_features,
    check_positive_int,
)
from gconv.errors import GconvValueError
from gconv.graph._cache import GraphCache
from gconv.graph._grid import grid_plan, scale_pixels, stencil_product
from gconv.graph.adjacency import (
    AdjacencyProduct,
    NormalizedAdjacency,
    adjacency_edges,
    is_adjacency,
)
from gconv.graph.norm import gcn_normalize, normalization_mode
from gconv.graph.sparse import is_sparse_csr, sparse_linear

FLOWS = ("source_to_target", "target_to_source")


class GCNLayer(MessagePassing):
    r"""Graph convolution of Kipf and Welling (2017).

    .. math::
        X' = \hat D^{-1/2} \hat A \hat D^{-1/2} X W + b, \quad \hat A = A + I

    node-wise: :math:`x'_i = \sum_{j \in \mathcal N(i) \cup \{i\}}
    \frac{e_{ji}}{\sqrt{\hat d_j \hat d_i}} W^\top x_j + b`. Other normalizations are
    available through ``normalize`` (see :func:`gconv.graph.gcn_normalize`). Parameter names
    (``lin.weight``, ``bias``) match ``torch_geometric.nn.GCNConv``, so its state dict
    loads as is.

    Paper: `Semi-Supervised Classification with GCNs <https://arxiv.org/abs/1609.02907>`_.

    It takes ``GCNConv``'s constructor and call as they are, so a PyG script runs with
    ``from gconv.nn import GCNLayer as GCNConv`` and computes the same numbers.

    Args:
        in_channels: size of each input node feature, or ``-1`` to infer it on the first
            call (as PyG's lazy layers).
        out_channels: size of each output node feature.
        improved: add :math:`2I` instead of :math:`I` (PyG's ``improved``).
        cached: keep the normalized graph between calls (transductive learning). A call
            with a different graph recomputes it rather than reusing the old one.
        add_self_loops: add :math:`I` where a node has no self-loop; ``None`` (PyG's
            default) adds them whenever the layer normalizes.
        normalize: ``True`` (``"sym"``, Kipf and Welling's), ``False`` (``"none"``: the
            graph's own weights, as ``GCNConv(normalize=False)``), or one of the modes of
            :func:`gconv.graph.gcn_normalize`: ``"sym"``, ``"rw"``, ``"none"``.
        bias: learn an additive bias.
        **kwargs: passed to ``MessagePassing`` (e.g. ``node_dim``), as in PyG.

    ``forward(..., grid_shape=(B, H, W))`` (set by :func:`gconv.convert.images_to_graphs`) takes
    a fast path on a batch of full pixel grids: the graph is checked once to be that grid,
    then the layer runs as a per-pixel scale and a depthwise stencil convolution.

    Shapes:
        - input: ``x`` :math:`(N, C_{in})`, dense or a sparse CSR tensor (see
          :mod:`gconv.graph.sparse`), ``edge_index`` :math:`(2, E)`, ``edge_weight``
          :math:`(E)` (optional)
        - output: :math:`(N, C_{out})`

    Example:
        >>> conv = GCNLayer(16, 32)
        >>> conv(torch.randn(4, 16), torch.tensor([[0, 1, 2], [1, 2, 3]])).shape
        torch.Size([4, 32])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        improved: bool = False,
        cached: bool = False,
        add_self_loops: bool | None = None,
        normalize: bool | str = True,
        bias: bool = True,
        **kwargs: Any,
    ) -> None:
        owner = type(self).__name__
        if kwargs.setdefault("aggr", "add") != "add":
            raise GconvValueError(f"{owner}: aggr must be 'add' (got {kwargs['aggr']!r})")
        check_choice(owner, "flow", kwargs.setdefault("flow", "source_to_target"), FLOWS)
        super().__init__(**kwargs)
        if in_channels != -1:
            check_positive_int(owner, "in_channels", in_channels)
        check_positive_int(owner, "out_channels", out_channels)
        for name, flag in (("improved", improved), ("cached", cached), ("bias", bias)):
            check_bool(owner, name, flag)
        mode = normalization_mode(owner, normalize)
        if add_self_loops is None:
            add_self_loops = mode != "none"
        check_bool(owner, "add_self_loops", add_self_loops)
        if add_self_loops and normalize is False:  # PyG's rule; "none" may add I
            raise GconvValueError(
                f"{owner}: does not support adding self-loops to the graph when no "
                "on-the-fly normalization is applied (normalize=False); pass "
                "add_self_loops=False, or normalize='none' for A + I"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.improved = improved
        self.cached = cached
        self.add_self_loops = add_self_loops
        self.normalize = normalize  # read on every call, as PyG reads it, like flow
        self._cache: GraphCache[tuple[tuple[Any, ...], tuple[Tensor, Tensor]]] = GraphCache()
        self._grid_cache: GraphCache[dict[tuple[int, ...], tuple[Tensor, Tensor]]] = GraphCache()
        self.lin = Linear(in_channels, out_channels, bias=False, weight_initializer="glorot")
        if bias:
            self.bias: Parameter | None = Parameter(torch.empty(out_channels))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self.lin.reset_parameters()
        zeros(self.bias)
        self._cache.clear()
        self._grid_cache.clear()

    @property
    def mode(self) -> str:
        """The normalization that ``normalize`` names: ``"sym"``, ``"rw"`` or ``"none"``."""
        return normalization_mode(type(self).__name__, self.normalize)

    def _loops(self) -> bool:
        """Whether self-loops are added: as PyG, never without normalization
        (``normalize=False``, also when set after construction)."""
        return self.add_self_loops and self.normalize is not False

    def _normalized(
        self,
        edge_index: Tensor,
        edge_weight: Tensor | None,
        num_nodes: int,
        dtype: torch.dtype,
        *,
        loops: bool | None = None,
    ) -> tuple[Tensor, Tensor]:
        """The graph's normalized edges for the layer's current settings (its cache is
        valid only for the settings it was computed with)."""
        loops = self._loops() if loops is None else loops
        settings = (self.mode, loops, self.improved, self.flow, dtype)
        if self.cached:
            hit = self._cache.get(edge_index, edge_weight, num_nodes)
            if hit is not None and hit[0] == settings:
                return hit[1]
        owner = type(self).__name__
        check_edge_index(owner, edge_index, num_nodes)
        check_edge_weight(owner, edge_weight, edge_index.size(1))
        flipped = self.flow == "target_to_source"  # messages from edge_index[1] to [0]
        index, weight = gcn_normalize(
            edge_index.flip(0) if flipped else edge_index,
            edge_weight,
            num_nodes,
            mode=self.mode,
            add_self_loops=loops,
            improved=self.improved,
            dtype=dtype,
        )
        value = (index.flip(0) if flipped else index, weight)
        if self.cached:
            self._cache.put(edge_index, edge_weight, num_nodes, (settings, value))
        return value

    def forward(
        self,
        x: Tensor,
        edge_index: Tensor | NormalizedAdjacency,
        edge_weight: Tensor | None = None,
        *,
        grid_shape: tuple[int, int, int] | None = None,
    ) -> Tensor:
        owner = type(self).__name__
        channels = None if self.in_channels == -1 else self.in_channels
        x = check_features(owner, x, channels=channels, static=True)
        if not isinstance(self.lin.weight, torch.nn.parameter.UninitializedParameter):
            check_dtype(owner, x, self.lin.weight)
        if x.layout == torch.sparse_coo:
            x = x.to_sparse_csr()
        if is_sparse_csr(x):
            h = sparse_linear(x, self.lin.weight)
        elif self._on_grid(edge_index, edge_weight, grid_shape):
            assert grid_shape is not None and isinstance(edge_index, Tensor)
            return self._grid_layer(x, edge_index, grid_shape)
        else:
            h = self.lin(x)
        out = self.diffuse(h, edge_index, edge_weight, grid_shape=grid_shape)
        if self.bias is not None:
            out = out + self.bias
        return out

    def diffuse(
        self,
        h: Tensor,
        edge_index: Tensor | NormalizedAdjacency,
        edge_weight: Tensor | None = None,
        *,
        grid_shape: tuple[int, int, int] | None = None,
    ) -> Tensor:
        r""":math:`\hat D^{-1/2} \hat A \hat D^{-1/2} H`: the layer without its weight and
        bias, on features of any width, with the layer's normalization cache.

        Since :math:`\hat A (H W) = (\hat A H) W`, a GCN layer is ``diffuse`` followed by
        a linear map; the ``gcn`` model uses this to end in a plain linear ``head``.

        ``edge_index`` may also be the normalized adjacency itself (a
        :class:`NormalizedAdjacency` from :func:`normalized_sparse`): then ``diffuse`` is
        one sparse matrix product, and a network normalizes a batch once for all its
        layers.
        """
        if isinstance(edge_index, NormalizedAdjacency):
            return AdjacencyProduct.apply(edge_index.matrix, edge_index.transpose, h)
        num_nodes = int(h.shape[self.node_dim])
        if is_adjacency(edge_index):
            edge_index, edge_weight = self._adjacency_edges(edge_index, edge_weight, h)
            # its self-loops are in: PyG adds them to a matrix otherwise than to edges
            index, weight = self._normalized(
                edge_index, edge_weight, num_nodes, h.dtype, loops=False
            )
        elif self._on_grid(edge_index, edge_weight, grid_shape):
            assert grid_shape is not None
            mask, deg = self._grid_plan(edge_index, grid_shape, h)
            return stencil_product(h, mask, deg, grid_shape, self.mode)
        else:
            index, weight = self._normalized(edge_index, edge_weight, num_nodes, h.dtype)
        return self.propagate(index, x=h, edge_weight=weight.to(h.dtype))

    def _adjacency_edges(
        self, adj_t: Any, edge_weight: Tensor | None, h: Tensor
    ) -> tuple[Tensor, Tensor]:
        """The edges of ``adj_t`` (see :func:`adjacency_edges`), which carries its own
        weights and flow."""
        owner = type(self).__name__
        n = int(h.shape[self.node_dim])
        if edge_weight is not None:
            raise GconvValueError(
                f"{owner}: edge_weight must be None when edge_index is a sparse adjacency "
                "(its values are the edge weights)"
            )
        if self.flow != "source_to_target":
            raise GconvValueError(
                f"{owner}: flow 'target_to_source' is invalid for a sparse adjacency "
                "(adj_t holds each target's row); pass edge_index instead"
            )
        return adjacency_edges(
            owner, adj_t, n, dtype=h.dtype, loops=self._loops(), improved=self.improved
        )

    def _on_grid(self, edge_index: Any, edge_weight: Tensor | None, grid_shape: Any) -> bool:
        """Whether the stencil path applies: a pixel grid's plain edges, no weights."""
        return (
            grid_shape is not None
            and edge_weight is None
            and self.flow == "source_to_target"
            and not isinstance(edge_index, NormalizedAdjacency)
            and not is_adjacency(edge_index)
        )

    def _grid_plan(self, edge_index: Tensor, grid_shape: Any, x: Tensor) -> tuple[Tensor, Tensor]:
        args = (edge_index, grid_shape, x.size(0), self._loops(), self.improved, x.device)
        return grid_plan(self._grid_cache, type(self).__name__, *args)

    def _grid_layer(
        self, x: Tensor, edge_index: Tensor, grid_shape: tuple[int, int, int]
    ) -> Tensor:
        r"""The whole layer on full pixel grids, as a stencil on the image view: no
        per-edge work. The first scale of the symmetric normalization is per pixel, so
        :math:`D^{-1/2} (X W) = (D^{-1/2} X) W` is applied to the narrower of the two (the
        input when the layer widens, as a CNN's stages do); the bias joins the last scale."""
        mask, deg = self._grid_plan(edge_index, grid_shape, x)
        scaled = self.mode == "sym" and x.size(1) < self.out_channels
        if scaled:
            x = scale_pixels(x, deg.to(x.dtype).pow(-0.5), grid_shape)
        h, bias = self.lin(x), self.bias
        return stencil_product(h, mask, deg, grid_shape, self.mode, bias=bias, scaled=scaled)

    def message(self, x_j: Tensor, edge_weight: Tensor) -> Tensor:
        return edge_weight.view(-1, 1) * x_j

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_channels}, {self.out_channels})"
