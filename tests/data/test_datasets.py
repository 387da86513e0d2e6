import urllib.error

import numpy as np
import pytest
import torch
from torch_geometric.datasets import Planetoid, TUDataset
from torchvision.datasets import MNIST

from gconv.data import DatasetNotFoundError, list_datasets, load_dataset, stratified_folds
from gconv.data.datasets import BUNDLED


def test_list_datasets() -> None:
    assert list_datasets() == [
        "cifar10",
        "cora",
        "digits",
        "mnist",
        "mnist_grid",
        "mnist_seg",
        "mutag",
        "pet_seg",
        "voc_seg",
    ]


def test_unknown_name() -> None:
    with pytest.raises(ValueError, match="load_dataset: source must be one of cifar10, cora"):
        load_dataset("cifar")


def test_cora_public_split_and_normalized_features(cora) -> None:
    data = cora.train
    assert cora.input_kind == "nodes"
    assert cora.task == "node" and data.num_nodes == 2708 and data.edge_index.size(1) == 10556
    assert [int(data[m].sum()) for m in ("train_mask", "val_mask", "test_mask")] == [140, 500, 1000]
    row_sums = data.x.sum(1)
    assert torch.allclose(row_sums[row_sums > 0], torch.ones(int((row_sums > 0).sum())))
    assert (cora.in_channels, cora.num_classes) == (1433, 7)


def test_mutag_folds_are_stratified_and_partition(mutag) -> None:
    assert len(mutag.dataset) == 188 and mutag.in_channels == 7 and mutag.num_classes == 2
    labels = mutag.dataset.y.numpy()
    tests = np.concatenate([test for _, test in mutag.folds])
    assert sorted(tests.tolist()) == list(range(188))
    for train, test in mutag.folds:
        assert not set(train) & set(test)
        assert abs(labels[test].mean() - labels.mean()) < 0.1  # stratified: 2/3 positive
    assert len(mutag.train) + len(mutag.val) + len(mutag.test) == 188
    # the folds come from the one stratified folds function, as cross-validation's do
    again = stratified_folds(labels, 10, seed=0)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(again, mutag.folds, strict=True))
    assert mutag.input_kind == "graphs"


def test_mnist_splits(data_root) -> None:
    mnist = load_dataset("mnist", root=data_root)
    assert (len(mnist.train), len(mnist.val), len(mnist.test)) == (55000, 5000, 10000)
    x, y = mnist.test[0]
    assert x.shape == (1, 28, 28) and y.item() == 7  # the first test image is a 7
    assert abs(float(mnist.train[:5000][0].mean())) < 0.05  # normalized
    again = load_dataset("mnist", root=data_root)
    assert torch.equal(again.val.labels, mnist.val.labels)  # fixed-seed split


def test_mnist_grid_batches_are_grid_graphs(data_root) -> None:
    grid = load_dataset("mnist_grid", root=data_root, limit=600)
    batch = next(iter(grid.loader(grid.train, batch_size=8)))
    assert grid.task == "graph" and grid.input_kind == "pixel_grid" and batch.num_graphs == 8
    assert batch.x.shape == (8 * 784, 1) and batch.grid_shape == (8, 28, 28)
    assert batch.y.shape == (8,)


def test_digits_offline(digits) -> None:
    assert digits.input_shape == (1, 8, 8)
    assert len(digits.train) + len(digits.val) + len(digits.test) == 1797
    assert float(digits.train.standardized().max()) <= 1.0


def _offline(monkeypatch: pytest.MonkeyPatch, *loaders: type) -> None:
    def offline(self) -> None:
        raise urllib.error.URLError("no network")

    for loader in loaders:
        monkeypatch.setattr(loader, "download", offline)


@pytest.mark.parametrize(("name", "loader"), [("cora", Planetoid), ("mutag", TUDataset)])
def test_offline_without_files_reads_the_bundled_copy(
    name: str, loader: type, tmp_path, monkeypatch: pytest.MonkeyPatch, small_root
) -> None:
    _offline(monkeypatch, loader)
    bundled = load_dataset(name, root=tmp_path / "empty")
    reference = load_dataset(name, root=small_root)  # the real root, or the bundled copy
    first, second = bundled.dataset._data, reference.dataset._data
    assert first.keys() == second.keys()
    for key in first.keys():  # noqa: SIM118 (iterating a Data yields (key, value) pairs)
        assert torch.equal(first[key], second[key]), key
    assert bundled.input_kind == reference.input_kind
    assert not any((tmp_path / "empty").glob("*/raw/*"))  # nothing copied, only processed


def test_bundled_files_are_the_real_files(data_root) -> None:
    for folder in ("Cora/raw", "MUTAG/raw"):
        for path in sorted((BUNDLED / folder).iterdir()):
            assert path.read_bytes() == (data_root / folder / path.name).read_bytes(), path


def test_mnist_missing_files_offline_say_what_and_where(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name, folder = "mnist", "MNIST/raw"
    _offline(monkeypatch, MNIST)
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset(name, root=tmp_path)
    message = str(info.value)
    assert str(tmp_path / folder) in message
    assert "GCONV_DATA" in message and "copy its 4 raw files (train-images-idx3-ubyte" in message
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_loaded_datasets_behave_as_pyg_datasets(small_root) -> None:
    from torch_geometric.data import Data

    cora = load_dataset("cora", root=small_root)
    assert len(cora) == 1 and isinstance(cora[0], Data) and cora[0].num_nodes == 2708
    assert [g.num_nodes for g in cora] == [2708]
    assert (cora.num_features, cora.num_classes) == (1433, 7)
    mutag = load_dataset("mutag", root=small_root)
    assert len(mutag) == 188 and mutag.num_features == 7 and mutag.num_classes == 2
    assert sum(1 for _ in mutag) == 188 and mutag[0].y.shape == (1,)
    assert len(mutag[:10]) == 10  # slicing, as PyG's
    digits = load_dataset("digits")
    assert len(digits) == len(digits.train) + len(digits.val) + len(digits.test)
    x, _ = digits[0]
    assert x.shape == (1, 8, 8) and digits.num_features == 1
