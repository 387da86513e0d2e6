import pytest
import torch
from torch.testing import assert_close
from torch_geometric.data import Batch, Data

from gconv.convert import images_to_graphs
from gconv.models import build_model, fits, get_model, list_models, register_model


def test_list_and_pattern() -> None:
    assert {"gcn", "gin", "mlp", "lenet5", "grid_gnn", "grid_cnn"} <= set(list_models())
    assert list_models("grid_*") == ["grid_cnn", "grid_fcn", "grid_gnn"]


def test_unknown_and_duplicate_names() -> None:
    with pytest.raises(ValueError, match="get_model: name must be one of"):
        get_model("resnet9000")

    def mlp() -> torch.nn.Module:
        return torch.nn.Identity()

    with pytest.raises(ValueError, match="a model named 'mlp' is registered already"):
        register_model(inputs=("images",))(mlp)
    with pytest.raises(ValueError, match="inputs must be from images, pixel_grid, nodes"):
        register_model(inputs=("audio",))


@pytest.mark.parametrize(
    ("name", "kind", "ok"),
    [
        ("lenet5", "images", True),
        ("lenet5", "graphs", False),
        ("lenet5", "nodes", False),
        ("mlp", "nodes", True),
        ("mlp", "graphs", False),  # no readout: it cannot classify whole graphs
        ("gcn", "nodes", True),
        ("gcn", "graphs", True),
        ("gcn", "pixel_grid", True),  # a pixel grid graph is a graph
        ("gin", "nodes", True),
        ("grid_gnn", "pixel_grid", True),
        ("grid_gnn", "graphs", False),  # needs offset-typed edges
        ("grid_cnn", "pixel_grid", False),
    ],
)
def test_fits_by_name(name: str, kind: str, ok: bool) -> None:
    verdict = fits(name, kind)
    assert bool(verdict) is ok
    assert (verdict.reason == "") is ok


def test_fits_says_why_not_in_one_line() -> None:
    class Mutag:  # anything with a name and an input_kind, like a loaded dataset
        name, input_kind = "mutag", "graphs"

    reason = fits("lenet5", Mutag()).reason
    assert reason == (
        "lenet5 takes images [B, C, H, W]; dataset 'mutag' gives whole graphs "
        "(graph classification)"
    )
    assert "\n" not in reason
    with pytest.raises(TypeError, match="fits: data must be one of"):
        fits("lenet5", "audio")


def test_fits_a_built_model_by_what_it_was_built_for() -> None:
    node_gcn = get_model("gcn", in_channels=3, num_classes=2)
    graph_gcn = get_model("gcn", in_channels=3, num_classes=2, readout="mean")
    assert fits(node_gcn, "nodes") and not fits(node_gcn, "graphs")
    assert fits(graph_gcn, "graphs") and not fits(graph_gcn, "nodes")
    assert "GCN takes the nodes of one graph" in fits(node_gcn, "graphs").reason
    assert fits(torch.nn.Linear(3, 2), "graphs")  # a model that does not say: no verdict


def test_build_model_builds_the_level_that_fits(cora, mutag) -> None:
    for name in ("gcn", "gin", "sage", "gat"):
        node = build_model(name, cora)
        graph = build_model(name, mutag)
        assert (node.input_kind, graph.input_kind) == ("nodes", "graphs"), name
        assert node(cora.train).shape == (2708, 7)
        batch = Batch.from_data_list(list(mutag.dataset[:3]))
        assert graph.eval()(batch).shape == (3, 2)
    with pytest.raises(ValueError, match="build_model: lenet5 takes images"):
        build_model("lenet5", mutag)
    with pytest.raises(TypeError, match="give a dataset, or in_channels and num_classes"):
        build_model("gcn")


def test_node_gcn_is_two_gcnconv_layers() -> None:
    # the second layer split as propagation (features) and linear map (head) computes
    # exactly PyG's two-layer GCN with the same weights
    from torch_geometric.nn import GCNConv

    torch.manual_seed(0)
    data = Data(x=torch.randn(7, 5), edge_index=torch.randint(0, 7, (2, 20)))
    model = get_model("gcn", in_channels=5, num_classes=3, hidden_channels=4, sparse_input=False)
    conv1, conv2 = GCNConv(5, 4), GCNConv(4, 3)
    conv1.load_state_dict(model.conv1.state_dict())
    conv2.lin.weight.data.copy_(model.head.weight)
    conv2.bias.data.copy_(model.head.bias)
    model.eval()
    expected = conv2(conv1(data.x, data.edge_index).relu(), data.edge_index)
    assert_close(model(data), expected)
    model.reset_classifier(5)
    assert model(data).shape == (7, 5)


@pytest.mark.parametrize("readout", ["flatten", "mean"])
def test_grid_gnn_with_the_cnn_weights_computes_the_same_function(readout: str) -> None:
    kwargs = {"hidden_channels": (8, 16), "readout": readout, "input_shape": (1, 12, 12)}
    cnn = get_model("grid_cnn", in_channels=1, num_classes=10, **kwargs)
    gnn = get_model("grid_gnn", in_channels=1, num_classes=10, **kwargs)
    gnn.load_state_dict(cnn.state_dict())  # same keys, same shapes
    images = torch.randn(3, 1, 12, 12)
    batch = images_to_graphs(images)
    assert_close(gnn(batch), cnn(images))
    del batch.grid_shape  # the message-passing path computes the same
    assert_close(gnn(batch), cnn(images))


@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("dense", [True, False])
def test_pooled_grid_gnn_is_the_pooled_cnn_values_and_gradients(train: bool, dense: bool) -> None:
    # stages with batch norm and a 2x2 max pool between them, as the comparison's CNN; on
    # odd sides (13 -> 6 -> 3) the pools floor as F.max_pool2d does
    kwargs = {"hidden_channels": (4, 8, 16), "readout": "mean", "norm": True, "pool": True}
    torch.manual_seed(0)
    cnn = get_model("grid_cnn", in_channels=2, num_classes=5, head_hidden=6, **kwargs).double()
    gnn = get_model("grid_gnn", in_channels=2, num_classes=5, head_hidden=6, **kwargs).double()
    gnn.path = "auto" if dense else "message_passing"
    gnn.load_state_dict(cnn.state_dict())
    cnn.train(train), gnn.train(train)
    images = torch.randn(3, 2, 13, 13, dtype=torch.float64)
    batch = images_to_graphs(images)
    assert_close(gnn(batch), cnn(images), rtol=1e-10, atol=1e-10)
    cnn(images).square().sum().backward()
    gnn(batch).square().sum().backward()
    for (name, a), (_, b) in zip(cnn.named_parameters(), gnn.named_parameters(), strict=True):
        assert_close(b.grad, a.grad, rtol=1e-9, atol=1e-9, msg=name)
    if train:  # the running statistics moved alike
        for (name, a), (_, b) in zip(cnn.named_buffers(), gnn.named_buffers(), strict=True):
            assert_close(b, a, msg=name)


def test_pooled_grid_gnn_with_gcn_layers_fast_path_equals_message_passing() -> None:
    from functools import partial

    from gconv.nn import GCNLayer

    kwargs = {"hidden_channels": (4, 8), "readout": "mean", "norm": True, "pool": True}
    layer = partial(GCNLayer, cached=True)
    torch.manual_seed(0)
    dense = get_model("grid_gnn", in_channels=1, num_classes=3, layer=layer, **kwargs).double()
    sparse = get_model("grid_gnn", in_channels=1, num_classes=3, layer=layer, **kwargs).double()
    sparse.path = "message_passing"
    sparse.load_state_dict(dense.state_dict())
    batch = images_to_graphs(torch.randn(2, 1, 10, 10, dtype=torch.float64))
    assert_close(sparse(batch), dense(batch), rtol=1e-10, atol=1e-10)
    # the first stage is PyG's GCNConv (symmetric normalization, self loops) on the grid
    from torch_geometric.nn import GCNConv

    ref = GCNConv(1, 4).double()
    ref.load_state_dict(dense.convs[0].state_dict())
    x = batch.x.double()
    assert_close(dense.convs[0](x, batch.edge_index), ref(x, batch.edge_index))


def test_pool_needs_full_grids_and_says_so() -> None:
    gnn = get_model("grid_gnn", in_channels=1, num_classes=3, hidden_channels=(4, 8), pool=True)
    batch = images_to_graphs(torch.randn(2, 1, 8, 8))
    del batch.grid_shape, batch.grid_size  # no grid: an image graph with pos runs as one
    assert gnn(batch).shape == (2, 3)
    del batch.pos  # neither a grid nor positions
    with pytest.raises(ValueError, match="GraphNetwork: the graphs must be full pixel grids"):
        gnn(batch)
    with pytest.raises(ValueError, match=r"grids must be at least 4x4 \(got 3x3\)"):
        deep = get_model(
            "grid_gnn", in_channels=1, num_classes=3, hidden_channels=(2, 2, 2), pool=True
        )
        deep(images_to_graphs(torch.randn(1, 1, 3, 3)))


def test_flatten_head_takes_any_image_size_and_names_the_grid_size_for_graphs() -> None:
    cnn = get_model("grid_cnn", in_channels=3, num_classes=10)  # sized for 28x28
    gnn = get_model("grid_gnn", in_channels=3, num_classes=10)
    gnn.load_state_dict(cnn.state_dict())
    images = torch.randn(2, 3, 28, 28)
    assert_close(gnn(images_to_graphs(images)), cnn(images))  # at its size: the twin
    for size in (8, 32):  # other sizes are pooled to 28x28 before the head, by both
        images = torch.randn(2, 3, size, size)
        assert_close(gnn(images_to_graphs(images)), cnn(images))
    graphs = images_to_graphs(torch.randn(2, 3, 8, 8))
    del graphs.grid_shape, graphs.grid_size, graphs.pos  # neither grids nor positions
    with pytest.raises(ValueError, match="GraphNetwork: the graphs must be full pixel grids"):
        gnn(graphs)
    with pytest.raises(ValueError, match=r"GridCNN: input_shape must be \(C, H, W\) with C = "):
        get_model("grid_cnn", in_channels=3, num_classes=10, input_shape=(1, 28, 28))


@pytest.mark.parametrize("size", [28, 32])
def test_lenet5_sizes(size: int) -> None:
    model = get_model("lenet5", in_channels=3, num_classes=4, input_shape=(3, size, size))
    assert model(torch.randn(2, 3, size, size)).shape == (2, 4)
    model.reset_classifier(7)
    assert model(torch.randn(2, 3, size, size)).shape == (2, 7)


def test_gcn_and_gin_node_and_graph_level() -> None:
    graphs = [
        Data(x=torch.randn(5, 3), edge_index=torch.tensor([[0, 1, 2], [1, 2, 3]])) for _ in range(2)
    ]
    batch = Batch.from_data_list(graphs)
    assert get_model("gcn", in_channels=3, num_classes=4)(batch).shape == (10, 4)
    assert get_model("gcn", in_channels=3, num_classes=4, readout="mean")(batch).shape == (2, 4)
    gin = get_model("gin", in_channels=3, num_classes=4, readout="sum")
    assert gin.eval()(batch).shape == (2, 4)
    # every graph network is node level by default, as PyG's models are
    for name in ("gcn", "gin", "sage", "gat", "gated_gcn"):
        assert get_model(name, in_channels=3, num_classes=4).eval()(batch).shape == (10, 4)


def test_mlp_on_images_and_on_node_features() -> None:
    model = get_model("mlp", in_channels=1, num_classes=10, input_shape=(1, 8, 8))
    assert model(torch.randn(4, 1, 8, 8)).shape == (4, 10)
    with pytest.raises(ValueError, match="MLP: input must have 64 features"):
        model(torch.randn(4, 1, 9, 9))


def test_build_model_takes_what_load_dataset_takes() -> None:
    assert build_model("gcn", "cora").input_kind == "nodes"  # a name is loaded
    images, labels = torch.rand(40, 3, 16, 16), torch.arange(40) % 4
    model = build_model("lenet5", (images, labels))
    assert model(images[:2]).shape == (2, 4)
    with pytest.raises(TypeError, match=r"load_dataset: source must be a dataset name.*got int"):
        build_model("gcn", 42)
