import pytest
import torch
from torch.testing import assert_close

from gconv.graph._gated_aggregate import gated_aggregate
from gconv.nn import GatedGCNLayer


def _equations(layer: GatedGCNLayer, x, edge_index, e):
    """Bresson and Laurent's layer, edge by edge, as Dwivedi et al. write it."""
    c = layer.out_channels
    w, b = layer.node_lin.weight, layer.node_lin.bias
    A, B, D, E = (
        lambda v, i=i: v @ w[i * c : (i + 1) * c].T + b[i * c : (i + 1) * c] for i in range(4)
    )
    C = layer.edge_lin
    n = x.size(0)
    e_hat = torch.stack(
        [C(e[k]) + D(x[i]) + E(x[j]) for k, (j, i) in enumerate(edge_index.T.tolist())]
    )
    h_hat = []
    for i in range(n):
        incoming = [k for k, t in enumerate(edge_index[1].tolist()) if t == i]
        gates = torch.sigmoid(e_hat[incoming]) if incoming else torch.zeros(0, c)
        total = gates.sum(0) + 1e-6
        messages = sum(
            (g * B(x[edge_index[0, k]]) for g, k in zip(gates, incoming, strict=True)),
            torch.zeros(c),
        )
        h_hat.append(A(x[i]) + messages / total)
    h_hat = torch.stack(h_hat)
    h = torch.relu(layer.norm_h(h_hat))
    e_out = torch.relu(layer.norm_e(e_hat))
    if layer.residual:
        h, e_out = x + h, e + e_out
    return h, e_out


@pytest.mark.parametrize("fused", [False, True])
@pytest.mark.parametrize(("batch_norm", "residual"), [(True, True), (False, False), (True, False)])
def test_equals_the_equations(batch_norm: bool, residual: bool, fused: bool) -> None:
    torch.manual_seed(0)
    layer = GatedGCNLayer(4, 4, batch_norm=batch_norm, residual=residual, fused=fused).double()
    if batch_norm:  # non-trivial running statistics, compared in eval mode
        for norm in (layer.norm_h, layer.norm_e):
            norm.running_mean.uniform_(-1, 1)
            norm.running_var.uniform_(0.5, 2)
    layer.eval()
    x = torch.randn(6, 4, dtype=torch.float64)
    edge_index = torch.tensor([[0, 1, 2, 3, 4, 0, 5], [1, 2, 3, 4, 0, 2, 2]])
    e = torch.randn(7, 4, dtype=torch.float64)
    h, e_out = layer(x, edge_index, e)
    expected_h, expected_e = _equations(layer, x, edge_index, e)
    assert_close(h, expected_h)
    assert_close(e_out, expected_e)


def test_widths_and_checks() -> None:
    layer = GatedGCNLayer(3, 5)
    assert not layer.residual and repr(layer) == "GatedGCNLayer(3, 5)"
    edge_index = torch.tensor([[0, 1], [1, 0]])
    h, e = layer(torch.randn(2, 3), edge_index, torch.randn(2, 3))
    assert h.shape == (2, 5) and e.shape == (2, 5)
    with pytest.raises(ValueError, match=r"GatedGCNLayer: edge_attr must have shape \[2, 3\]"):
        layer(torch.randn(2, 3), edge_index, torch.randn(2, 4))
    h_none, _ = layer(torch.randn(2, 3), edge_index)  # edge_attr is optional, as documented
    assert h_none.shape == (2, 5)
    with pytest.raises(ValueError, match=r"GatedGCNLayer: dropout must be in \[0, 1\] \(got 2"):
        GatedGCNLayer(3, 5, dropout=2.0)
    with pytest.raises(TypeError, match="GatedGCNLayer: residual must be a bool"):
        GatedGCNLayer(3, 5, residual="yes")


def _random_graph(n: int, m: int, channels: int) -> tuple[torch.Tensor, ...]:
    """Nodes with no incoming edge, repeated edges and self loops included."""
    edge_index = torch.randint(0, n - 2, (2, m))  # the last two nodes receive nothing
    edge_index[:, :3] = torch.tensor([[1, 1, 2], [2, 2, 2]])  # a repeated edge, a loop
    x = torch.randn(n, channels, dtype=torch.float64, requires_grad=True)
    e = torch.randn(m, channels, dtype=torch.float64, requires_grad=True)
    return x, edge_index, e


@pytest.mark.parametrize(("batch_norm", "residual"), [(True, True), (False, False)])
@pytest.mark.parametrize("training", [True, False])
def test_fused_path_equals_propagate(batch_norm: bool, residual: bool, training: bool) -> None:
    """The fused path's outputs and every gradient (inputs and weights) equal the
    ``propagate`` path's."""
    torch.manual_seed(0)
    reference = GatedGCNLayer(5, 5, batch_norm=batch_norm, residual=residual).double()
    fused = GatedGCNLayer(5, 5, batch_norm=batch_norm, residual=residual, fused=True).double()
    fused.load_state_dict(reference.state_dict())
    reference.train(training)
    fused.train(training)
    x, edge_index, e = _random_graph(12, 40, 5)
    grads = []
    for layer in (reference, fused):
        h, e_out = layer(x, edge_index, e)
        torch.manual_seed(1)  # the same upstream gradients for both paths
        loss = (h * torch.randn_like(h)).sum() + (e_out * torch.randn_like(e_out)).sum()
        grads.append((h, e_out, *torch.autograd.grad(loss, [x, e, *layer.parameters()])))
    for got, expected in zip(grads[1], grads[0], strict=True):
        assert_close(got, expected)


def test_gated_aggregate_gradcheck() -> None:
    torch.manual_seed(0)
    n, m, c = 6, 14, 3
    source, target = torch.randint(0, n - 1, (2, m))  # node n-1 receives nothing
    e_hat = torch.randn(m, c, dtype=torch.float64, requires_grad=True)
    bh = torch.randn(n, c, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda a, b: gated_aggregate(a, b, source, target, 1e-6), (e_hat, bh)
    )


@pytest.mark.parametrize("fused", [False, True])
def test_no_edge_features_are_zero_edge_features(fused: bool) -> None:
    torch.manual_seed(0)
    layer = GatedGCNLayer(5, 5, fused=fused).double()
    x, edge_index, e = _random_graph(12, 40, 5)
    h, e_out = layer(x, edge_index, None)
    expected_h, expected_e = layer(x, edge_index, torch.zeros_like(e))
    assert_close(h, expected_h)
    assert_close(e_out, expected_e)
    h_hat, e_hat = layer.gate_and_aggregate(x, edge_index, None)
    assert_close(torch.relu(layer.norm_h(h_hat)) + x, h)
    assert_close(torch.relu(layer.norm_e(e_hat)), e_out)
