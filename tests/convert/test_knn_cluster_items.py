"""torch-cluster's ``test/test_knn.py`` and ``test/test_radius.py`` for the graph forms
gconv offers (``knn_graph``, ``radius_graph``): their inputs and expected edge sets, on
every floating dtype torch-cluster's tests use, half precision included."""

from __future__ import annotations

import pytest
import scipy.spatial
import torch
from torch import Tensor

from gconv.convert import knn_graph, radius_graph

DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64]
SQUARE = [[-1, -1], [-1, +1], [+1, +1], [+1, -1]]
SIDES = {(0, 1), (0, 3), (1, 0), (1, 2), (2, 1), (2, 3), (3, 0), (3, 2)}  # no diagonals


def to_set(edge_index: Tensor) -> set[tuple[int, int]]:
    return {(i, j) for i, j in edge_index.t().tolist()}


@pytest.mark.parametrize("dtype", DTYPES)
def test_knn_graph(dtype: torch.dtype) -> None:
    x = torch.tensor(SQUARE, dtype=dtype)
    assert to_set(knn_graph(x, k=2, flow="target_to_source")) == SIDES
    assert to_set(knn_graph(x, k=2, flow="source_to_target")) == {(j, i) for i, j in SIDES}


@pytest.mark.parametrize("dtype", DTYPES)
def test_radius_graph(dtype: torch.dtype) -> None:
    x = torch.tensor(SQUARE, dtype=dtype)
    assert to_set(radius_graph(x, r=2.5, flow="target_to_source")) == SIDES
    assert to_set(radius_graph(x, r=2.5, flow="source_to_target")) == {(j, i) for i, j in SIDES}


@pytest.mark.parametrize("dtype", DTYPES)
def test_graphs_of_a_batch_stay_in_their_example(dtype: torch.dtype) -> None:
    x = torch.tensor(SQUARE + SQUARE, dtype=dtype)
    batch = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1])
    second = {(i + 4, j + 4) for i, j in SIDES}
    assert to_set(knn_graph(x, 2, batch, flow="target_to_source")) == SIDES | second
    assert to_set(radius_graph(x, 2.5, batch, flow="target_to_source")) == SIDES | second


def test_knn_graph_large() -> None:
    x = torch.randn(1000, 3)
    edge_index = knn_graph(x, k=5, flow="target_to_source", loop=True)
    _, col = scipy.spatial.cKDTree(x.numpy()).query(x.numpy(), k=5)
    assert to_set(edge_index) == {(i, j) for i, ns in enumerate(col) for j in ns}


def test_radius_graph_large() -> None:
    x = torch.randn(1000, 3)
    edge_index = radius_graph(x, r=0.5, flow="target_to_source", loop=True, max_num_neighbors=2000)
    tree = scipy.spatial.cKDTree(x.numpy())
    col = tree.query_ball_point(x.numpy(), r=0.5)
    assert to_set(edge_index) == {(i, j) for i, ns in enumerate(col) for j in ns}
