"""GATLayer equals PyG's GATConv: on PyG's own test inputs, over GATConv's options, with
gradients, dropout and edge features, and on graphs that change."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close
from torch_geometric.nn import GATConv

from gconv.nn import GATLayer


def _pair(*args, **kwargs) -> tuple[GATLayer, GATConv]:
    torch.manual_seed(0)
    ours = GATLayer(*args, **kwargs).double()
    reference = GATConv(*args, **kwargs).double()
    if ours.bias is not None:
        torch.nn.init.normal_(ours.bias)
    reference.load_state_dict(ours.state_dict())
    return ours, reference


def _graph(n: int = 9, e: int = 30) -> torch.Tensor:
    """Random edges with a repeated edge, an existing self loop and two nodes that
    receive nothing."""
    torch.manual_seed(1)
    edge_index = torch.randint(0, n - 2, (2, e))
    extra = torch.tensor([[0, 0, 4], [1, 1, 4]])
    return torch.cat([edge_index, extra], dim=1)


# PyG's test/nn/conv/test_gat_conv.py, its edge-list cases
@pytest.mark.parametrize("residual", [False, True])
def test_pyg_inputs(residual: bool) -> None:
    x1 = torch.randn(4, 8)
    edge_index = torch.tensor([[0, 1, 2, 3], [0, 0, 1, 1]])
    conv = GATLayer(8, 32, heads=2, residual=residual)
    reference = GATConv(8, 32, heads=2, residual=residual)
    reference.load_state_dict(conv.state_dict())
    assert str(conv) == "GATLayer(8, 32, heads=2)"
    out = conv(x1, edge_index)
    assert out.size() == (4, 64)
    assert_close(out, reference(x1, edge_index))
    assert_close(conv(x1, edge_index, size=(4, 4)), out)
    result = conv(x1, edge_index, return_attention_weights=True)
    assert_close(result[0], out)
    assert result[1][0].size() == (2, 7)
    assert result[1][1].size() == (7, 2)
    assert result[1][1].min() >= 0 and result[1][1].max() <= 1
    expected = reference(x1, edge_index, return_attention_weights=True)
    assert torch.equal(result[1][0], expected[1][0])
    assert_close(result[1][1], expected[1][1])
    # bipartite: GATConv's own path
    x2 = torch.randn(2, 16)
    bipartite = GATLayer((8, 16), 32, heads=2, residual=residual)
    theirs = GATConv((8, 16), 32, heads=2, residual=residual)
    theirs.load_state_dict(bipartite.state_dict())
    assert_close(bipartite((x1, x2), edge_index), theirs((x1, x2), edge_index))


@pytest.mark.parametrize(
    ("edge_dim", "fill_value", "attr_shape"),
    [(1, 0.5, (4,)), (1, "mean", (4,)), (4, 0.5, (4, 4)), (4, "mean", (4, 4))],
)
def test_pyg_inputs_with_edge_attr(edge_dim: int, fill_value, attr_shape) -> None:
    x = torch.randn(4, 8, dtype=torch.float64)
    edge_index = torch.tensor([[0, 1, 2, 3], [1, 0, 1, 1]])
    edge_attr = torch.randn(*attr_shape, dtype=torch.float64)
    ours, reference = _pair(8, 32, heads=2, edge_dim=edge_dim, fill_value=fill_value)
    out = ours(x, edge_index, edge_attr)
    assert out.size() == (4, 64)
    assert_close(out, reference(x, edge_index, edge_attr))


def test_empty_graph() -> None:
    conv = GATLayer(8, 32, heads=2)
    out = conv(torch.randn(0, 8), torch.empty(2, 0, dtype=torch.long))
    assert out.size() == (0, 64)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"heads": 1},
        {"heads": 3},
        {"heads": 3, "concat": False},
        {"heads": 2, "add_self_loops": False},
        {"heads": 2, "negative_slope": 0.01, "bias": False},
        {"heads": 2, "residual": True},
        {"heads": 2, "edge_dim": 3, "fill_value": "mean"},
        {"heads": 2, "edge_dim": 3, "fill_value": 0.5, "add_self_loops": False},
    ],
)
@pytest.mark.parametrize("training", [False, True])
def test_equals_gatconv_with_gradients(kwargs: dict, training: bool) -> None:
    """Outputs, attention weights and every gradient (features, edge features, weights)
    equal GATConv's; in training with dropout on the coefficients, the same seed draws
    the same masks."""
    ours, reference = _pair(5, 4, dropout=0.5 if training else 0.0, **kwargs)
    ours.train(training)
    reference.train(training)
    edge_index = _graph()
    results = []
    for layer in (ours, reference):
        x = torch.randn(9, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
        x.requires_grad_()
        inputs = [x]
        attr = None
        if "edge_dim" in kwargs:
            attr = torch.randn(edge_index.size(1), 3, dtype=torch.float64, requires_grad=True)
            torch.nn.init.uniform_(attr.data, generator=torch.Generator().manual_seed(3))
            inputs.append(attr)
        torch.manual_seed(4)  # the dropout masks
        out, (edges, alpha) = layer(x, edge_index, attr, return_attention_weights=True)
        upstream = torch.randn(
            out.shape, dtype=out.dtype, generator=torch.Generator().manual_seed(5)
        )
        grads = torch.autograd.grad((out * upstream).sum(), [*inputs, *layer.parameters()])
        results.append((out, edges, alpha, *grads))
    for got, expected in zip(*results, strict=True):
        assert_close(got, expected)


def test_a_changed_graph_is_not_served_from_the_cache() -> None:
    ours, reference = _pair(5, 4, heads=2)
    x = torch.randn(9, 5, dtype=torch.float64)
    edge_index = _graph()
    assert_close(ours(x, edge_index), reference(x, edge_index))
    edge_index[0, :5] = 8  # in place: the same tensor, another graph
    assert_close(ours(x, edge_index), reference(x, edge_index))
    other = _graph(9, 12)
    assert_close(ours(x, other), reference(x, other))


def test_half_precision_under_autocast() -> None:
    """bfloat16 autocast on the CPU: the sparse products run in float32 (no bfloat16 CSR
    kernel), and the layer follows GATConv within bfloat16's precision."""
    torch.manual_seed(0)
    ours, reference = GATLayer(8, 4, heads=2), GATConv(8, 4, heads=2)
    reference.load_state_dict(ours.state_dict())
    x, edge_index = torch.randn(9, 8), _graph()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got, expected = ours(x, edge_index), reference(x, edge_index)
    assert_close(got.float(), expected.float(), rtol=0.05, atol=0.05)


@pytest.mark.parametrize("heads", [1, 3])
def test_the_aggregate_equals_a_dense_sum_with_its_gradients(heads: int) -> None:
    """The (node, head) block matrix on a graph of uneven degrees, repeated edges and
    nodes that receive or send nothing; one structure serves two head counts."""
    from gconv.graph._attention import attention_aggregate, structure

    edge_index = _graph()
    n, e = 9, edge_index.size(1)
    graph = structure(edge_index, n)
    for h in (heads, heads + 1):
        torch.manual_seed(h)
        alpha = torch.rand(e, h, dtype=torch.double, requires_grad=True)
        x = torch.randn(n, h, 4, dtype=torch.double, requires_grad=True)
        weights = torch.zeros(h, n, n, dtype=torch.double)  # [head, target, source]
        sorted_alpha = alpha.index_select(0, graph.by_target)  # the aggregate's order
        source, target = edge_index[:, graph.by_target]
        weights = weights.index_put(
            (torch.arange(h).repeat(e), target.repeat_interleave(h), source.repeat_interleave(h)),
            sorted_alpha.reshape(-1),
            accumulate=True,
        )
        expected = torch.einsum("hij,jhc->ihc", weights, x)
        out = attention_aggregate(sorted_alpha, x, graph)
        assert_close(out, expected)
        g = torch.randn_like(out)
        ours = torch.autograd.grad(out, (alpha, x), g, retain_graph=True)
        assert_close(ours, torch.autograd.grad(expected, (alpha, x), g))
    assert sorted(graph.blocks) == [heads, heads + 1]


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((3, 8), {"heads": 0}, ValueError, r"GATLayer: heads must be >= 1 \(got 0\)"),
        ((3, 0), {}, ValueError, r"GATLayer: out_channels must be >= 1 \(got 0\)"),
        ((0, 8), {}, ValueError, r"GATLayer: in_channels must be >= 1 \(got 0\)"),
        (((3, 0), 8), {}, ValueError, r"GATLayer: in_channels\[1\] must be >= 1 \(got 0\)"),
        ((3, 8), {"heads": 2.0}, TypeError, "GATLayer: heads must be an int"),
        ((3, 8), {"dropout": 1.5}, ValueError, r"GATLayer: dropout must be in \[0, 1\]"),
        ((3, 8), {"dropout": "0.5"}, TypeError, "GATLayer: dropout must be a number"),
    ],
)
def test_a_wrong_argument_is_named(args, kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        GATLayer(*args, **kwargs)


def test_lazy_and_bipartite_widths_are_pyg_s() -> None:
    x = torch.randn(4, 3)
    edge_index = torch.tensor([[0, 1, 2], [1, 2, 3]])
    assert GATLayer(-1, 8, heads=2)(x, edge_index).shape == (4, 16)
    assert GATLayer((3, 5), 8)((x, torch.randn(4, 5)), edge_index).shape == (4, 8)
