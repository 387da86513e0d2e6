import pytest
import torch
from torch.testing import assert_close

from gconv import images_to_graphs
from gconv.models import get_model, list_models, register_model


def test_list_and_pattern() -> None:
    assert {"gcn", "gin", "mlp", "lenet5", "grid_gnn", "grid_cnn"} <= set(list_models())
    assert list_models("grid_*") == ["grid_cnn", "grid_gnn"]


def test_unknown_and_duplicate_names() -> None:
    with pytest.raises(ValueError, match="get_model: name must be one of"):
        get_model("resnet9000")

    def mlp() -> torch.nn.Module:
        return torch.nn.Identity()

    with pytest.raises(ValueError, match="a model named 'mlp' is registered already"):
        register_model(inputs=("image",))(mlp)
    with pytest.raises(ValueError, match="inputs must be from"):
        register_model(inputs=("audio",))


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


def test_flatten_head_needs_the_input_shape() -> None:
    with pytest.raises(ValueError, match="readout 'flatten' needs input_shape"):
        get_model("grid_cnn", in_channels=1, num_classes=10, input_shape=None)


@pytest.mark.parametrize("size", [28, 32])
def test_lenet5_sizes(size: int) -> None:
    model = get_model("lenet5", in_channels=3, num_classes=4, input_shape=(3, size, size))
    assert model(torch.randn(2, 3, size, size)).shape == (2, 4)
    model.reset_classifier(7)
    assert model(torch.randn(2, 3, size, size)).shape == (2, 7)


def test_gcn_and_gin_node_and_graph_level() -> None:
    from torch_geometric.data import Batch, Data

    graphs = [
        Data(x=torch.randn(5, 3), edge_index=torch.tensor([[0, 1, 2], [1, 2, 3]])) for _ in range(2)
    ]
    batch = Batch.from_data_list(graphs)
    assert get_model("gcn", in_channels=3, num_classes=4)(batch).shape == (10, 4)
    assert get_model("gcn", in_channels=3, num_classes=4, readout="mean")(batch).shape == (2, 4)
    assert get_model("gin", in_channels=3, num_classes=4).eval()(batch).shape == (2, 4)


def test_mlp_on_images_and_on_node_features() -> None:
    model = get_model("mlp", in_channels=1, num_classes=10, input_shape=(1, 8, 8))
    assert model(torch.randn(4, 1, 8, 8)).shape == (4, 10)
    with pytest.raises(ValueError, match="MLP: input must have 64 features"):
        model(torch.randn(4, 1, 9, 9))
