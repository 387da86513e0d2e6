"""``load_dataset`` on a user's own data, made by each test: folders of images, files of
graphs, PyG and torch datasets, tensors."""

from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import Subset, TensorDataset
from torch_geometric.data import Data
from torch_geometric.utils import from_networkx

from gconv.data import load_dataset
from gconv.models import build_model, fits
from gconv.train import Trainer, cross_validate
from tests.userdata import CLASSES, make_graphs, write_images


def test_a_folder_of_images_is_split_stratified_and_standardized(tmp_path: Path) -> None:
    write_images(tmp_path / "pets")
    pets = load_dataset(tmp_path / "pets")
    assert (pets.name, pets.task, pets.input_kind) == ("pets", "image", "images")
    assert pets.class_names == CLASSES and pets.num_classes == 3
    assert pets.input_shape == (3, 16, 14) and pets.in_channels == 3
    assert [len(s) for s in (pets.train, pets.val, pets.test)] == [21, 3, 6]
    assert "stratified, seed 0" in pets.split_method
    for split in (pets.train, pets.val, pets.test):  # every class in every split
        assert sorted(split.labels.unique().tolist()) == [0, 1, 2]
    x = pets.train.standardized()  # the training split's own statistics
    torch.testing.assert_close(x.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(x.std(dim=(0, 2, 3)), torch.ones(3), atol=1e-5, rtol=0)
    assert pets.normalization["scale"] == 255.0 and len(pets.normalization["mean"]) == 3
    again = load_dataset(tmp_path / "pets", seed=1)  # another seed, another split
    assert not torch.equal(again.test.pixels, pets.test.pixels)


def test_grey_images_have_one_channel(tmp_path: Path) -> None:
    write_images(tmp_path / "grey", mode="L")
    assert load_dataset(tmp_path / "grey").input_shape == (1, 16, 14)


def test_a_folder_with_its_own_splits_keeps_them(tmp_path: Path) -> None:
    write_images(tmp_path / "data" / "train", per_class=10)
    write_images(tmp_path / "data" / "test", per_class=2)
    data = load_dataset(tmp_path / "data")
    assert len(data.test) == 6  # the test/ folder, as it is
    assert len(data.train) + len(data.val) == 30  # val carved from train/
    assert "the source's own train, test; val (4) carved from train" in data.split_method


def test_folder_mistakes_name_the_path(tmp_path: Path) -> None:
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "a.png").write_bytes(b"")
    with pytest.raises(ValueError, match=r"flat must hold one subfolder of images per class"):
        load_dataset(tmp_path / "flat")
    write_images(tmp_path / "odd" / "train")
    write_images(tmp_path / "odd" / "test")
    (tmp_path / "odd" / "test" / "eel").rename(tmp_path / "odd" / "test" / "fox")
    with pytest.raises(
        ValueError, match=r"test must have the classes of .*train.*found cat, dog, fox"
    ):
        load_dataset(tmp_path / "odd")
    write_images(tmp_path / "broken")
    (tmp_path / "broken" / "dog" / "3.png").write_bytes(b"not an image")
    with pytest.raises(ValueError, match=r"3.png must be a readable image"):
        load_dataset(tmp_path / "broken")
    write_images(tmp_path / "sizes")
    write_images(tmp_path / "sizes" / "more", size=(9, 9))
    with pytest.raises(ValueError, match=r"images must share one size, or give image_size"):
        load_dataset(tmp_path / "sizes")
    with pytest.raises(ValueError, match=r"no such dataset, folder or file"):
        load_dataset(tmp_path / "absent")


def test_image_size_resizes(tmp_path: Path) -> None:
    write_images(tmp_path / "a", size=(12, 10))
    write_images(tmp_path / "a" / "extra", size=(9, 9))  # a fourth class of another size
    data = load_dataset(tmp_path / "a", image_size=(8, 8))
    assert data.input_shape == (3, 8, 8) and data.num_classes == 4


def test_a_file_of_graphs_and_one_of_a_graph(tmp_path: Path) -> None:
    torch.save(make_graphs(), tmp_path / "graphs.pt")
    graphs = load_dataset(tmp_path / "graphs.pt")
    assert (graphs.task, graphs.in_channels, graphs.num_classes) == ("graph", 4, 2)
    assert len(graphs.folds) == 10 and len(graphs.train) + len(graphs.val) + len(graphs.test) == 40
    import networkx as nx

    node = from_networkx(nx.cycle_graph(40))
    node.y = torch.arange(node.num_nodes) % 2
    torch.save(node, tmp_path / "one.pt")
    nodes = load_dataset(tmp_path / "one.pt")
    assert nodes.task == "node" and "as node masks" in nodes.split_method
    masks = torch.stack([nodes.train.train_mask, nodes.train.val_mask, nodes.train.test_mask])
    assert torch.equal(masks.sum(0), torch.ones(node.num_nodes, dtype=torch.long))
    torch.save({"x": 1}, tmp_path / "other.pt")
    with pytest.raises(
        ValueError, match=r"other.pt must hold a list of PyG Data .* \(found dict\)"
    ):
        load_dataset(tmp_path / "other.pt")


def test_graphs_without_features_get_ones_and_train() -> None:
    graphs = load_dataset(make_graphs(features=False))  # PyG's from_networkx: no x
    assert graphs.in_channels == 1 and graphs.train[0].x.dtype == torch.float32
    model = build_model("gin", graphs)
    assert model.input_kind == "graphs"
    Trainer(max_epochs=1, progress=False).fit(model, graphs)


def test_a_graph_without_labels_is_refused() -> None:
    graphs = make_graphs()
    del graphs[3].y
    with pytest.raises(ValueError, match=r"one label y per graph \(graph 3 has none\)"):
        load_dataset(graphs)


def test_datasets_and_tensors_of_images() -> None:
    from torchvision.datasets import FakeData
    from torchvision.transforms import ToTensor

    fake = FakeData(size=30, image_size=(3, 9, 9), num_classes=2, transform=ToTensor())
    assert load_dataset(fake).input_shape == (3, 9, 9)
    assert (
        load_dataset(
            Subset(FakeData(size=40, image_size=(1, 9, 9), num_classes=2), range(30))
        ).in_channels
        == 1
    )
    x, y = torch.rand(30, 2, 6, 6), torch.arange(30) % 3
    assert load_dataset(TensorDataset(x, y)).input_shape == (2, 6, 6)
    hwc = (np.random.default_rng(0).random((30, 6, 6, 3)) * 255).astype(np.uint8)
    assert load_dataset((hwc, y.numpy())).input_shape == (3, 6, 6)  # NumPy's [N, H, W, C]


def test_image_folder_of_grid_graphs_is_a_pixel_grid_dataset(tmp_path: Path) -> None:
    from torchvision.datasets import ImageFolder

    from gconv.transforms import ImageToGridGraph

    write_images(tmp_path / "pets", per_class=6)
    folder = ImageFolder(str(tmp_path / "pets"), transform=ImageToGridGraph())
    data = load_dataset(folder)
    assert (data.task, data.input_kind, data.input_shape) == ("graph", "pixel_grid", (3, 16, 14))
    model = build_model("grid_gnn", data)
    Trainer(max_epochs=1, batch_size=4, progress=False).fit(model, data.train, data.val)
    Trainer(max_epochs=1, batch_size=4, progress=False).fit(model, folder)  # as it is


def test_fits_and_build_model_take_what_load_dataset_takes() -> None:
    graphs = make_graphs()
    assert fits("gin", graphs) and not fits("lenet5", graphs)
    assert build_model("gcn", graphs).input_kind == "graphs"  # the level from the data


def test_fit_and_cross_validate_take_subsets_and_lists_of_graphs() -> None:
    graphs = make_graphs(60)
    train, val = torch.utils.data.random_split(graphs, [48, 12])
    model = build_model("gin", graphs)
    history = Trainer(max_epochs=2, progress=False, seed=0).fit(model, train, val)
    assert len(history.history["val_accuracy"]) == 2
    result = cross_validate(
        lambda: build_model("gin", graphs), graphs, folds=3, max_epochs=1, progress=False
    )
    assert len(result["folds"]) == 3


def test_predict_takes_unlabelled_data() -> None:
    model = build_model("lenet5", (torch.rand(20, 1, 16, 16), torch.arange(20) % 4))
    trainer = Trainer(max_epochs=1, progress=False)
    assert trainer.predict(model, torch.rand(5, 1, 16, 16)).shape == (5, 4)
    graphs = make_graphs()
    gin = build_model("gin", graphs)
    unlabelled = [Data(x=g.x, edge_index=g.edge_index) for g in graphs[:7]]
    assert trainer.predict(gin, unlabelled).shape == (7, 2)


def test_a_bare_image_folder_is_named_not_collated(tmp_path: Path) -> None:
    from torchvision.datasets import ImageFolder

    write_images(tmp_path / "pets")
    model = build_model("lenet5", (torch.rand(20, 3, 12, 12), torch.arange(20) % 3))
    with pytest.raises(TypeError, match=r"image data must give image tensors \(got a Image"):
        Trainer(max_epochs=1, progress=False).fit(model, ImageFolder(str(tmp_path / "pets")))


def test_a_model_names_graphs_without_features() -> None:
    from torch_geometric.data import Batch

    model = build_model("gin", make_graphs())
    with pytest.raises(TypeError, match=r"GIN: the graphs have no node features x; .*load_dataset"):
        model(Batch.from_data_list(make_graphs(4, features=False)))


def test_one_format_for_every_split(tmp_path: Path) -> None:
    write_images(tmp_path / "data" / "train", per_class=10, mode="L")  # grey training images
    write_images(tmp_path / "data" / "test", per_class=2)  # colour test images
    data = load_dataset(tmp_path / "data")
    shapes = {tuple(split.pixels.shape[1:]) for split in (data.train, data.val, data.test)}
    assert shapes == {(3, 16, 14)}  # any colour image makes every split RGB
