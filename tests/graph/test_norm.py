import pytest
import torch
from torch.testing import assert_close
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import to_dense_adj, to_undirected

import gconv
from gconv.graph import adjacency_matrix, gcn_normalize, normalized_adjacency


def _dense(edge_index: torch.Tensor, weight: torch.Tensor, n: int) -> torch.Tensor:
    return adjacency_matrix(edge_index, n, weight)


def _random_graph(n: int = 7, e: int = 20, *, loops: bool = True) -> torch.Tensor:
    edge_index = torch.randint(0, n, (2, e))
    if not loops:
        edge_index = edge_index[:, edge_index[0] != edge_index[1]]
    return edge_index


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("add_self_loops", [True, False])
def test_sym_equals_pyg_gcn_norm(weighted: bool, add_self_loops: bool) -> None:
    edge_index = _random_graph()
    weight = torch.rand(edge_index.size(1)) if weighted else None
    ours = gcn_normalize(edge_index, weight, 7, add_self_loops=add_self_loops)
    theirs = gcn_norm(edge_index, weight, 7, add_self_loops=add_self_loops)
    assert_close(_dense(*ours, 7), _dense(*theirs, 7))


def test_sym_equals_dense_lecture_formula() -> None:
    edge_index = to_undirected(_random_graph(loops=False), num_nodes=7)
    a = to_dense_adj(edge_index, max_num_nodes=7)[0].double()
    a_hat = a + torch.eye(7, dtype=torch.float64)
    d_inv_sqrt = torch.diag(a_hat.sum(1).pow(-0.5))
    expected = d_inv_sqrt @ a_hat @ d_inv_sqrt
    ei, w = gcn_normalize(edge_index, torch.ones(edge_index.size(1), dtype=torch.float64), 7)
    assert_close(_dense(ei, w, 7), expected)
    assert_close(normalized_adjacency(a), expected)


@pytest.mark.parametrize("weighted", [False, True])
def test_rw_incoming_weights_sum_to_one(weighted: bool) -> None:
    edge_index = _random_graph(n=6, e=15)  # directed, with some self-loops
    weight = torch.rand(edge_index.size(1)) + 0.1 if weighted else None
    ei, w = gcn_normalize(edge_index, weight, 6, mode="rw")
    incoming = torch.zeros(6).index_add_(0, ei[1], w)
    assert_close(incoming, torch.ones(6))
    dense = adjacency_matrix(edge_index, 6, weight)
    assert_close(_dense(ei, w, 6), normalized_adjacency(dense, mode="rw"))
    assert_close(normalized_adjacency(dense, mode="rw").sum(1), torch.ones(6))


def test_rw_averages_what_flows_in() -> None:
    # 0 -> 2 and 1 -> 2: node 2 averages nodes 0, 1 and itself
    ei, w = gcn_normalize(torch.tensor([[0, 1], [2, 2]]), num_nodes=3, mode="rw")
    x = torch.tensor([[3.0], [6.0], [9.0]])
    out = torch.zeros(3, 1).index_add_(0, ei[1], w.view(-1, 1) * x[ei[0]])
    assert_close(out, torch.tensor([[3.0], [6.0], [6.0]]))


def test_none_leaves_weights_alone() -> None:
    edge_index = torch.tensor([[0, 1], [1, 0]])
    weight = torch.tensor([2.0, 3.0])
    ei, w = gcn_normalize(edge_index, weight, 3, mode="none")
    assert_close(_dense(ei, w, 3), torch.tensor([[1.0, 3.0, 0], [2.0, 1.0, 0], [0, 0, 1.0]]))
    ei, w = gcn_normalize(edge_index, weight, 3, mode="none", add_self_loops=False)
    assert torch.equal(ei, edge_index) and torch.equal(w, weight)


@pytest.mark.parametrize("mode", ["sym", "rw", "none"])
def test_existing_self_loops_are_not_doubled(mode: str) -> None:
    edge_index = torch.tensor([[0, 0, 1], [0, 1, 0]])
    weight = torch.tensor([5.0, 1.0, 1.0])
    ei, w = gcn_normalize(edge_index, weight, 3, mode=mode)
    loops = ei[0] == ei[1]
    assert loops.sum() == 3  # one loop per node, not two on node 0
    dense = adjacency_matrix(edge_index, 3, weight)
    assert_close(_dense(ei, w, 3), normalized_adjacency(dense, mode=mode))
    if mode == "none":
        assert _dense(ei, w, 3)[0, 0] == 5.0


@pytest.mark.parametrize("mode", ["sym", "rw"])
def test_isolated_nodes_give_no_nan(mode: str) -> None:
    edge_index = torch.tensor([[0], [1]])
    _, w = gcn_normalize(edge_index, num_nodes=4, mode=mode, add_self_loops=False)
    assert torch.isfinite(w).all()
    a = normalized_adjacency(adjacency_matrix(edge_index, 4), mode=mode, add_self_loops=False)
    assert torch.isfinite(a).all() and a[2:].abs().sum() == 0


def test_num_nodes_inferred_and_empty_graph() -> None:
    ei, w = gcn_normalize(torch.tensor([[0, 1], [1, 2]]))
    assert ei.max() == 2 and (ei[0] == ei[1]).sum() == 3
    _, w = gcn_normalize(torch.empty(2, 0, dtype=torch.long), num_nodes=2)
    assert_close(w, torch.ones(2))


def test_adjacency_matrix_is_target_by_source() -> None:
    edge_index = torch.tensor([[0, 0, 2], [1, 1, 0]])
    adj = adjacency_matrix(edge_index, 3)
    assert adj[1, 0] == 2.0 and adj[0, 2] == 1.0 and adj.sum() == 3.0  # repeats add up
    assert_close(adj, to_dense_adj(edge_index, max_num_nodes=3)[0].t())


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: gcn_normalize(torch.tensor([0, 1])), ValueError, r"shape \[2, num_edges\]"),
        (lambda: gcn_normalize(torch.tensor([[0.0], [1.0]])), TypeError, "integer tensor"),
        (lambda: gcn_normalize(torch.tensor([[0], [5]]), num_nodes=3), ValueError, "node id 5"),
        (lambda: gcn_normalize(torch.tensor([[-1], [0]])), ValueError, ">= 0"),
        (lambda: gcn_normalize(torch.tensor([[0], [1]]), mode="left"), ValueError, "mode"),
        (
            lambda: gcn_normalize(torch.tensor([[0], [1]]), torch.ones(2)),
            ValueError,
            r"edge_weight must have shape \[1\]",
        ),
        (
            lambda: gcn_normalize(torch.tensor([[0], [1]]), torch.tensor([-3.0])),
            ValueError,
            "negative weighted in-degree",
        ),
        (lambda: normalized_adjacency(torch.ones(2, 3)), ValueError, "square"),
        (lambda: adjacency_matrix(torch.tensor([[0], [3]]), 2), ValueError, "out of range"),
    ],
)
def test_bad_input(call, error, message: str) -> None:
    with pytest.raises(error, match=message):
        call()


def test_exported_at_top_level() -> None:
    assert gconv.graph.gcn_normalize is gcn_normalize
