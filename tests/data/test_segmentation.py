"""Segmentation data: mnist_seg from the real MNIST files, VOC and Pet through
torchvision (here from files laid out as torchvision expects; offline, a named error)."""

import numpy as np
import pytest
import torch
import torchvision.datasets.voc as tv_voc
from PIL import Image
from torchvision.datasets import OxfordIIITPet

from gconv.data import IGNORE_INDEX, DatasetNotFoundError, load_dataset, place_digits


def _squares(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Digits that are 28x28 squares: ink 200 inside, a faint rim of 100."""
    digits = np.full((n, 28, 28), 100, np.uint8)
    digits[:, 2:-2, 2:-2] = 200
    return digits, np.arange(n) % 10


def test_place_digits_without_overlap_and_labels_ink_and_rim() -> None:
    digits, labels = _squares(40)
    images, masks = place_digits(digits, labels, 12, 64, seed=3)
    assert images.shape == masks.shape == (12, 64, 64)
    for image, mask in zip(images, masks, strict=True):
        placed = int((image > 0).sum()) // (28 * 28)
        assert placed in (2, 3) and int((image > 0).sum()) == placed * 28 * 28  # no overlap
        assert set(np.unique(mask)) <= {0, IGNORE_INDEX, *range(1, 11)}
        assert ((mask == IGNORE_INDEX) == (image == 100)).all()  # the faint rim
        assert ((mask >= 1) & (mask <= 10)).sum() == placed * 24 * 24  # the ink
    again = place_digits(digits, labels, 12, 64, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip((images, masks), again, strict=True))
    assert not np.array_equal(place_digits(digits, labels, 12, 64, seed=4)[1], masks)


def test_mnist_seg_from_the_real_files_is_cached(data_root, tmp_path) -> None:
    root = tmp_path / "root"
    (root / "MNIST").mkdir(parents=True)
    (root / "MNIST" / "raw").symlink_to(data_root / "MNIST" / "raw")
    seg = load_dataset("mnist_seg", root=root, train_size=20, val_size=6, test_size=8)
    assert (seg.task, seg.input_kind, seg.num_classes) == ("segmentation", "images_dense", 11)
    assert [len(s) for s in (seg.train, seg.val, seg.test)] == [20, 6, 8]
    x, y = seg.train[0]
    assert x.shape == (1, 64, 64) and y.shape == (64, 64) and y.dtype == torch.long
    classes = torch.cat([s.tensors[1].unique() for s in (seg.train, seg.val, seg.test)])
    assert set(classes.tolist()) <= {0, IGNORE_INDEX, *range(1, 11)}
    cache = list((root / "MNIST" / "segmentation").glob("mnist_seg-*.pt"))
    assert len(cache) == 1
    stamp = cache[0].stat().st_mtime_ns
    again = load_dataset("mnist_seg", root=root, train_size=20, val_size=6, test_size=8)
    assert cache[0].stat().st_mtime_ns == stamp  # read, not built again
    assert torch.equal(again.test.tensors[1], seg.test.tensors[1])
    other = load_dataset("mnist_seg", root=root, train_size=20, val_size=6, test_size=8, seed=1)
    assert not torch.equal(other.test.tensors[1], seg.test.tensors[1])
    with pytest.raises(ValueError, match="canvas must be an int >= 28"):
        load_dataset("mnist_seg", root=root, canvas=20)


def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def offline(*args, **kwargs) -> None:
        raise OSError("no network")

    monkeypatch.setattr(tv_voc, "download_and_extract_archive", offline)
    monkeypatch.setattr(OxfordIIITPet, "_download", offline)


@pytest.mark.parametrize(("name", "folder"), [("voc_seg", "VOCdevkit"), ("pet_seg", "oxford")])
def test_voc_and_pet_offline_say_where(name, folder, tmp_path, monkeypatch) -> None:
    _offline(monkeypatch)
    with pytest.raises(DatasetNotFoundError, match=f"files are not under .*{folder}"):
        load_dataset(name, root=tmp_path)


def _image(path, size=(30, 20)) -> None:
    Image.fromarray(np.random.randint(0, 255, (*size[::-1], 3), np.uint8)).save(path)


def _mask(path, values, size=(30, 20)) -> None:
    mask = np.random.choice(values, size[::-1]).astype(np.uint8)
    Image.fromarray(mask, mode="L").save(path)


def test_voc_from_files_in_torchvision_s_layout(tmp_path, monkeypatch) -> None:
    _offline(monkeypatch)  # the files are there: nothing is downloaded
    voc = tmp_path / "VOCdevkit" / "VOC2012"
    for sub in ("JPEGImages", "SegmentationClass", "ImageSets/Segmentation"):
        (voc / sub).mkdir(parents=True)
    names = {"train": [f"t{i}" for i in range(10)], "val": ["v0", "v1"]}
    for split, ids in names.items():
        (voc / "ImageSets/Segmentation" / f"{split}.txt").write_text("\n".join(ids))
        for i in ids:
            _image(voc / "JPEGImages" / f"{i}.jpg")
            _mask(voc / "SegmentationClass" / f"{i}.png", [0, 3, 20, 255])
    seg = load_dataset("voc_seg", root=tmp_path, size=16)
    assert [len(s) for s in (seg.train, seg.val, seg.test)] == [9, 1, 2]
    assert (seg.num_classes, seg.in_channels) == (21, 3)
    x, y = seg.test[0]
    assert x.shape == (3, 16, 16) and y.shape == (16, 16) and y.dtype == torch.long
    assert set(y.unique().tolist()) <= {0, 3, 20, 255}


def test_pet_trimaps_become_background_pet_and_ignored_border(tmp_path, monkeypatch) -> None:
    _offline(monkeypatch)
    pet = tmp_path / "oxford-iiit-pet"
    (pet / "images").mkdir(parents=True)
    (pet / "annotations" / "trimaps").mkdir(parents=True)
    for split, ids in {"trainval": ["cat_1", "cat_2", "dog_1"], "test": ["dog_2"]}.items():
        lines = [f"{i} {1 + k % 2} {1 + k % 2} 1" for k, i in enumerate(ids)]
        (pet / "annotations" / f"{split}.txt").write_text("\n".join(lines))
        for i in ids:
            _image(pet / "images" / f"{i}.jpg")
            _mask(pet / "annotations" / "trimaps" / f"{i}.png", [1, 2, 3])
    seg = load_dataset("pet_seg", root=tmp_path, size=8)
    assert [len(s) for s in (seg.train, seg.val, seg.test)] == [2, 1, 1]
    _, y = seg.test[0]
    raw = np.asarray(Image.open(pet / "annotations/trimaps/dog_2.png").resize((8, 8), 0))
    expected = np.select([raw == 1, raw == 2], [1, 0], IGNORE_INDEX)
    assert np.array_equal(y.numpy(), expected)
