import pytest
import torch
from torch.testing import assert_close
from torch_geometric.nn import GCNConv
from torch_geometric.utils import to_undirected

from gconv.graph import adjacency_matrix, normalized_adjacency
from gconv.nn import GCNLayer


def _graph(n: int = 10, e: int = 30) -> torch.Tensor:
    edge_index = torch.randint(0, n, (2, e))
    return to_undirected(edge_index[:, edge_index[0] != edge_index[1]], num_nodes=n)


# every constructor combination that PyG's GCNConv accepts (it refuses self-loops
# without normalization)
PYG_COMBINATIONS = [
    dict(improved=improved, cached=cached, add_self_loops=loops, normalize=normalize, bias=bias)
    for improved in (False, True)
    for cached in (False, True)
    for loops in (None, True, False)
    for normalize in (True, False)
    for bias in (True, False)
    if not (loops and not normalize)
]


@pytest.mark.parametrize(
    "kwargs", PYG_COMBINATIONS, ids=lambda k: "-".join(f"{v}" for v in k.values())
)
@pytest.mark.parametrize("weighted", [False, True])
def test_equals_pyg_gcnconv(kwargs: dict, weighted: bool) -> None:
    edge_index = _graph()
    edge_index = torch.cat([edge_index, torch.tensor([[3], [3]])], dim=1)  # one existing loop
    weight = torch.rand(edge_index.size(1)) if weighted else None
    ours = GCNLayer(16, 32, **kwargs)
    reference = GCNConv(16, 32, **kwargs)
    if kwargs["bias"]:
        torch.nn.init.normal_(ours.bias)
    reference.load_state_dict(ours.state_dict())
    x = torch.randn(10, 16, requires_grad=True)
    # PyG 2.8 fills loops with 2 only beside edge weights: unweighted, its improved=True
    # adds I, not the documented 2I. The reference gets explicit ones there, which is
    # what its documentation (and Kipf and Welling's A + 2I) says.
    ones = torch.ones(edge_index.size(1)) if kwargs["improved"] and weight is None else weight
    for _ in range(2):  # the second call reads the cache where cached=True
        out, expected = ours(x, edge_index, weight), reference(x, edge_index, ones)
        assert_close(out, expected)
    (grad,) = torch.autograd.grad(out.square().sum(), x)
    (grad_ref,) = torch.autograd.grad(expected.square().sum(), x)
    assert_close(grad, grad_ref)


def test_takes_gcnconv_positional_arguments_and_attributes() -> None:
    ours, reference = (
        GCNLayer(4, 3, True, True, False, True, False),
        GCNConv(4, 3, True, True, False, True, False),
    )
    for name in (
        "in_channels",
        "out_channels",
        "improved",
        "cached",
        "add_self_loops",
        "normalize",
    ):
        assert getattr(ours, name) == getattr(reference, name), name
    assert ours.bias is None
    assert GCNLayer(4, 3).add_self_loops and not GCNLayer(4, 3, normalize=False).add_self_loops


def test_lazy_in_channels_like_pyg() -> None:
    edge_index = _graph()
    ours, reference = GCNLayer(-1, 8), GCNConv(-1, 8)
    x = torch.randn(10, 5)
    ours(x, edge_index), reference(x, edge_index)  # both infer in_channels = 5
    reference.load_state_dict(ours.state_dict())
    assert_close(ours(x, edge_index), reference(x, edge_index))


def test_equals_dense_lecture_formula() -> None:
    edge_index = _graph()
    layer = GCNLayer(8, 4).double()
    torch.nn.init.normal_(layer.bias)
    x = torch.randn(10, 8, dtype=torch.float64)
    a = adjacency_matrix(edge_index, 10).double()
    d = torch.diag((a + torch.eye(10, dtype=torch.float64)).sum(1).pow(-0.5))
    expected = d @ (a + torch.eye(10, dtype=torch.float64)) @ d @ x @ layer.lin.weight.t()
    assert_close(layer(x, edge_index), expected + layer.bias)


@pytest.mark.parametrize("mode", ["rw", "none"])
def test_other_normalizations_equal_dense(mode: str) -> None:
    edge_index = torch.randint(0, 6, (2, 14))
    layer = GCNLayer(3, 2, normalize=mode, add_self_loops=True, bias=False)
    x = torch.randn(6, 3)
    a = normalized_adjacency(adjacency_matrix(edge_index, 6), mode=mode)
    assert_close(layer(x, edge_index), a @ x @ layer.lin.weight.t())


def test_gradients_flow() -> None:
    layer = GCNLayer(4, 3)
    x = torch.randn(10, 4, requires_grad=True)
    layer(x, _graph()).sum().backward()
    assert x.grad is not None and layer.lin.weight.grad is not None
    assert torch.isfinite(x.grad).all()


def test_cached_layer_recomputes_for_a_different_graph() -> None:
    x = torch.randn(10, 4)
    cached, fresh = GCNLayer(4, 3, cached=True), GCNLayer(4, 3)
    fresh.load_state_dict(cached.state_dict())
    first, second = _graph(), _graph()
    assert_close(cached(x, first), fresh(x, first))
    # PyG's GCNConv(cached=True) would reuse the first graph's normalization here
    stale = GCNConv(4, 3, cached=True)
    stale.load_state_dict(cached.state_dict())
    stale(x, first)
    assert not torch.allclose(stale(x, second), fresh(x, second))
    assert_close(cached(x, second), fresh(x, second))


def test_cached_layer_sees_in_place_changes_and_equal_copies() -> None:
    x = torch.randn(10, 4)
    layer = GCNLayer(4, 3, cached=True)
    edge_index = _graph()
    layer(x, edge_index)
    hit = layer._cache.value
    layer(x, edge_index.clone())  # an equal graph is a hit
    assert layer._cache.value is hit
    edge_index[1, 0] = (edge_index[1, 0] + 1) % 10  # modified in place: a new graph
    reference = GCNLayer(4, 3)
    reference.load_state_dict(layer.state_dict())
    assert_close(layer(x, edge_index), reference(x, edge_index))
    assert layer._cache.value is not hit


def test_cached_layer_sees_changed_weights() -> None:
    x, edge_index = torch.randn(10, 4), _graph()
    layer, reference = GCNLayer(4, 3, cached=True), GCNLayer(4, 3)
    reference.load_state_dict(layer.state_dict())
    w = torch.rand(edge_index.size(1))
    layer(x, edge_index, w)
    w2 = torch.rand(edge_index.size(1))
    assert_close(layer(x, edge_index, w2), reference(x, edge_index, w2))


def test_repr_is_api() -> None:
    assert repr(GCNLayer(16, 32)) == "GCNLayer(16, 32)"


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda layer: layer(torch.randn(10, 5), _graph()),
            ValueError,
            r"GCNLayer: x must have 4 columns",
        ),
        (lambda layer: layer(torch.randn(10), _graph()), ValueError, "x must be 2-D"),
        (lambda layer: layer(torch.randn(5, 4), _graph()), ValueError, "out of range for 5 nodes"),
        (
            lambda layer: layer(torch.randn(10, 4), _graph()[0]),
            ValueError,
            "edge_index must have shape",
        ),
        (lambda layer: layer(torch.randn(10, 4), _graph().float()), TypeError, "integer tensor"),
        (lambda layer: layer(torch.ones(10, 4, dtype=torch.long), _graph()), TypeError, "floating"),
    ],
)
def test_bad_input(call, error, message: str) -> None:
    with pytest.raises(error, match=message):
        call(GCNLayer(4, 3))


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="GCNLayer: normalize must be one of"):
        GCNLayer(4, 3, normalize="left")
    with pytest.raises(TypeError, match="GCNLayer: improved must be a bool"):
        GCNLayer(4, 3, improved="yes")
    with pytest.raises(ValueError, match="GCNLayer: flow must be one of"):
        GCNLayer(4, 3, flow="both")
    with pytest.raises(ValueError, match="GCNLayer: does not support adding self-loops"):
        GCNLayer(4, 3, normalize=False, add_self_loops=True)
    with pytest.raises(ValueError, match="GCNLayer: in_channels must be >= 1"):
        GCNLayer(0, 3)


@pytest.mark.parametrize("normalize", ["sym", "rw", "none", False])
@pytest.mark.parametrize("improved", [False, True])
@pytest.mark.parametrize(("k", "connectivity"), [(3, 8), (3, 4), (5, 8)])
@pytest.mark.parametrize(("widths", "bias"), [((4, 5), True), ((5, 3), True), ((4, 5), False)])
def test_grid_path_equals_message_passing(
    normalize, improved: bool, k: int, connectivity: int, widths: tuple[int, int], bias: bool
) -> None:
    # a widening layer scales its input, a narrowing one its product (both are checked)
    from gconv.convert import images_to_graphs

    batch = images_to_graphs(
        torch.randn(3, widths[0], 7, 6), kernel_size=k, connectivity=connectivity
    )
    layer = GCNLayer(*widths, improved=improved, normalize=normalize, bias=bias).double()
    if bias:
        torch.nn.init.normal_(layer.bias)
    x = batch.x.double().requires_grad_(True)
    inputs = [x, *layer.parameters()]
    fast = layer(x, batch.edge_index, grid_shape=batch.grid_shape)
    grads_fast = torch.autograd.grad(fast.pow(2).sum(), inputs)
    slow = layer(x, batch.edge_index)
    grads_slow = torch.autograd.grad(slow.pow(2).sum(), inputs)
    assert_close(fast, slow)
    assert_close(grads_fast, grads_slow)


def test_grid_path_without_self_loops_in_the_graph() -> None:
    from gconv.convert import grid_graph

    graph = grid_graph(5, 5, self_loops=False)
    x = torch.randn(25, 3)
    for add, improved in [(True, False), (True, True), (False, False)]:
        layer = GCNLayer(3, 2, improved, add_self_loops=add)
        fast = layer(x, graph.edge_index, grid_shape=(1, 5, 5))
        assert_close(fast, layer(x, graph.edge_index))


def test_grid_path_rejects_a_graph_that_is_not_the_grid() -> None:
    from gconv.convert import images_to_graphs

    batch = images_to_graphs(torch.randn(2, 1, 4, 4))
    layer = GCNLayer(1, 2)
    with pytest.raises(ValueError, match=r"GCNLayer: grid_shape=.* is not the full"):
        layer(batch.x, batch.edge_index[:, :-1], grid_shape=batch.grid_shape)
    with pytest.raises(ValueError, match="GCNLayer: grid_shape must be"):
        layer(batch.x, batch.edge_index, grid_shape=(3, 4, 4))
