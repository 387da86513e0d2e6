"""Transforms: images into grid graphs for PyG loaders, edge types from geometry, and
edges from positions (kNN, radius)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.transforms import BaseTransform
from torch_geometric.utils import to_undirected

from gconv._checks import check_choice, check_odd_kernel, check_positive_int, check_tensor
from gconv.convert.grid_graph import _template
from gconv.convert.knn import FLOWS, check_radius, knn_graph, radius_graph
from gconv.errors import GconvTypeError, GconvValueError


class ImageToGridGraph:
    r"""Turns one image into a pixel grid graph (a torchvision-style transform).

    The graph is the one :func:`gconv.convert.grid_graph` builds, with ``x`` the pixel values
    (:math:`(HW, C)`), so ``MNIST(root, transform=ImageToGridGraph())`` yields graphs that
    a PyG ``DataLoader`` batches (as ``[Batch, labels]``).

    Args:
        kernel_size: odd kernel size of the grid's taps.
        connectivity: 8 or 4.

    Shapes:
        - input: ``[C, H, W]`` or ``[H, W]`` tensor, or a PIL image (scaled to [0, 1])
        - output: ``Data`` with ``x`` :math:`(HW, C)`, ``edge_index``, ``edge_type``,
          ``pos`` and ``grid_size`` ``[[H, W]]``, as :func:`gconv.convert.grid_graph`

    Example:
        >>> data = ImageToGridGraph()(torch.rand(1, 28, 28))
        >>> data.x.shape, data.edge_index.shape
        (torch.Size([784, 1]), torch.Size([2, 6724]))
    """

    def __init__(self, kernel_size: int = 3, connectivity: int = 8) -> None:
        owner = type(self).__name__
        check_odd_kernel(owner, kernel_size)
        check_choice(owner, "connectivity", connectivity, (4, 8))
        self.kernel_size = kernel_size
        self.connectivity = connectivity

    def __call__(self, image: Any) -> Data:
        owner = type(self).__name__
        if not isinstance(image, Tensor):
            from torchvision.transforms.functional import to_tensor

            try:
                image = to_tensor(image)
            except TypeError as err:
                raise GconvTypeError(
                    f"{owner}: image must be a Tensor or a PIL image (got {type(image).__name__})"
                ) from err
        if image.dim() == 2:
            image = image.unsqueeze(0)
        if image.dim() != 3:
            raise GconvValueError(
                f"{owner}: image must be [C, H, W] or [H, W] (got shape {tuple(image.shape)})"
            )
        if not image.is_floating_point():
            image = image.to(torch.get_default_dtype())
        c, h, w = image.shape
        edge_index, edge_type, pos = _template(h, w, self.kernel_size, self.connectivity, True)
        return Data(
            x=image.permute(1, 2, 0).reshape(h * w, c),
            edge_index=edge_index.clone(),
            edge_type=edge_type.clone(),
            pos=pos.clone(),
            grid_size=torch.tensor([[h, w]]),  # a pixel grid, also once batched
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(kernel_size={self.kernel_size}, "
            f"connectivity={self.connectivity})"
        )


# the 3x3 tap of each of 8 compass sectors, counter-clockwise from +column, as
# (dy + 1) * 3 + (dx + 1) with (dy, dx) the unit offset of the sector's centre
_SECTOR_TAPS = torch.tensor([5, 8, 7, 6, 3, 0, 1, 2])
CENTER_TAP = 4


class DirectionalEdgeType(BaseTransform):
    r"""Gives each edge of a graph with positions the 3x3 kernel tap its direction falls in.

    The offset :math:`p_j - p_i` of an edge :math:`j \to i` (``pos`` as (row, column)) is
    binned into 8 sectors of 45 degrees centred on the 8 neighbours of a pixel, and the
    edge gets that neighbour's tap, :math:`(dy + 1) \cdot 3 + (dx + 1)`, as ``edge_type``;
    self-loops (added with ``self_loops=True``) and zero offsets get the centre tap 4. On
    a pixel grid this gives back exactly the edge types of :func:`gconv.convert.grid_graph`, so
    :class:`gconv.nn.GridConv2d` with ``kernel_size=3`` runs the CNN's kernel on any
    graph with positions, superpixel graphs included.

    Args:
        self_loops: add a self-loop to every node (edge weight 1 where there are weights).

    Shapes:
        - input: ``Data`` with ``edge_index`` :math:`(2, E)` and ``pos`` :math:`(N, 2)`
        - output: the same ``Data`` with ``edge_type`` :math:`(E')` in :math:`[0, 9)`

    Example:
        >>> from gconv.convert import superpixel_graph
        >>> data = DirectionalEdgeType()(superpixel_graph(torch.rand(28, 28)))
        >>> int(data.edge_type.max()) < 9
        True
    """

    def __init__(self, self_loops: bool = True) -> None:
        self.self_loops = self_loops

    def forward(self, data: Any) -> Any:
        owner = type(self).__name__
        pos = getattr(data, "pos", None)
        if not isinstance(pos, Tensor) or pos.dim() != 2 or pos.size(1) != 2:
            got = tuple(pos.shape) if isinstance(pos, Tensor) else type(pos).__name__
            raise GconvValueError(f"{owner}: data must have pos of shape [N, 2] (got {got})")
        edge_index = data.edge_index
        weight = getattr(data, "edge_weight", None)
        if self.self_loops:
            from torch_geometric.utils import add_self_loops

            edge_index, weight = add_self_loops(
                edge_index, weight, fill_value=1.0, num_nodes=data.num_nodes
            )
        offset = pos[edge_index[0]] - pos[edge_index[1]]
        angle = torch.atan2(offset[:, 0], offset[:, 1])  # from +column towards +row
        sector = torch.round(angle / (torch.pi / 4)).long() % 8
        edge_type = _SECTOR_TAPS.to(sector.device)[sector]
        edge_type[(offset == 0).all(dim=1)] = CENTER_TAP
        data.edge_index, data.edge_type = edge_index, edge_type
        if weight is not None:
            data.edge_weight = weight
        return data

    def __repr__(self) -> str:
        return f"{type(self).__name__}(self_loops={self.self_loops})"


class KNNGraph(BaseTransform):
    """PyG's ``T.KNNGraph`` on :func:`knn_graph`: ``data.edge_index`` from the ``k``
    nearest ``data.pos`` (per example of a ``Batch``), ``edge_attr`` dropped.

    Example:
        >>> from torch_geometric.data import Data
        >>> data = KNNGraph(k=3)(Data(pos=torch.rand(10, 2)))
        >>> data.edge_index.shape
        torch.Size([2, 30])
    """

    def __init__(
        self,
        k: int = 6,
        loop: bool = False,
        force_undirected: bool = False,
        flow: str = "source_to_target",
        cosine: bool = False,
    ) -> None:
        owner = type(self).__name__
        check_positive_int(owner, "k", k)
        check_choice(owner, "flow", flow, FLOWS)
        self.k, self.loop, self.force_undirected = k, loop, force_undirected
        self.flow, self.cosine = flow, cosine

    def forward(self, data: Any) -> Any:
        pos = _positions(type(self).__name__, data)
        edge_index = knn_graph(pos, self.k, data.batch, self.loop, self.flow, self.cosine)
        if self.force_undirected:
            edge_index = to_undirected(edge_index, num_nodes=data.num_nodes)
        data.edge_index, data.edge_attr = edge_index, None
        return data

    def __repr__(self) -> str:
        return f"{type(self).__name__}(k={self.k})"


class RadiusGraph(BaseTransform):
    """PyG's ``T.RadiusGraph`` on :func:`radius_graph`: ``data.edge_index`` from the
    ``data.pos`` within ``r`` (per example of a ``Batch``), ``edge_attr`` dropped.

    Example:
        >>> from torch_geometric.data import Data
        >>> RadiusGraph(r=1.5)(Data(pos=torch.tensor([[0.0], [1.0], [3.0]]))).edge_index
        tensor([[1, 0],
                [0, 1]])
    """

    def __init__(
        self,
        r: float,
        loop: bool = False,
        max_num_neighbors: int = 32,
        flow: str = "source_to_target",
    ) -> None:
        owner = type(self).__name__
        check_radius(owner, r)
        check_positive_int(owner, "max_num_neighbors", max_num_neighbors)
        check_choice(owner, "flow", flow, FLOWS)
        self.r, self.loop, self.max_num_neighbors, self.flow = r, loop, max_num_neighbors, flow

    def forward(self, data: Any) -> Any:
        pos = _positions(type(self).__name__, data)
        data.edge_index = radius_graph(
            pos, self.r, data.batch, self.loop, self.max_num_neighbors, self.flow
        )
        data.edge_attr = None
        return data

    def __repr__(self) -> str:
        return f"{type(self).__name__}(r={self.r})"


def _positions(owner: str, data: Any) -> Tensor:
    pos = getattr(data, "pos", None)
    if pos is None:
        raise GconvValueError(f"{owner}: the graph must carry pos (the points to connect)")
    return check_tensor(owner, "pos", pos)
