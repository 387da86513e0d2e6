import pytest
import torch
from torch_geometric.data import Data, HeteroData

from gconv.loader import NeighborLoader, TorchNeighborSampler


def _graph(n: int = 60, e: int = 400, seed: int = 0) -> Data:
    g = torch.Generator().manual_seed(seed)
    edge_index = torch.randint(0, n, (2, e), generator=g)
    return Data(
        x=torch.randn(n, 4, generator=g),
        edge_index=edge_index,
        edge_attr=torch.arange(e, dtype=torch.float),  # each edge's own id
        y=torch.arange(n),
        num_nodes=n,
    )


@pytest.mark.parametrize("num_neighbors", [[3], [5, 2], [-1, 4], [2, 2, 2]])
def test_batches_are_subgraphs_with_the_fanout_and_seeds_first(num_neighbors) -> None:
    data = _graph()
    torch.manual_seed(0)
    loader = NeighborLoader(data, num_neighbors, batch_size=7, shuffle=True, backend="torch")
    in_degree = torch.bincount(data.edge_index[1], minlength=data.num_nodes)
    seen_seeds = []
    for batch in loader:
        n_id, e_id = batch.n_id, batch.e_id
        # every sampled edge exists, with its features, between the nodes it names
        assert torch.equal(data.edge_index[:, e_id], n_id[batch.edge_index])
        assert torch.equal(batch.edge_attr, data.edge_attr[e_id])
        assert torch.equal(batch.x, data.x[n_id]) and torch.equal(batch.y, n_id)
        assert len(set(n_id.tolist())) == n_id.numel()  # each node once
        assert len(set(e_id.tolist())) == e_id.numel()  # without replacement
        seeds = n_id[: batch.batch_size]
        assert torch.equal(seeds, batch.input_id)  # input_nodes=None: ids are nodes
        seen_seeds += seeds.tolist()
        # hop by hop: each target of hop i draws min(k, in-degree) of its edges
        hops = torch.tensor(batch.num_sampled_nodes).cumsum(0)
        edge_hops = torch.tensor([0, *batch.num_sampled_edges]).cumsum(0)
        assert sum(batch.num_sampled_nodes) == n_id.numel()
        for i, k in enumerate(num_neighbors):
            lo = 0 if i == 0 else int(hops[i - 1])
            targets = torch.arange(lo, int(hops[i]))
            cols = batch.edge_index[1, int(edge_hops[i]) : int(edge_hops[i + 1])]
            counts = torch.bincount(cols, minlength=n_id.numel())[targets]
            degree = in_degree[n_id[targets]]
            expected = degree if k == -1 else degree.clamp(max=k)
            assert torch.equal(counts, expected), (i, k)
    assert sorted(seen_seeds) == list(range(data.num_nodes))


def test_same_seed_same_batches() -> None:
    data = _graph()

    def run():
        torch.manual_seed(3)
        return [b.e_id for b in NeighborLoader(data, [4, 3], batch_size=16, shuffle=True)]

    first, second = run(), run()
    assert all(torch.equal(a, b) for a, b in zip(first, second, strict=True))
    torch.manual_seed(4)
    other = [b.e_id for b in NeighborLoader(data, [4, 3], batch_size=16, shuffle=True)]
    assert not all(torch.equal(a, b) for a, b in zip(first, other, strict=True))


def test_input_nodes_as_mask_and_as_ids() -> None:
    data = _graph()
    mask = torch.zeros(data.num_nodes, dtype=torch.bool)
    mask[[3, 10, 40]] = True
    for input_nodes in (mask, torch.tensor([3, 10, 40])):
        batch = next(iter(NeighborLoader(data, [2], batch_size=8, input_nodes=input_nodes)))
        assert batch.batch_size == 3 and batch.n_id[:3].tolist() == [3, 10, 40]


def test_isolated_seed_gets_no_edges() -> None:
    data = Data(edge_index=torch.tensor([[0], [1]]), num_nodes=3)
    batch = next(iter(NeighborLoader(data, [5, 5], batch_size=3)))
    assert batch.n_id.tolist() == [0, 1, 2] and batch.edge_index.tolist() == [[0], [1]]


def test_uses_the_torch_sampler_without_pyg_lib() -> None:
    from gconv.loader import pyg_sampling_available

    loader = NeighborLoader(_graph(), [2], batch_size=4)
    assert loader.backend == ("pyg" if pyg_sampling_available() else "torch")
    assert isinstance(
        NeighborLoader(_graph(), [2], backend="torch").node_sampler, TorchNeighborSampler
    )
    assert repr(loader) == "NeighborLoader()"  # as PyG's


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"num_neighbors": []}, ValueError, "non-empty list"),
        ({"num_neighbors": [0]}, ValueError, r"ints >= 1, or -1"),
        ({"num_neighbors": 5}, TypeError, "must be a list of ints"),
        ({"num_neighbors": [2], "backend": "cuda"}, ValueError, "backend must be"),
        (
            {"num_neighbors": [2], "input_nodes": torch.ones(3, dtype=torch.bool)},
            ValueError,
            r"input_nodes as a mask must have shape \[60\], one per node \(got \(3,\)\)",
        ),
        (
            {"num_neighbors": [2], "input_nodes": torch.tensor([0, 60])},
            ValueError,
            r"input_nodes must be node ids in \[0, 60\) \(got ids from 0 to 60\)",
        ),
        (
            {"num_neighbors": [2], "input_nodes": torch.tensor([0.0, 1.0])},
            TypeError,
            "input_nodes must be a bool mask or a 1-D integer tensor",
        ),
        ({"num_neighbors": [2], "input_nodes": [0, 1]}, TypeError, "got list"),
        ({"num_neighbors": [2], "batch_size": 0}, ValueError, "batch_size must be >= 1"),
    ],
)
def test_bad_arguments(kwargs, error, message: str) -> None:
    with pytest.raises(error, match=message):
        NeighborLoader(_graph(), **kwargs)


def test_data_must_be_a_graph() -> None:
    with pytest.raises(TypeError, match="NeighborLoader: data must be a PyG Data"):
        NeighborLoader(torch.randn(3, 3), [2])
    with pytest.raises(ValueError, match="out of range"):
        NeighborLoader(Data(edge_index=torch.tensor([[0], [5]]), num_nodes=3), [2])


def test_trainer_scores_the_seed_nodes_of_each_batch(cora) -> None:
    import gconv
    from gconv.models import build_model
    from gconv.train import NodeTask

    graph = cora.train
    train = NeighborLoader(graph, [5, 5], batch_size=32, input_nodes=graph.train_mask, shuffle=True)
    val = NeighborLoader(graph, [5, 5], batch_size=500, input_nodes=graph.val_mask)
    batch = next(iter(val))
    model = build_model("sage", cora)
    logits, target = NodeTask().forward(model, batch, "val")
    assert logits.shape == (500, 7) and torch.equal(target, graph.y[graph.val_mask])
    trainer = gconv.train.Trainer(max_epochs=15, lr=0.01, seed=0, progress=False)
    history = trainer.fit(model, train, val)
    assert history.history["val_accuracy"][-1] > 0.6  # chance is 0.14 (7 classes)
    predicted = trainer.predict(model, val)
    assert predicted.shape == (500, 7)


def test_cluster_gcn_parts_cover_the_graph_and_train(cora, tmp_path) -> None:
    from torch_geometric.loader import ClusterLoader

    import gconv
    from gconv.loader import ClusterData, metis_partition
    from gconv.models import build_model

    graph = cora.train
    parts = metis_partition(graph.edge_index, graph.num_nodes, 8)
    assert parts.shape == (graph.num_nodes,) and set(parts.tolist()) == set(range(8))
    # METIS keeps most edges inside parts (a random split would keep 1/8 of them)
    inside = (parts[graph.edge_index[0]] == parts[graph.edge_index[1]]).float().mean()
    assert inside > 0.7
    data = ClusterData(graph, num_parts=8, save_dir=str(tmp_path))
    loader = ClusterLoader(data, batch_size=2, shuffle=True)
    assert sum(batch.num_nodes for batch in loader) == graph.num_nodes
    model = build_model("gcn", cora)
    trainer = gconv.train.Trainer(max_epochs=20, lr=0.01, weight_decay=5e-4, seed=0, progress=False)
    trainer.fit(model, loader, graph)  # batches of parts; validation on the whole graph
    assert trainer.evaluate(model, graph)["accuracy"] > 0.6


def test_link_sampling_through_pyg_link_loader() -> None:
    from torch_geometric.loader import LinkLoader

    data = _graph()
    links = data.edge_index[:, :20]
    loader = LinkLoader(
        data, TorchNeighborSampler(data, [3, 2]), edge_label_index=links, batch_size=8
    )
    seen = []
    for batch in loader:
        # the labelled links, read back through n_id, are the seed links of the batch
        assert torch.equal(batch.n_id[batch.edge_label_index], links[:, batch.input_id])
        assert torch.equal(data.edge_index[:, batch.e_id], batch.n_id[batch.edge_index])
        seen += batch.input_id.tolist()
    assert sorted(seen) == list(range(20))
    with pytest.raises(ValueError, match="neg_sampling must be None"):
        TorchNeighborSampler(data, [2]).sample_from_edges(None, neg_sampling="binary")


def test_replace_draws_k_neighbours_of_every_node_that_has_any() -> None:
    data = _graph(n=30, e=60)
    torch.manual_seed(0)
    loader = NeighborLoader(data, [5], batch_size=30, replace=True, backend="torch")
    batch = next(iter(loader))
    assert torch.equal(data.edge_index[:, batch.e_id], batch.n_id[batch.edge_index])
    in_degree = torch.bincount(data.edge_index[1], minlength=30)[batch.n_id[:30]]
    counts = torch.bincount(batch.edge_index[1], minlength=batch.n_id.numel())[:30]
    assert torch.equal(counts, torch.where(in_degree > 0, 5, 0))  # k each, degree or not
    assert len(set(batch.e_id.tolist())) < batch.e_id.numel()  # an edge drawn twice


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"subgraph_type": "sideways"}, "subgraph_type must be one of 'directional'"),
        ({"temporal_strategy": "first"}, "temporal_strategy must be one of 'uniform'"),
        ({"weight_attr": "missing"}, "weight_attr='missing' must name a tensor of one value"),
        ({"time_attr": "y"}, "time_attr='y' must name a tensor of one value per edge"),
    ],
)
def test_a_wrong_option_is_named(kwargs: dict, message: str) -> None:
    data = _graph()
    data.y = torch.arange(7)  # neither per node nor per edge
    with pytest.raises(ValueError, match=message):
        NeighborLoader(data, [2], backend="torch", **kwargs)


def test_disjoint_gives_each_seed_its_own_subgraph() -> None:
    """With every neighbour taken, seeds sampled together and disjoint are the seeds
    sampled one by one, side by side (``batch`` says whose each node is)."""
    data = _graph(n=40, e=120)
    seeds = torch.tensor([3, 7, 11])
    together = next(iter(NeighborLoader(data, [-1, -1], input_nodes=seeds, batch_size=3,
                                        disjoint=True, backend="torch")))  # fmt: skip
    for tree, seed in enumerate(seeds):
        alone = next(iter(NeighborLoader(data, [-1, -1], input_nodes=seed.view(1),
                                         batch_size=1, backend="torch")))  # fmt: skip
        mine = together.batch == tree
        assert sorted(together.n_id[mine].tolist()) == sorted(alone.n_id.tolist())
        edges = together.edge_index[:, mine[together.edge_index[1]]]
        assert bool(mine[edges[0]].all())  # no edge crosses from another seed's tree
        assert sorted(together.e_id[mine[together.edge_index[1]]].tolist()) == sorted(
            alone.e_id.tolist()
        )


def test_induced_is_every_edge_between_the_sampled_nodes() -> None:
    data = _graph(n=50, e=300)
    torch.manual_seed(0)
    batch = next(iter(NeighborLoader(data, [3, 2], batch_size=5, subgraph_type="induced",
                                     backend="torch")))  # fmt: skip
    inside = torch.zeros(50, dtype=torch.bool)
    inside[batch.n_id] = True
    expected = inside[data.edge_index].all(0).nonzero().view(-1)
    assert sorted(batch.e_id.tolist()) == expected.tolist()
    assert torch.equal(batch.n_id[batch.edge_index], data.edge_index[:, batch.e_id])


@pytest.mark.parametrize("replace", [False, True])
def test_weights_set_how_often_a_neighbour_is_drawn(replace: bool) -> None:
    """Node 0 has neighbours 1, 2 and 3 of weights 1, 3 and 0: one draw picks 2 three
    times as often as 1, and never 3."""
    data = Data(edge_index=torch.tensor([[1, 2, 3], [0, 0, 0]]), num_nodes=4,
                w=torch.tensor([1.0, 3.0, 0.0]))  # fmt: skip
    torch.manual_seed(0)
    counts = torch.zeros(4)
    loader = NeighborLoader(data, [1], input_nodes=torch.zeros(4000, dtype=torch.long),
                            batch_size=4000, disjoint=True, weight_attr="w", replace=replace,
                            backend="torch")  # fmt: skip
    batch = next(iter(loader))
    counts.index_add_(0, batch.n_id[batch.edge_index[0]], torch.ones(batch.num_edges))
    assert counts[3] == 0 and counts.sum() == 4000
    assert abs(float(counts[2] / counts.sum()) - 0.75) < 0.03


def test_temporal_sampling_keeps_to_the_seed_time() -> None:
    """Node times: a neighbour later than its seed's time is never drawn; ``"last"``
    takes the most recent ones."""
    data = Data(edge_index=torch.tensor([[1, 2, 3, 4], [0, 0, 0, 0]]), num_nodes=5,
                time=torch.tensor([5, 1, 2, 4, 9]))  # fmt: skip
    uniform = NeighborLoader(data, [-1], input_nodes=torch.tensor([0]), batch_size=1,
                             time_attr="time", backend="torch")  # fmt: skip
    assert sorted(next(iter(uniform)).n_id.tolist()) == [0, 1, 2, 3]  # not 4 (time 9)
    last = NeighborLoader(data, [2], input_nodes=torch.tensor([0]), batch_size=1,
                          time_attr="time", temporal_strategy="last", backend="torch")  # fmt: skip
    assert next(iter(last)).n_id.tolist() == [0, 3, 2]  # times 4 and 2, the latest


def test_pygs_other_arguments_are_taken() -> None:
    loader = NeighborLoader(
        _graph(), [2], batch_size=8, is_sorted=True, filter_per_worker=False, backend="torch"
    )
    assert next(iter(loader)).batch_size == 8
    with pytest.raises(TypeError, match="unexpected keyword argument 'num_hops'"):
        NeighborLoader(_graph(), [2], num_hops=2)
    with pytest.raises(TypeError, match="HeteroData is not taken"):
        NeighborLoader(HeteroData(), [2])
