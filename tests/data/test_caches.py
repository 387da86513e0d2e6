"""Caches carry a digest of their content: a damaged or unverifiable cache is rebuilt,
saying so in one line, and never trained on."""

from pathlib import Path

import pytest
import torch
from torch.utils.data import TensorDataset

from gconv._io import CACHE_MAGIC, load_cache, save_cache
from gconv.data import load_dataset
from gconv.data.superpixels import superpixel_dataset


def _flip(path: Path, at: float = 0.6) -> None:
    """A few bytes of the payload garbled, as a bad disk or a cut copy would."""
    data = bytearray(path.read_bytes())
    i = int(len(data) * at)
    data[i : i + 8] = bytes(255 - b for b in data[i : i + 8])
    path.write_bytes(bytes(data))


def test_a_cache_round_trips_and_a_damaged_one_reads_as_absent(tmp_path, capsys) -> None:
    path = tmp_path / "c.pt"
    value = {"x": torch.arange(1000.0), "y": [1, 2, 3]}
    save_cache(value, path)
    assert path.read_bytes().startswith(CACHE_MAGIC)
    got = load_cache(path, "owner")
    assert torch.equal(got["x"], value["x"]) and got["y"] == [1, 2, 3]
    _flip(path)
    assert load_cache(path, "owner") is None
    assert capsys.readouterr().err.strip() == (
        f"owner: cache {path} does not match its digest (damaged); rebuilding it"
    )
    torch.save(value, path)  # an older gconv's cache: no digest to check it against
    assert load_cache(path, "owner") is None
    assert "has no digest" in capsys.readouterr().err
    assert load_cache(tmp_path / "none.pt", "owner") is None


@pytest.mark.parametrize("damage", ["flip", "legacy"])
def test_a_damaged_superpixel_cache_is_rebuilt_not_trained_on(tmp_path, capsys, damage) -> None:
    split = TensorDataset(torch.rand(6, 1, 28, 28), torch.arange(6))
    graphs = superpixel_dataset(split, tmp_path, workers=1, progress=False, name="t")
    (cache,) = tmp_path.glob("t-*.pt")
    if damage == "flip":
        _flip(cache)
    else:
        torch.save(graphs, cache)
    again = superpixel_dataset(split, tmp_path, workers=1, progress=False, name="t")
    assert "rebuilding it" in capsys.readouterr().err
    for a, b in zip(graphs, again, strict=True):
        assert torch.equal(a.x, b.x) and torch.equal(a.edge_index, b.edge_index)
    assert load_cache(cache, "test", weights_only=False) is not None  # whole again


@pytest.mark.data
def test_a_damaged_segmentation_cache_is_rebuilt(data_root: Path, tmp_path, capsys) -> None:
    (tmp_path / "MNIST").mkdir()
    (tmp_path / "MNIST" / "raw").symlink_to(data_root / "MNIST" / "raw")
    sizes = {"train_size": 8, "val_size": 4, "test_size": 4}
    first = load_dataset("mnist_seg", root=tmp_path, **sizes)
    (cache,) = (tmp_path / "MNIST" / "segmentation").glob("*.pt")
    _flip(cache, 0.9)
    again = load_dataset("mnist_seg", root=tmp_path, **sizes)
    assert "does not match its digest" in capsys.readouterr().err
    for a, b in zip(first.train.tensors, again.train.tensors, strict=True):
        assert torch.equal(a, b)
