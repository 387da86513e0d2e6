"""knn_graph and radius_graph equal scikit-learn's neighbour searches, example by
example, in PyG's edge convention; the transforms are PyG's on top of them."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.neighbors import NearestNeighbors
from torch_geometric.data import Batch, Data

import gconv.convert.knn
from gconv.convert import knn_graph, radius_graph
from gconv.transforms import KNNGraph, RadiusGraph
from gconv.transforms import KNNGraph as ExportedKNNGraph


@pytest.fixture(params=["blocks", "tree"])
def path(request, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every example searched by its distance matrix, or (on the CPU) by a tree."""
    monkeypatch.setattr(gconv.convert.knn, "TREE", 10**9 if request.param == "blocks" else 8)
    return request.param


def _points(sizes: list[int], dim: int = 3, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(sum(sizes), dim, generator=generator, dtype=torch.float64)
    batch = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))
    return x, batch


def _pairs(edge_index: torch.Tensor) -> set[tuple[int, int]]:
    return {(int(s), int(t)) for s, t in edge_index.t()}


def _reference_knn(x, batch, k: int, loop: bool, metric: str) -> set[tuple[int, int]]:
    """(neighbour, point) pairs from scikit-learn, one example at a time."""
    pairs = set()
    for b in batch.unique().tolist():
        ids = (batch == b).nonzero().view(-1).numpy()
        kk = min(k + (0 if loop else 1), len(ids))
        search = NearestNeighbors(n_neighbors=kk, metric=metric).fit(x[ids].numpy())
        _, near = search.kneighbors(x[ids].numpy())
        for i, row in enumerate(near):
            found = [int(ids[j]) for j in row if loop or ids[j] != ids[i]]
            pairs |= {(j, int(ids[i])) for j in found[:k]}
    return pairs


@pytest.mark.parametrize("loop", [False, True])
@pytest.mark.parametrize("cosine", [False, True])
@pytest.mark.parametrize("sizes", [[40], [12, 1, 30, 3]])
def test_knn_graph_equals_scikit_learn(
    loop: bool, cosine: bool, sizes: list[int], path: str
) -> None:
    x, batch = _points(sizes)
    k = 5
    edge_index = knn_graph(x, k, batch, loop=loop, cosine=cosine, backend="torch")
    metric = "cosine" if cosine else "euclidean"
    assert _pairs(edge_index) == _reference_knn(x, batch, k, loop, metric)
    per_point = torch.bincount(edge_index[1], minlength=x.size(0))
    sizes_of = torch.tensor(sizes).repeat_interleave(torch.tensor(sizes))
    assert per_point.tolist() == torch.clamp(sizes_of - (0 if loop else 1), max=k).tolist()
    # grouped by point, nearest first
    assert bool((edge_index[1][1:] >= edge_index[1][:-1]).all())
    flipped = knn_graph(x, k, batch, loop=loop, cosine=cosine, flow="target_to_source")
    assert torch.equal(flipped, edge_index.flip(0))


def test_knn_graph_in_blocks_equals_one_block(monkeypatch: pytest.MonkeyPatch) -> None:
    x, batch = _points([50, 20])
    whole = knn_graph(x, 4, batch, backend="torch")
    monkeypatch.setattr(gconv.convert.knn, "BLOCK", 60)  # a block of a row or three
    assert torch.equal(knn_graph(x, 4, batch, backend="torch"), whole)


@pytest.mark.parametrize("loop", [False, True])
@pytest.mark.parametrize("sizes", [[60], [25, 2, 40]])
def test_radius_graph_equals_scikit_learn(loop: bool, sizes: list[int], path: str) -> None:
    x, batch = _points(sizes, dim=2)
    r = 0.6
    edge_index = radius_graph(x, r, batch, loop=loop, max_num_neighbors=100, backend="torch")
    expected = set()
    for b in range(len(sizes)):
        ids = (batch == b).nonzero().view(-1).numpy()
        search = NearestNeighbors(radius=r).fit(x[ids].numpy())
        for i, row in enumerate(search.radius_neighbors(x[ids].numpy())[1]):
            expected |= {(int(ids[j]), int(ids[i])) for j in row if loop or j != i}
    assert _pairs(edge_index) == expected


def test_radius_graph_keeps_the_nearest_max_num_neighbors(path: str) -> None:
    x = torch.tensor([[0.0], [0.1], [0.3], [0.2], [5.0]] + [[9.0 + i] for i in range(8)])
    edge_index = radius_graph(x, 1.0, max_num_neighbors=2, backend="torch")
    into_0 = edge_index[0][edge_index[1] == 0].tolist()
    assert into_0 == [1, 3]  # the two nearest within the radius, nearest first
    assert 4 not in edge_index[0].tolist()  # nothing is within 1.0 of the far point


def test_coinciding_points_give_each_point_k_others(path: str) -> None:
    x = torch.tensor([[0.0, 0.0]] * 6 + [[1.0, 1.0]] * 6)
    edge_index = knn_graph(x, 3, backend="torch")
    assert torch.bincount(edge_index[1]).tolist() == [3] * 12
    assert bool((edge_index[0] != edge_index[1]).all())
    assert all((s < 6) == (t < 6) for s, t in edge_index.t().tolist())  # the nearest


def test_a_batch_with_empty_examples_and_batch_size() -> None:
    x = torch.randn(5, 2)
    batch = torch.tensor([0, 0, 2, 2, 2])  # example 1 is empty
    edge_index = knn_graph(x, 1, batch, batch_size=4, backend="torch")
    assert edge_index.size(1) == 5
    assert all((s < 2) == (t < 2) for s, t in edge_index.t().tolist())  # within examples
    assert knn_graph(torch.randn(1, 2), 3, backend="torch").shape == (2, 0)


def test_the_transforms_set_edges_from_pos_per_example() -> None:
    graphs = [Data(pos=torch.randn(n, 2), edge_attr=torch.ones(1)) for n in (6, 9)]
    batch = Batch.from_data_list(graphs)
    out = KNNGraph(k=3, force_undirected=True)(batch.clone())
    assert out.edge_attr is None and ExportedKNNGraph is KNNGraph
    expected = knn_graph(batch.pos, 3, batch.batch)
    assert _pairs(out.edge_index) == _pairs(expected) | _pairs(expected.flip(0))
    out = RadiusGraph(r=0.5)(batch.clone())
    assert torch.equal(out.edge_index, radius_graph(batch.pos, 0.5, batch.batch))
    assert repr(KNNGraph(k=3)) == "KNNGraph(k=3)" and repr(RadiusGraph(0.5)) == "RadiusGraph(r=0.5)"


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: knn_graph(torch.randn(4, 2), 0), ValueError, "knn_graph: k must be >= 1"),
        (lambda: knn_graph([[0.0]], 1), TypeError, "knn_graph: x must be a torch.Tensor"),
        (lambda: knn_graph(torch.ones(4, 2, dtype=torch.long), 1), ValueError, "floating"),
        (
            lambda: knn_graph(torch.randn(4, 2), 1, torch.tensor([1, 0, 0, 0])),
            ValueError,
            "batch must be sorted",
        ),
        (
            lambda: knn_graph(torch.randn(4, 2), 1, torch.zeros(3, dtype=torch.long)),
            ValueError,
            r"batch must be an integer \[4\] tensor",
        ),
        (lambda: knn_graph(torch.randn(4, 2), 1, flow="up"), ValueError, "flow must be one of"),
        (lambda: knn_graph(torch.randn(4, 2), 1, backend="gpu"), ValueError, "backend must be"),
        (lambda: radius_graph(torch.randn(4, 2), 0), ValueError, "r must be a number > 0"),
        (lambda: KNNGraph(k=0), ValueError, "KNNGraph: k must be >= 1"),
        (lambda: KNNGraph()(Data(x=torch.randn(3, 2))), ValueError, "must carry pos"),
        (lambda: RadiusGraph(r=-1.0), ValueError, "RadiusGraph: r must be a number > 0"),
    ],
)
def test_a_wrong_argument_is_named(call, error, match: str) -> None:
    with pytest.raises(error, match=match):
        call()


def test_pyg_backend_is_pyg_s_operator_where_it_is_installed() -> None:
    import torch_geometric.typing

    x, batch = _points([30, 10])
    if not torch_geometric.typing.WITH_KNN:
        with pytest.raises(TypeError, match="backend 'pyg' needs PyG's operator"):
            knn_graph(x, 3, batch, backend="pyg")
        return
    ours = knn_graph(x, 3, batch, backend="torch")
    assert _pairs(knn_graph(x, 3, batch, backend="pyg")) == _pairs(ours)


def test_knn_graph_on_integer_points_takes_the_points_either_side() -> None:
    x = torch.tensor(np.random.default_rng(0).permutation(20), dtype=torch.float32).view(-1, 1)
    edge_index = knn_graph(x, 2, backend="torch")
    for i in range(20):  # integer points: neighbours at distance 1 and 2 (or both at 1)
        found = x[edge_index[0][edge_index[1] == i]].view(-1)
        distances = sorted(abs(float(v) - float(x[i])) for v in found)
        assert distances in ([1.0, 1.0], [1.0, 2.0])
