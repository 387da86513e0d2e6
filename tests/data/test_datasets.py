import urllib.error

import numpy as np
import pytest
import torch
from torch_geometric.datasets import Planetoid, TUDataset
from torchvision.datasets import MNIST

from gconv import list_datasets, load_dataset
from gconv.data import DatasetNotFoundError


def test_list_datasets() -> None:
    assert list_datasets() == ["cora", "digits", "mnist", "mnist_grid", "mutag"]


def test_unknown_name() -> None:
    with pytest.raises(ValueError, match="load_dataset: name must be one of cora"):
        load_dataset("cifar")


def test_cora_public_split_and_normalized_features(cora) -> None:
    data = cora.train
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


def test_mnist_splits(data_root) -> None:
    mnist = load_dataset("mnist", root=data_root)
    assert (len(mnist.train), len(mnist.val), len(mnist.test)) == (55000, 5000, 10000)
    x, y = mnist.test[0]
    assert x.shape == (1, 28, 28) and y.item() == 7  # the first test image is a 7
    assert abs(float(mnist.train.tensors[0][:5000].mean())) < 0.05  # normalized
    again = load_dataset("mnist", root=data_root)
    assert torch.equal(again.val.tensors[1], mnist.val.tensors[1])  # fixed-seed split


def test_mnist_grid_batches_are_grid_graphs(data_root) -> None:
    grid = load_dataset("mnist_grid", root=data_root, limit=600)
    batch = next(iter(grid.loader(grid.train, batch_size=8)))
    assert grid.task == "graph" and batch.num_graphs == 8
    assert batch.x.shape == (8 * 784, 1) and batch.grid_shape == (8, 28, 28)
    assert batch.y.shape == (8,)


def test_digits_offline(digits) -> None:
    assert digits.input_shape == (1, 8, 8)
    assert len(digits.train) + len(digits.val) + len(digits.test) == 1797
    assert float(digits.train.tensors[0].max()) <= 1.0


@pytest.mark.parametrize(
    ("name", "loader", "folder"),
    [
        ("cora", Planetoid, "Cora/raw"),
        ("mutag", TUDataset, "MUTAG/raw"),
        ("mnist", MNIST, "MNIST/raw"),
    ],
)
def test_missing_files_offline_say_what_and_where(
    name: str, loader: type, folder: str, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def offline(self) -> None:
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(loader, "download", offline)
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset(name, root=tmp_path)
    message = str(info.value)
    assert str(tmp_path / folder) in message
    assert "GCONV_DATA" in message and "Expected:" in message
    assert info.value.__cause__ is None and info.value.__suppress_context__
