import pytest
import torch
from torch.testing import assert_close
from torch_geometric.nn import (
    AttentionalAggregation,
    global_add_pool,
    global_max_pool,
    global_mean_pool,
)

from gconv.nn import Readout

POOLS = {"sum": global_add_pool, "mean": global_mean_pool, "max": global_max_pool}


@pytest.mark.parametrize("kind", ["sum", "mean", "max"])
def test_plain_kinds_equal_pyg(kind: str) -> None:
    x = torch.randn(9, 5)
    batch = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 2])
    assert_close(Readout(kind)(x, batch), POOLS[kind](x, batch))
    assert_close(Readout(kind)(x), POOLS[kind](x, None))


def test_mean_max_concatenates() -> None:
    x, batch = torch.randn(6, 3), torch.tensor([0, 0, 1, 1, 1, 1])
    expected = torch.cat([global_mean_pool(x, batch), global_max_pool(x, batch)], dim=1)
    out = Readout("mean_max", channels=3)(x, batch)
    assert_close(out, expected)
    assert Readout("mean_max", channels=3).out_channels == 6


def test_attention_equals_pyg_attentional_aggregation() -> None:
    readout = Readout("attention", channels=4)
    reference = AttentionalAggregation(gate_nn=readout.gate)
    x, batch = torch.randn(7, 4), torch.tensor([0, 0, 0, 1, 1, 1, 1])
    assert_close(readout(x, batch), reference(x, batch))
    weights = torch.softmax(readout.gate(x[:3]), dim=0)
    assert_close(readout(x, batch)[0], (weights * x[:3]).sum(0))


@pytest.mark.parametrize("kind", ["sum", "mean", "max", "mean_max"])
def test_empty_graph_gives_zeros(kind: str) -> None:
    x = -torch.rand(4, 3) - 1  # all negative: a max over nothing must not leak -inf or 0-vs-max
    batch = torch.tensor([0, 0, 2, 2])
    out = Readout(kind)(x, batch, size=4)
    assert out.shape[0] == 4 and torch.isfinite(out).all()
    assert out[1].abs().sum() == 0 and out[3].abs().sum() == 0
    assert (out[0] != 0).all()


def test_attention_empty_graph_gives_zeros() -> None:
    out = Readout("attention", channels=2)(torch.randn(2, 2), torch.tensor([1, 1]), size=3)
    assert torch.isfinite(out).all() and out[0].abs().sum() == 0 and out[2].abs().sum() == 0


def test_no_nodes_at_all() -> None:
    out = Readout("mean")(torch.empty(0, 3), torch.empty(0, dtype=torch.long), size=2)
    assert_close(out, torch.zeros(2, 3))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: Readout("median"), ValueError, "Readout: kind must be one of"),
        (lambda: Readout("attention"), ValueError, "needs channels"),
        (
            lambda: Readout()(torch.randn(4, 2), torch.tensor([0, 1])),
            ValueError,
            r"batch must have shape \[4\]",
        ),
        (lambda: Readout()(torch.randn(2, 2), torch.tensor([0.0, 1.0])), TypeError, "integer"),
        (
            lambda: Readout()(torch.randn(2, 2), torch.tensor([0, 3]), size=2),
            ValueError,
            "out of range",
        ),
        (lambda: Readout()(torch.randn(2, 2), torch.tensor([0, -1])), ValueError, ">= 0"),
        (lambda: Readout("sum", 3)(torch.randn(2, 2)), ValueError, "3 columns"),
    ],
)
def test_bad_input(call, error, message: str) -> None:
    with pytest.raises(error, match=message):
        call()
