import pytest
import torch
from torch.testing import assert_close

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


@pytest.mark.parametrize(("batch_norm", "residual"), [(True, True), (False, False), (True, False)])
def test_equals_the_equations(batch_norm: bool, residual: bool) -> None:
    torch.manual_seed(0)
    layer = GatedGCNLayer(4, 4, batch_norm=batch_norm, residual=residual).double()
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
