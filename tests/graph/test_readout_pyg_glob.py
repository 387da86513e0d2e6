"""PyG's ``test/nn/pool/test_glob.py`` for ``Readout``: its inputs and assertions, with
``Readout(kind)`` in place of ``global_{kind}_pool``, and PyG's pools beside it."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close
from torch_geometric.nn import global_add_pool, global_max_pool, global_mean_pool

from gconv.nn import Readout

PYG = {"sum": global_add_pool, "mean": global_mean_pool, "max": global_max_pool}


def test_global_pool() -> None:
    n_1, n_2 = 4, 6
    x = torch.randn(n_1 + n_2, 4)
    batch = torch.tensor([0] * n_1 + [1] * n_2)
    reduce = {"sum": torch.sum, "mean": torch.mean, "max": lambda t, **k: t.max(**k)[0]}
    for kind, fn in reduce.items():
        out = Readout(kind)(x, batch)
        assert out.size() == (2, 4)
        assert_close(out[0], fn(x[:4], dim=0))
        assert_close(out[1], fn(x[4:], dim=0))
        assert_close(out, PYG[kind](x, batch))
        whole = Readout(kind)(x, None)
        assert whole.size() == (1, 4)
        assert_close(whole, fn(x, dim=0, keepdim=True))
        assert_close(whole, PYG[kind](x, None))


def test_permuted_global_pool() -> None:
    n_1, n_2 = 4, 6
    x = torch.randn(n_1 + n_2, 4)
    batch = torch.cat([torch.zeros(n_1), torch.ones(n_2)]).to(torch.long)
    perm = torch.randperm(n_1 + n_2)
    px, pbatch = x[perm], batch[perm]
    px1, px2 = px[pbatch == 0], px[pbatch == 1]
    for kind, fn in {"sum": torch.sum, "mean": torch.mean, "max": torch.amax}.items():
        out = Readout(kind)(px, pbatch)
        assert out.size() == (2, 4)
        assert_close(out[0], fn(px1, dim=0))
        assert_close(out[1], fn(px2, dim=0))


@pytest.mark.parametrize("kind", ["sum", "mean", "max"])
def test_dense_global_pool(kind: str) -> None:
    x = torch.randn(3, 16, 32)
    assert_close(Readout(kind)(x, None), PYG[kind](x, None))
    if kind == "sum":
        assert_close(Readout("sum")(x, None), x.sum(dim=1))


def test_dense_readouts_pool_each_graphs_nodes() -> None:
    x = torch.randn(3, 5, 8)
    flat = x.reshape(15, 8)
    batch = torch.arange(3).repeat_interleave(5)
    for kind in ("mean_max", "attention"):
        torch.manual_seed(0)
        readout = Readout(kind, channels=8)
        assert_close(readout(x), readout(flat, batch))
    with pytest.raises(ValueError, match=r"batch must be None for dense x \[B, N, F\]"):
        Readout("sum")(x, batch)
    with pytest.raises(ValueError, match="x must have 4 features"):
        Readout("attention", channels=4)(x)
