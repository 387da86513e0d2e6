"""GCNLayer takes what PyG's GCNConv takes beyond edge lists: sparse adjacency matrices,
static graphs, attributes changed after construction, torch.compile; and where the two
differ on purpose, a test says why."""

import pytest
import torch
from torch.testing import assert_close
from torch_geometric.nn import GCNConv
from torch_geometric.utils import to_torch_coo_tensor

from gconv.nn import GCNLayer


def _graph(n: int = 10, e: int = 30, loop: bool = True) -> torch.Tensor:
    edge_index = torch.randint(0, n, (2, e))
    if loop:  # one existing self-loop: PyG adds I to a matrix, but not to an edge list
        edge_index = torch.cat([edge_index, torch.tensor([[3], [3]])], dim=1)
    return edge_index


def _pair(**kwargs) -> tuple[GCNLayer, GCNConv]:
    ours, reference = GCNLayer(16, 8, **kwargs), GCNConv(16, 8, **kwargs)
    if ours.bias is not None:
        torch.nn.init.normal_(ours.bias)
    reference.load_state_dict(ours.state_dict())
    return ours, reference


def _adjacency(edge_index: torch.Tensor, weight, layout: torch.layout) -> torch.Tensor:
    """adj_t, a row per target, as PyG's layers take it, in ``layout``."""
    adj_t = to_torch_coo_tensor(edge_index.flip(0), weight, size=(10, 10))
    if layout == torch.sparse_csr:
        return adj_t.to_sparse_csr()
    if layout == torch.sparse_csc:
        return adj_t.to_sparse_csc()
    return adj_t


@pytest.mark.parametrize("layout", [torch.sparse_coo, torch.sparse_csr, torch.sparse_csc])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(
    "kwargs", [{}, {"improved": True}, {"normalize": False}, {"add_self_loops": False}]
)
def test_sparse_adjacency_equals_pyg(layout, weighted: bool, kwargs: dict) -> None:
    edge_index = _graph()
    weight = torch.rand(edge_index.size(1)) if weighted else None
    ours, reference = _pair(**kwargs)
    x = torch.randn(10, 16, requires_grad=True)
    # PyG's gcn_norm refuses CSC; the same matrix as COO is its reference
    theirs = _adjacency(
        edge_index, weight, torch.sparse_coo if layout == torch.sparse_csc else layout
    )
    out, expected = ours(x, _adjacency(edge_index, weight, layout)), reference(x, theirs)
    assert_close(out, expected)
    (grad,) = torch.autograd.grad(out.square().sum(), x)
    (grad_ref,) = torch.autograd.grad(expected.square().sum(), x)
    assert_close(grad, grad_ref)


def test_sparse_adjacency_with_edge_weight_or_reversed_flow_is_refused() -> None:
    adj_t = _adjacency(_graph(), None, torch.sparse_csr)
    with pytest.raises(ValueError, match="edge_weight must be None when edge_index is a sparse"):
        GCNLayer(16, 8)(torch.randn(10, 16), adj_t, torch.rand(31))
    with pytest.raises(ValueError, match="flow 'target_to_source' is invalid"):
        GCNLayer(16, 8, flow="target_to_source")(torch.randn(10, 16), adj_t)
    with pytest.raises(ValueError, match=r"sparse adjacency must be \[12, 12\]"):
        GCNLayer(16, 8)(torch.randn(12, 16), adj_t)


@pytest.mark.parametrize("weighted", [False, True])
def test_static_graph_equals_each_signal_alone_and_pyg(weighted: bool) -> None:
    edge_index = _graph()
    weight = torch.rand(edge_index.size(1)) if weighted else None
    ours, reference = _pair()
    x = torch.randn(3, 10, 16)  # three signals on one graph (PyG's node_dim=-2)
    out = ours(x, edge_index, weight)
    assert out.shape == (3, 10, 8)
    assert_close(out, reference(x, edge_index, weight))
    for signal in range(3):
        assert_close(out[signal], ours(x[signal], edge_index, weight))


@pytest.mark.parametrize(
    ("attribute", "value"),
    [
        ("flow", "target_to_source"),
        ("normalize", False),
        ("improved", True),
        ("add_self_loops", False),
    ],
)
@pytest.mark.parametrize("cached", [False, True])
def test_attributes_set_after_construction_act_as_in_pyg(attribute, value, cached) -> None:
    """PyG reads these on every call; so does GCNLayer, and a cached normalization made
    under the old settings is not reused."""
    edge_index = torch.cat([_graph(loop=False), torch.tensor([[3], [3]])], dim=1)
    weight = torch.rand(edge_index.size(1))  # PyG's improved fills 2 only beside weights
    ours, reference = _pair(cached=cached)
    x = torch.randn(10, 16)
    ours(x, edge_index, weight)  # fills the cache under the old settings
    setattr(ours, attribute, value)
    setattr(reference, attribute, value)
    assert_close(ours(x, edge_index, weight), reference(x, edge_index, weight))


def test_reversed_flow_is_the_reversed_graph() -> None:
    edge_index = _graph()
    forward, backward = GCNLayer(16, 8), GCNLayer(16, 8, flow="target_to_source")
    backward.load_state_dict(forward.state_dict())
    x = torch.randn(10, 16)
    assert_close(backward(x, edge_index.flip(0)), forward(x, edge_index))


def test_a_tuple_of_features_is_both_gconvs_type_error_and_pygs_value_error() -> None:
    x, edge_index = torch.randn(10, 16), _graph()
    for caught in (TypeError, ValueError):  # PyG's GCNConv raises ValueError here
        with pytest.raises(caught, match="GCNLayer: x must be one node feature tensor"):
            GCNLayer(16, 8)(x=(x, x), edge_index=edge_index)
    with pytest.raises(ValueError):
        GCNConv(16, 8)((x, x), edge_index)


@pytest.mark.parametrize("weighted", [False, True])
def test_compiles_as_one_graph(weighted: bool) -> None:
    """The edge-id range check reads tensor values; it runs in eager calls only, so
    ``fullgraph=True`` compiles (``aot_eager``: no C++ toolchain needed)."""
    edge_index = _graph()
    weight = torch.rand(edge_index.size(1)) if weighted else None
    layer = GCNLayer(16, 8)
    compiled = torch.compile(layer, fullgraph=True, backend="aot_eager")
    x = torch.randn(10, 16, requires_grad=True)
    out, expected = compiled(x, edge_index, weight), layer(x, edge_index, weight)
    assert_close(out, expected)
    (grad,) = torch.autograd.grad(out.sum(), x)
    assert_close(grad, torch.autograd.grad(expected.sum(), x)[0])


def test_improved_without_weights_adds_2i_where_pyg_adds_i() -> None:
    """Deliberate: PyG 2.8's gcn_norm fills self-loops with 2 only beside edge weights,
    so without them its ``improved=True`` computes A + I, not the A + 2I its docs (and
    Kipf and Welling) give. GCNLayer adds 2I either way: with ones as weights, PyG
    agrees."""
    edge_index = _graph(loop=False)
    ours, reference = _pair(improved=True)
    x = torch.randn(10, 16)
    ones = torch.ones(edge_index.size(1))
    assert_close(ours(x, edge_index), reference(x, edge_index, ones))
    assert not torch.allclose(ours(x, edge_index), reference(x, edge_index))
