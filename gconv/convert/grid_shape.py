"""What pixel grid a graph or batch is: ``(B, H, W)``, or ``None`` for other graphs.

A batch from :func:`gconv.convert.images_to_graphs` (and :class:`gconv.loader.GridGraphLoader`)
carries ``grid_shape = (B, H, W)``. A graph from :func:`gconv.convert.grid_graph` carries
``grid_size``, a ``[1, 2]`` tensor ``[[H, W]]`` that PyG's ``DataLoader`` concatenates
into ``[B, 2]``, so a batch of a user's own grid graphs is a pixel grid too when all of
its graphs have one size.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

GRID_HINT = (
    "pixel grid graphs carry grid_shape=(B, H, W) (gconv.convert.images_to_graphs, "
    "GridGraphLoader) or grid_size=[[H, W]] per graph (gconv.convert.grid_graph, kept by PyG's "
    "DataLoader); set data.grid_size = torch.tensor([[H, W]]) on graphs built otherwise, "
    "with nodes numbered row * W + col"
)


def grid_shape_of(data: Any) -> tuple[int, int, int] | None:
    """``(B, H, W)`` of ``data`` when it is ``B`` pixel grids of one ``H x W`` size (its
    ``grid_shape``, or its graphs' ``grid_size``), else ``None``.

    Example:
        >>> from torch_geometric.data import Batch
        >>> from gconv.convert import grid_graph
        >>> grid_shape_of(Batch.from_data_list([grid_graph(8, 6), grid_graph(8, 6)]))
        (2, 8, 6)
    """
    shape = getattr(data, "grid_shape", None)
    if shape is not None:
        return tuple(int(s) for s in shape)  # type: ignore[return-value]
    sizes = getattr(data, "grid_size", None)
    if not isinstance(sizes, Tensor) or sizes.dim() != 2 or sizes.size(1) != 2:
        return None
    if sizes.size(0) == 0 or not bool((sizes == sizes[:1]).all()):
        return None  # no graph, or grids of several sizes
    h, w = (int(s) for s in sizes[0])
    b = sizes.size(0)
    if getattr(data, "num_nodes", None) != b * h * w:
        return None
    return (b, h, w)
