"""gconv layers inside a user's PyG pipeline: Sequential, DataLoader, torch.compile."""

import torch
from torch.testing import assert_close
from torch_geometric.data import Data
from torch_geometric.loader import DataLoader
from torch_geometric.nn import Sequential

from gconv.convert import grid_graph
from gconv.nn import GCNLayer, GridConv2d, Readout


def _graphs(n: int = 6) -> list[Data]:
    graphs = []
    for i in range(n):
        g = grid_graph(4, 4 + i % 2)
        g.x = torch.randn(g.num_nodes, 3)
        g.y = torch.tensor([i % 2])
        graphs.append(g)
    return graphs


def _pipeline() -> Sequential:
    return Sequential(
        "x, edge_index, edge_type, batch",
        [
            (GridConv2d(3, 8), "x, edge_index, edge_type -> x"),
            torch.nn.ReLU(),
            (GCNLayer(8, 8), "x, edge_index -> x"),
            (Readout("mean_max"), "x, batch -> x"),
            torch.nn.Linear(16, 2),
        ],
    )


def test_sequential_and_dataloader() -> None:
    model = _pipeline()
    loader = DataLoader(_graphs(), batch_size=4, shuffle=True)
    for batch in loader:
        out = model(batch.x, batch.edge_index, batch.edge_type, batch.batch)
        assert out.shape == (batch.num_graphs, 2)
        torch.nn.functional.cross_entropy(out, batch.y).backward()
    assert model[0].weight.grad is not None


def test_batched_equals_one_by_one() -> None:
    model = _pipeline().eval()
    graphs = _graphs(3)
    batch = next(iter(DataLoader(graphs, batch_size=3)))
    together = model(batch.x, batch.edge_index, batch.edge_type, batch.batch)
    for i, g in enumerate(graphs):
        alone = model(g.x, g.edge_index, g.edge_type, torch.zeros(g.num_nodes, dtype=torch.long))
        assert_close(together[i : i + 1], alone)


def test_torch_compile_runs_and_agrees() -> None:
    model = _pipeline().eval()
    batch = next(iter(DataLoader(_graphs(), batch_size=6)))
    args = (batch.x, batch.edge_index, batch.edge_type, batch.batch)
    compiled = torch.compile(model, backend="eager")  # no C++ toolchain needed on CI
    assert_close(compiled(*args), model(*args))
    layer = torch.compile(GCNLayer(3, 4), backend="aot_eager")
    out = layer(batch.x, batch.edge_index)
    out.sum().backward()
    assert out.shape == (batch.num_nodes, 4)
