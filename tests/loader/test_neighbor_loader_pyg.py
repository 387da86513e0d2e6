"""PyG's own ``test/loader/test_neighbor_loader.py``, its homogeneous items, run on
``gconv.loader.NeighborLoader`` with gconv's sampler: PyG's inputs and assertions kept,
its guards on pyg-lib and torch-sparse lifted (gconv replaces them), the pyg-lib
equality items left out (they compare PyG's two C++ samplers). Only the imports, the
guards and the CUDA parametrization (gconv's sampler runs on the CPU) changed.

Source: https://github.com/pyg-team/pytorch_geometric/blob/master/test/loader/test_neighbor_loader.py
"""

import os.path as osp
from functools import partial

import numpy as np
import pytest
import torch
from torch_geometric import EdgeIndex
from torch_geometric.data import Data
from torch_geometric.datasets import KarateClub
from torch_geometric.nn import GraphConv
from torch_geometric.sampler.base import SubgraphType
from torch_geometric.testing import MyFeatureStore, MyGraphStore, get_random_edge_index
from torch_geometric.utils import to_undirected

from gconv.loader import NeighborLoader as GconvNeighborLoader

NeighborLoader = partial(GconvNeighborLoader, backend="torch")  # gconv's own sampler

DTYPES = [
    pytest.param(torch.int64, id="int64"),
    pytest.param(torch.int32, id="int32"),
]

SUBGRAPH_TYPES = [
    pytest.param(SubgraphType.directional, id="directional"),
    pytest.param(SubgraphType.bidirectional, id="bidirectional"),
    pytest.param(SubgraphType.induced, id="induced"),
]

FILTER_PER_WORKERS = [
    pytest.param(None, id="auto_filter"),
    pytest.param(True, id="filter_per_worker"),
    pytest.param(False, id="filter_in_main"),
]


def is_subset(subedge_index, edge_index, src_idx, dst_idx):
    num_nodes = int(edge_index.max()) + 1
    idx = num_nodes * edge_index[0] + edge_index[1]
    subidx = num_nodes * src_idx[subedge_index[0]] + dst_idx[subedge_index[1]]
    mask = torch.from_numpy(np.isin(subidx.cpu().numpy(), idx.cpu().numpy()))
    return int(mask.sum()) == mask.numel()


@pytest.fixture
def get_dataset():
    return lambda name: KarateClub()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("subgraph_type", SUBGRAPH_TYPES)
@pytest.mark.parametrize("filter_per_worker", FILTER_PER_WORKERS)
def test_homo_neighbor_loader_basic(
    subgraph_type,
    dtype,
    filter_per_worker,
):
    device = torch.device("cpu")

    torch.manual_seed(12345)

    data = Data()

    data.x = torch.arange(100, device=device)
    data.edge_index = get_random_edge_index(100, 100, 500, dtype, device)
    data.edge_attr = torch.arange(500, device=device)

    loader = NeighborLoader(
        data,
        num_neighbors=[5] * 2,
        batch_size=20,
        subgraph_type=subgraph_type,
        filter_per_worker=filter_per_worker,
    )

    assert str(loader) == "NeighborLoader()"
    assert len(loader) == 5

    batch = loader([0])
    assert isinstance(batch, Data)
    assert batch.n_id[:1].tolist() == [0]

    for i, batch in enumerate(loader):
        assert isinstance(batch, Data)
        assert batch.x.device == device
        assert batch.x.size(0) <= 100
        assert batch.n_id.size() == (batch.num_nodes,)
        assert batch.input_id.numel() == batch.batch_size == 20
        assert batch.x.min() >= 0 and batch.x.max() < 100
        # TODO Re-enable once `EdgeIndex` is stable.
        assert not isinstance(batch.edge_index, EdgeIndex)
        # batch.edge_index.validate()
        # size = (batch.num_nodes, batch.num_nodes)
        # assert batch.edge_index.sparse_size() == size
        # assert batch.edge_index.sort_order == 'col'
        assert batch.edge_index.device == device
        assert batch.edge_index.min() >= 0
        assert batch.edge_index.max() < batch.num_nodes
        assert batch.edge_attr.device == device
        assert batch.edge_attr.size(0) == batch.edge_index.size(1)

        # Input nodes are always sampled first:
        assert torch.equal(
            batch.x[: batch.batch_size],
            torch.arange(i * batch.batch_size, (i + 1) * batch.batch_size, device=device),
        )

        if subgraph_type != SubgraphType.bidirectional:
            assert batch.e_id.size() == (batch.num_edges,)
            assert batch.edge_attr.min() >= 0
            assert batch.edge_attr.max() < 500

            assert is_subset(
                batch.edge_index.to(torch.int64),
                data.edge_index.to(torch.int64),
                batch.x,
                batch.x,
            )


@pytest.mark.parametrize("subgraph_type", SUBGRAPH_TYPES)
def test_homo_neighbor_loader_on_karate(get_dataset, subgraph_type):
    dataset = get_dataset(name="karate")
    data = dataset[0]

    mask = data.edge_index[0] < data.edge_index[1]
    edge_index = data.edge_index[:, mask]
    edge_weight = torch.rand(edge_index.size(1))
    data.edge_index, data.edge_weight = to_undirected(edge_index, edge_weight)

    split_idx = torch.arange(5, 8)

    loader = NeighborLoader(
        data,
        num_neighbors=[-1, -1],
        batch_size=split_idx.numel(),
        input_nodes=split_idx,
        subgraph_type=subgraph_type,
    )
    assert len(loader) == 1

    batch = next(iter(loader))
    batch_size = batch.batch_size

    class GNN(torch.nn.Module):
        def __init__(self, in_channels, hidden_channels, out_channels):
            super().__init__()
            self.conv1 = GraphConv(in_channels, hidden_channels)
            self.conv2 = GraphConv(hidden_channels, out_channels)

        def forward(self, x, edge_index, edge_weight):
            x = self.conv1(x, edge_index, edge_weight).relu()
            x = self.conv2(x, edge_index, edge_weight)
            return x

    model = GNN(dataset.num_features, 16, dataset.num_classes)

    out1 = model(data.x, data.edge_index, data.edge_weight)[split_idx]
    out2 = model(batch.x, batch.edge_index, batch.edge_weight)[:batch_size]
    assert torch.allclose(out1, out2, atol=1e-6)


def test_custom_neighbor_loader():
    # Initialize feature store, graph store, and reference:
    feature_store = MyFeatureStore()
    graph_store = MyGraphStore()

    # Set up node features:
    x = torch.arange(100, 300)
    feature_store.put_tensor(x, group_name=None, attr_name="x", index=None)

    y = torch.arange(100, 300)
    feature_store.put_tensor(y, group_name=None, attr_name="y", index=None)

    # COO:
    edge_index = get_random_edge_index(100, 100, 500, coalesce=True)
    edge_index = edge_index[:, torch.randperm(edge_index.size(1))]
    coo = (edge_index[0], edge_index[1])
    graph_store.put_edge_index(edge_index=coo, edge_type=None, layout="coo", size=(100, 100))

    data = Data(x=x, edge_index=edge_index, y=y, num_nodes=200)

    # Construct neighbor loaders:
    loader1 = NeighborLoader(
        data, batch_size=20, input_nodes=torch.arange(100), num_neighbors=[-1] * 2
    )

    loader2 = NeighborLoader(
        (feature_store, graph_store),
        batch_size=20,
        input_nodes=torch.arange(100),
        num_neighbors=[-1] * 2,
    )

    assert str(loader1) == str(loader2)
    assert len(loader1) == len(loader2)

    for batch1, batch2 in zip(loader1, loader2, strict=True):
        assert len(batch1) == len(batch2)
        assert batch1.num_nodes == batch2.num_nodes
        assert batch1.num_edges == batch2.num_edges
        assert batch1.batch_size == batch2.batch_size

        # Mapped indices of neighbors may be differently sorted ...
        assert torch.allclose(batch1.x.sort()[0], batch2.x.sort()[0])
        assert torch.allclose(batch1.y.sort()[0], batch2.y.sort()[0])


def test_memmap_neighbor_loader(tmp_path):
    path = osp.join(tmp_path, "x.npy")
    x = np.memmap(path, dtype=np.float32, mode="w+", shape=(100, 32))
    x[:] = np.random.randn(100, 32)

    data = Data()
    data.x = np.memmap(path, dtype=np.float32, mode="r", shape=(100, 32))
    data.edge_index = get_random_edge_index(100, 100, 500)

    assert str(data) == "Data(x=[100, 32], edge_index=[2, 500])"
    assert data.num_nodes == 100

    loader = NeighborLoader(data, num_neighbors=[5] * 2, batch_size=20, num_workers=2)
    batch = next(iter(loader))
    assert batch.num_nodes <= 100
    assert isinstance(batch.x, torch.Tensor)
    assert batch.x.size() == (batch.num_nodes, 32)


def test_homo_neighbor_loader_sampled_info():
    edge_index = torch.tensor(
        [
            [2, 3, 4, 5, 7, 7, 10, 11, 12, 13],
            [0, 1, 2, 3, 2, 3, 7, 7, 7, 7],
        ]
    )

    data = Data(edge_index=edge_index, num_nodes=14)

    loader = NeighborLoader(
        data,
        num_neighbors=[1, 2, 4],
        batch_size=2,
        shuffle=False,
    )
    batch = next(iter(loader))

    assert batch.num_sampled_nodes == [2, 2, 3, 4]
    assert batch.num_sampled_edges == [2, 4, 4]


def test_neighbor_loader_mapping():
    edge_index = torch.tensor(
        [
            [0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 3, 5],
            [1, 2, 3, 4, 5, 8, 6, 7, 9, 10, 6, 11],
        ]
    )
    data = Data(edge_index=edge_index, num_nodes=12)

    loader = NeighborLoader(
        data,
        num_neighbors=[1],
        batch_size=2,
        shuffle=True,
    )

    for batch in loader:
        assert torch.equal(
            batch.n_id[batch.edge_index],
            data.edge_index[:, batch.e_id],
        )


def test_weighted_homo_neighbor_loader():
    edge_index = torch.tensor(
        [
            [1, 3, 0, 4],
            [2, 2, 1, 3],
        ]
    )
    edge_weight = torch.tensor([0.0, 1.0, 0.0, 1.0])

    data = Data(num_nodes=5, edge_index=edge_index, edge_weight=edge_weight)

    loader = NeighborLoader(
        data,
        input_nodes=torch.tensor([2]),
        num_neighbors=[1] * 2,
        batch_size=1,
        weight_attr="edge_weight",
    )
    assert len(loader) == 1

    batch = next(iter(loader))

    assert batch.num_nodes == 3
    assert batch.n_id.tolist() == [2, 3, 4]
    assert batch.num_edges == 2
    assert batch.n_id[batch.edge_index].tolist() == [[3, 4], [2, 3]]


def test_edge_level_temporal_homo_neighbor_loader():
    edge_index = torch.tensor(
        [
            [0, 1, 1, 2, 2, 3, 3, 4],
            [1, 0, 2, 1, 3, 2, 4, 3],
        ]
    )
    edge_time = torch.arange(edge_index.size(1))

    data = Data(edge_index=edge_index, edge_time=edge_time, num_nodes=5)

    loader = NeighborLoader(
        data,
        num_neighbors=[-1, -1],
        input_time=torch.tensor([4, 4, 4, 4, 4]),
        time_attr="edge_time",
        batch_size=1,
    )

    for batch in loader:
        assert batch.edge_time.numel() == batch.num_edges
        if batch.edge_time.numel() > 0:
            assert batch.edge_time.max() <= 4
