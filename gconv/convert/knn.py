r"""``knn_graph`` and ``radius_graph`` with PyG's signatures, on any install.

PyG's own (``torch_geometric.nn.knn_graph``, ``radius_graph``) need pyg-lib or
torch-cluster, which many installs lack. These compute the same graphs one example of
the batch at a time: a small example (up to 2,048 points, or any on a GPU, or with
cosine distance) from its pairwise distances (``torch.cdist``), a block of query points
at a time so that memory stays at a block's rows; a larger one on the CPU with
scikit-learn's tree search (``NearestNeighbors``), whose cost grows as
:math:`n \log n` instead of :math:`n^2`. Where PyG's operator is installed,
``backend="auto"`` hands over to it (``benchmarks/knn_graph.py`` times them).

Edges follow PyG's convention: with ``flow="source_to_target"`` an edge ``j -> i`` runs
from the neighbour ``j`` to the point ``i`` it was found for (``edge_index[1]`` holds
``i``); ``"target_to_source"`` flips the rows.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
import torch
from torch import Tensor

from gconv._checks import check_choice, check_positive_int, check_tensor
from gconv.errors import GconvTypeError, GconvValueError

FLOWS = ("source_to_target", "target_to_source")
BACKENDS = ("auto", "torch", "pyg")
BLOCK = 1 << 22  # distances held at once: a block of query rows by the graph's points
TREE = 2048  # examples larger than this, on the CPU, are searched with a tree


def knn_graph(
    x: Tensor,
    k: int,
    batch: Tensor | None = None,
    loop: bool = False,
    flow: str = "source_to_target",
    cosine: bool = False,
    batch_size: int | None = None,
    *,
    backend: str = "auto",
) -> Tensor:
    r"""Edges to each point from its ``k`` nearest points of the same example.

    Args:
        x: points or features :math:`(N, F)` (or :math:`(N,)`).
        k: neighbours per point; a graph of fewer points gives each all the others.
        batch: the example of each point, sorted, as in a PyG ``Batch``; one example
            when ``None``.
        loop: count each point as its own neighbour (at distance 0).
        flow: ``"source_to_target"`` (``edge_index[1]`` the point, ``[0]`` its
            neighbours) or ``"target_to_source"``.
        cosine: cosine distance :math:`1 - \cos(x_i, x_j)` instead of Euclidean.
        batch_size: the number of examples, where ``batch`` ends with empty ones.
        backend: ``"auto"`` (PyG's where pyg-lib provides it, else gconv's),
            ``"torch"`` or ``"pyg"``.

    Returns:
        ``edge_index`` :math:`(2, E)`, grouped by point, nearest neighbour first.

    Without ``loop`` the point itself is set aside before choosing, so every point
    gets exactly :math:`\min(k, n - 1)` neighbours in an example of :math:`n` points
    (PyG's asks for :math:`k + 1` and drops the point, which leaves :math:`k + 1` where
    it is not among them, as with coinciding points). Points at equal distances may be
    ordered, or at the k-th place chosen, differently from PyG's.

    Example:
        >>> x = torch.tensor([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
        >>> knn_graph(x, k=2).size(1)
        8
    """
    owner = "knn_graph"
    x, ptr = _check(owner, x, batch, flow, batch_size)
    check_positive_int(owner, "k", k)
    if _pyg(owner, backend, "WITH_KNN"):
        from torch_geometric.nn import knn_graph as pyg_knn_graph

        return pyg_knn_graph(x, k, batch, loop, flow, cosine, batch_size=batch_size)
    if cosine:
        x = torch.nn.functional.normalize(x, dim=1)
    parts = []
    for start, end in _examples(ptr):
        kk = min(k, end - start - (0 if loop else 1))
        if kk <= 0:
            continue
        if _tree(x, end - start, cosine):
            near = _tree_knn(x[start:end], kk, loop)
            rows = torch.arange(start, end)
            parts.append(torch.stack([near.reshape(-1) + start, rows.repeat_interleave(kk)]))
            continue
        for rows, dist in _blocks(x, start, end, cosine, loop):
            near = dist.topk(kk, dim=1, largest=False).indices  # [rows, kk], nearest first
            parts.append(torch.stack([near.reshape(-1) + start, rows.repeat_interleave(kk)]))
    return _edges(parts, flow, x.device)


def radius_graph(
    x: Tensor,
    r: float,
    batch: Tensor | None = None,
    loop: bool = False,
    max_num_neighbors: int = 32,
    flow: str = "source_to_target",
    batch_size: int | None = None,
    *,
    backend: str = "auto",
) -> Tensor:
    r"""Edges to each point from the points of the same example within distance ``r``.

    Args:
        x: points or features :math:`(N, F)` (or :math:`(N,)`).
        r: the radius; a neighbour at distance :math:`\le r` is in.
        batch: the example of each point, sorted; one example when ``None``.
        loop: include each point itself.
        max_num_neighbors: at most this many neighbours per point: the nearest ones
            (PyG's keeps the first it finds, in no promised order).
        flow: ``"source_to_target"`` or ``"target_to_source"``, as in :func:`knn_graph`.
        batch_size: the number of examples, where ``batch`` ends with empty ones.
        backend: ``"auto"``, ``"torch"`` or ``"pyg"``, as in :func:`knn_graph`.

    Returns:
        ``edge_index`` :math:`(2, E)`, grouped by point, nearest neighbour first.

    Example:
        >>> x = torch.tensor([[0.0], [0.5], [2.0]])
        >>> radius_graph(x, r=1.0).tolist()
        [[1, 0], [0, 1]]
    """
    owner = "radius_graph"
    x, ptr = _check(owner, x, batch, flow, batch_size)
    check_radius(owner, r)
    check_positive_int(owner, "max_num_neighbors", max_num_neighbors)
    if _pyg(owner, backend, "WITH_RADIUS"):
        from torch_geometric.nn import radius_graph as pyg_radius_graph

        return pyg_radius_graph(x, r, batch, loop, max_num_neighbors, flow, batch_size=batch_size)
    parts = []
    for start, end in _examples(ptr):
        if _tree(x, end - start, False):
            parts.append(_tree_radius(x[start:end], r, loop, max_num_neighbors) + start)
            continue
        kk = min(max_num_neighbors, end - start)
        for rows, dist in _blocks(x, start, end, False, loop):
            near, cols = dist.topk(kk, dim=1, largest=False)  # each row sorted, nearest first
            inside = near <= r
            parts.append(
                torch.stack([cols[inside] + start, rows.view(-1, 1).expand_as(cols)[inside]])
            )
    return _edges(parts, flow, x.device)


def check_radius(owner: str, r: object) -> None:
    """A radius: a number > 0."""
    if isinstance(r, bool) or not isinstance(r, (int, float)) or not r > 0:
        raise GconvValueError(f"{owner}: r must be a number > 0 (got {r!r})")


def _check(
    owner: str, x: object, batch: object, flow: str, batch_size: int | None
) -> tuple[Tensor, Tensor]:
    """``x`` as ``[N, F]`` and the examples' row pointers ``[B + 1]``, checked once."""
    x = check_tensor(owner, "x", x)
    x = x.view(-1, 1) if x.dim() == 1 else x
    if x.dim() != 2 or not x.is_floating_point():
        raise GconvValueError(
            f"{owner}: x must be a floating [N, F] (or [N]) tensor "
            f"(got {x.dtype}, shape {tuple(x.shape)})"
        )
    if x.dtype in (torch.float16, torch.bfloat16):  # no cdist or tree for them: float32
        x = x.float()
    check_choice(owner, "flow", flow, FLOWS)
    n = x.size(0)
    if batch is None:
        return x, torch.tensor([0, n])
    batch = check_tensor(owner, "batch", batch)
    if batch.dtype not in (torch.long, torch.int32) or batch.shape != (n,):
        raise GconvValueError(
            f"{owner}: batch must be an integer [{n}] tensor, one example id per row of x "
            f"(got {batch.dtype}, shape {tuple(batch.shape)})"
        )
    batch = batch.cpu()
    if n and (int(batch[0]) < 0 or bool((batch[1:] < batch[:-1]).any())):
        raise GconvValueError(f"{owner}: batch must be sorted ids >= 0, as a PyG Batch's are")
    count = int(batch[-1]) + 1 if n else 0
    if batch_size is not None:
        check_positive_int(owner, "batch_size", batch_size, minimum=count)
        count = batch_size
    sizes = torch.bincount(batch, minlength=count)
    return x, torch.cat([torch.zeros(1, dtype=torch.long), sizes.cumsum(0)])


def _pyg(owner: str, backend: str, feature: str) -> bool:
    """Whether to hand over to PyG's operator."""
    check_choice(owner, "backend", backend, BACKENDS)
    import torch_geometric.typing

    available = bool(getattr(torch_geometric.typing, feature, False))
    if backend == "pyg" and not available:
        raise GconvTypeError(
            f"{owner}: backend 'pyg' needs PyG's operator (pyg-lib), which is not installed; "
            "use backend='torch' or 'auto'"
        )
    return backend == "pyg" or (backend == "auto" and available)


def _examples(ptr: Tensor) -> Iterator[tuple[int, int]]:
    """Each example's first row and the row after its last."""
    yield from itertools.pairwise(ptr.tolist())


def _tree(x: Tensor, n: int, cosine: bool) -> bool:
    """Whether an example of ``n`` points is searched with scikit-learn's tree: large
    (a distance matrix grows as n^2, a tree search as n log n), on the CPU, Euclidean."""
    return n > TREE and x.device.type == "cpu" and not cosine


def _tree_knn(points: Tensor, kk: int, loop: bool) -> Tensor:
    """The ``kk`` nearest of each point (local ids, ``[n, kk]``, nearest first), by
    scikit-learn's ``NearestNeighbors``; without ``loop`` the point itself is dropped,
    or, where a coinciding point kept it out, the farthest of ``kk + 1``."""
    from sklearn.neighbors import NearestNeighbors

    n, data = points.size(0), points.detach().numpy()
    search = NearestNeighbors(n_neighbors=kk if loop else kk + 1).fit(data)
    near = torch.from_numpy(search.kneighbors(data, return_distance=False))
    if loop:
        return near
    own = near == torch.arange(n).view(-1, 1)
    own[~own.any(dim=1), -1] = True
    return near[~own].view(n, kk)


def _tree_radius(points: Tensor, r: float, loop: bool, most: int) -> Tensor:
    """``[neighbour, point]`` pairs (local ids) within ``r``, the nearest ``most`` of
    each point, by scikit-learn's ``NearestNeighbors``."""
    from sklearn.neighbors import NearestNeighbors

    n, data = points.size(0), points.detach().numpy()
    found = NearestNeighbors(radius=r).fit(data).radius_neighbors(data, sort_results=True)[1]
    lengths = torch.tensor([len(row) for row in found], dtype=torch.long)
    cols = torch.from_numpy(np.concatenate(found)).long() if n else torch.empty(0, dtype=torch.long)
    rows = torch.arange(n).repeat_interleave(lengths)
    if not loop:
        keep = cols != rows
        cols, rows = cols[keep], rows[keep]
    counts = torch.bincount(rows, minlength=n)
    first = torch.cumsum(counts, 0) - counts  # each point's first pair
    nearest = torch.arange(rows.numel()) - first[rows] < most
    return torch.stack([cols[nearest], rows[nearest]])


def _blocks(
    x: Tensor, start: int, end: int, cosine: bool, loop: bool
) -> Iterator[tuple[Tensor, Tensor]]:
    """An example's query rows in blocks, with their distances to its points (column
    ``c`` is point ``start + c``); a point's distance to itself is ``inf`` without
    ``loop`` and ``0`` with it."""
    points = x[start:end]
    step = max(1, BLOCK // max(1, end - start))
    for lo in range(start, end, step):
        hi = min(end, lo + step)
        # cosine: the rows are unit vectors, so 1 - their products
        dist = 1 - x[lo:hi] @ points.t() if cosine else torch.cdist(x[lo:hi], points)
        own = torch.arange(hi - lo, device=x.device)
        dist[own, own + (lo - start)] = 0.0 if loop else float("inf")
        yield torch.arange(lo, hi, device=x.device), dist


def _edges(parts: list[Tensor], flow: str, device: torch.device) -> Tensor:
    """The blocks' ``[neighbour, point]`` pairs, offset to global ids, in ``flow``'s order."""
    if not parts:
        return torch.empty(2, 0, dtype=torch.long, device=device)
    edge_index = torch.cat(parts, dim=1)
    return edge_index if flow == "source_to_target" else edge_index.flip(0)
