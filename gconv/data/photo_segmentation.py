"""Segmentation of photographs: Pascal VOC 2012 (``voc_seg``) and the Oxford-IIIT Pet
trimaps (``pet_seg``) through torchvision, downloaded into the data root when online,
resized to a square and split with a tenth of the training part held out. Pixels of no
class (VOC's object borders, the trimaps' border class) are :data:`IGNORE_INDEX`."""

from __future__ import annotations

import urllib.error
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from gconv._checks import check_positive_int
from gconv.data.datasets import DatasetNotFoundError, LoadedDataset, _register
from gconv.data.segmentation import IGNORE_INDEX

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


class SegmentationFiles(Dataset[tuple[Tensor, Tensor]]):
    """A torchvision segmentation dataset of PIL pairs as tensors: the image resized to
    ``size x size`` (bilinear) and normalized with ImageNet's statistics, the mask resized
    with nearest neighbours and its values mapped through ``classes`` (a lookup table of
    256 entries; :data:`IGNORE_INDEX` for pixels of no class)."""

    def __init__(
        self, base: Any, size: int, classes: np.ndarray, indices: np.ndarray | None = None
    ) -> None:
        self.base, self.size, self.classes = base, size, classes
        self.indices = np.arange(len(base)) if indices is None else indices

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        from PIL import Image

        image, mask = self.base[int(self.indices[index])]
        image = image.convert("RGB").resize((self.size, self.size), Image.Resampling.BILINEAR)
        mask = mask.resize((self.size, self.size), Image.Resampling.NEAREST)
        x = torch.from_numpy(np.asarray(image, np.float32) / 255.0).permute(2, 0, 1)
        x = (x - torch.tensor(IMAGENET_MEAN).view(3, 1, 1)) / torch.tensor(IMAGENET_STD).view(
            3, 1, 1
        )
        y = torch.from_numpy(self.classes[np.asarray(mask, np.uint8)].astype(np.int64))
        return x, y


def _torchvision(name: str, folder: Path, build: Callable[[bool], Any]) -> Any:
    """``build(download)``: downloads only when ``folder`` is missing; offline, says what
    to put where."""
    try:
        return build(not folder.is_dir())
    except (urllib.error.URLError, OSError, RuntimeError) as err:
        raise DatasetNotFoundError(
            f"load_dataset: the {name} files are not under {folder} and could not be "
            f"downloaded ({type(err).__name__}: {err}). Download them on a machine that is "
            "online (the same call does it) and copy the folder there."
        ) from None


def _segmentation_splits(
    name: str,
    train: Any,
    test: Any,
    size: int,
    classes: np.ndarray,
    num_classes: int,
    seed: int,
    limit: int | None,
    class_names: tuple[str, ...],
) -> LoadedDataset:
    """A tenth of ``train`` held out for validation (the official test split of VOC has
    no public masks, so its ``val`` is the test split here)."""
    order = np.random.default_rng(seed).permutation(len(train))
    held = max(len(train) // 10, 1)
    parts = [order[held:], order[:held], np.arange(len(test))]
    if limit is not None:
        parts = [p[:limit] for p in parts]
    tr, va, te = (
        SegmentationFiles(base, size, classes, part)
        for base, part in zip((train, train, test), parts, strict=True)
    )
    return LoadedDataset(
        name,
        "segmentation",
        "images_dense",
        tr,
        va,
        te,
        3,
        num_classes,
        (3, size, size),
        class_names=class_names,
    )


VOC_CLASSES = (
    "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat",
    "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
    "sheep", "sofa", "train", "tvmonitor",
)  # fmt: skip


@_register("voc_seg", "images_dense")
def _voc_seg(
    root: Path, *, size: int = 256, seed: int = 0, limit: int | None = None
) -> LoadedDataset:
    """Pascal VOC 2012 segmentation, 21 classes (background and 20 objects), borders
    ignored; ``train`` split into train and validation, ``val`` as the test split."""
    from torchvision.datasets import VOCSegmentation

    check_positive_int("load_dataset", "size", size)
    folder = root / "VOCdevkit" / "VOC2012"
    train, test = (
        _torchvision(
            "VOC 2012",
            folder,
            lambda download, s=split: VOCSegmentation(str(root), "2012", s, download),  # type: ignore[misc]
        )
        for split in ("train", "val")
    )
    classes = np.arange(256, dtype=np.int64)  # VOC's masks hold class ids and 255 already
    return _segmentation_splits("voc_seg", train, test, size, classes, 21, seed, limit, VOC_CLASSES)


@_register("pet_seg", "images_dense")
def _pet_seg(
    root: Path, *, size: int = 128, seed: int = 0, limit: int | None = None
) -> LoadedDataset:
    """Oxford-IIIT Pet trimaps, 2 classes (background, pet), the trimap's border
    ignored; ``trainval`` split into train and validation, ``test`` as the test split."""
    from torchvision.datasets import OxfordIIITPet

    check_positive_int("load_dataset", "size", size)
    folder = root / "oxford-iiit-pet"
    train, test = (
        _torchvision(
            "Oxford-IIIT Pet",
            folder,
            lambda download, s=split: OxfordIIITPet(  # type: ignore[misc]
                str(root), s, target_types="segmentation", download=download
            ),
        )
        for split in ("trainval", "test")
    )
    classes = np.full(256, IGNORE_INDEX, dtype=np.int64)
    classes[1], classes[2] = 1, 0  # trimap: 1 pet, 2 background, 3 border
    return _segmentation_splits(
        "pet_seg", train, test, size, classes, 2, seed, limit, ("background", "pet")
    )
