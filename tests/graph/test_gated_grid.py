"""GatedGCNLayer.grid_aggregate: the gated mean on the image view of full pixel grids,
held to the edge paths (values and gradients) on the grids gconv builds."""

import pytest
import torch
from torch.testing import assert_close

from gconv.convert import grid_graph, images_to_graphs
from gconv.graph._gated_grid import grid_gated_aggregate
from gconv.nn import GatedGCNLayer


def _grid(b: int, h: int, w: int, **options):
    graph = grid_graph(h, w, **options)
    n = h * w
    edge_index = torch.cat([graph.edge_index + i * n for i in range(b)], dim=1)
    return edge_index, (b, h, w)


@pytest.mark.parametrize(
    ("shape", "options"),
    [
        ((2, 5, 7), {}),
        ((1, 6, 4), {"connectivity": 4}),
        ((3, 4, 5), {"self_loops": False}),
        ((2, 7, 6), {"kernel_size": 5}),
        ((1, 1, 3), {}),  # one row: the vertical offsets have no edges
    ],
)
@pytest.mark.parametrize("fused", [False, True])
def test_equals_the_edge_paths(shape, options, fused: bool) -> None:
    """ĥ and every gradient (input and weights) equal gate_and_aggregate's."""
    torch.manual_seed(0)
    edge_index, grid_shape = _grid(*shape, **options)
    layer = GatedGCNLayer(3, 4, fused=fused).double()
    x = torch.randn(shape[0] * shape[1] * shape[2], 3, dtype=torch.float64, requires_grad=True)
    upstream = torch.randn(x.size(0), 4, dtype=torch.float64)
    results = []
    for h_hat in (
        layer.gate_and_aggregate(x, edge_index, None)[0],
        layer.grid_aggregate(x, edge_index, grid_shape),
    ):
        results.append(
            (
                h_hat,
                *torch.autograd.grad(h_hat, [x, *layer.parameters()], upstream, allow_unused=True),
            )
        )
    for got, expected in zip(results[1], results[0], strict=True):
        if expected is None:  # the batch norms take no part in ĥ
            assert got is None
        else:
            assert_close(got, expected)


def test_images_to_graphs_batch() -> None:
    """On the batch that the grid models get, float32 and float64."""
    torch.manual_seed(0)
    batch = images_to_graphs(torch.randn(2, 3, 8, 8))
    layer = GatedGCNLayer(3, 6)
    expected = layer.gate_and_aggregate(batch.x, batch.edge_index, None)[0]
    got = layer.grid_aggregate(batch.x, batch.edge_index, batch.grid_shape)
    assert_close(got, expected)


def test_gradcheck() -> None:
    torch.manual_seed(0)
    offsets = ((-1, -1), (-1, 0), (0, 0), (0, 1), (1, 1))
    d, e, v = (torch.randn(2 * 3 * 4, 2, dtype=torch.float64, requires_grad=True) for _ in "dev")
    assert torch.autograd.gradcheck(
        lambda a, b, c: grid_gated_aggregate(a, b, c, (2, 3, 4), offsets, 1e-6), (d, e, v)
    )


def test_rejects_a_graph_that_is_not_the_grid() -> None:
    edge_index, grid_shape = _grid(2, 4, 4)
    layer = GatedGCNLayer(3, 3)
    x = torch.randn(32, 3)
    with pytest.raises(ValueError, match=r"GatedGCNLayer: grid_shape=\(2, 4, 4\) was given"):
        layer.grid_aggregate(x, edge_index[:, 1:], grid_shape)  # one edge missing
    with pytest.raises(ValueError, match=r"GatedGCNLayer: grid_shape must be \(B, H, W\)"):
        layer.grid_aggregate(x, edge_index, (32,))
    with pytest.raises(ValueError, match=r"GatedGCNLayer: grid_shape must be \(B, H, W\) with"):
        layer.grid_aggregate(x, edge_index, (2, 4, 5))
    with pytest.raises(ValueError, match="GatedGCNLayer: edge_index"):
        layer.grid_aggregate(x, edge_index + 1, grid_shape)


def test_the_grid_is_checked_once_per_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    import gconv.graph.gated_gcn as module

    calls = []
    real = module.grid_stencil
    monkeypatch.setattr(module, "grid_stencil", lambda *a, **k: calls.append(1) or real(*a, **k))
    edge_index, grid_shape = _grid(2, 4, 4)
    layer = GatedGCNLayer(3, 3)
    for _ in range(3):
        layer.grid_aggregate(torch.randn(32, 3), edge_index, grid_shape)
    assert len(calls) == 1
    edge_index.add_(0)  # modified in place: checked again
    layer.grid_aggregate(torch.randn(32, 3), edge_index, grid_shape)
    assert len(calls) == 2
