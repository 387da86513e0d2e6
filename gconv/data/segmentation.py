"""Segmentation datasets: a class for every pixel.

- ``mnist_seg``: two or three real MNIST digits placed without overlap on a 64x64
  canvas; label 0 is background and ``1 + digit`` marks a digit's ink. Built
  deterministically from the MNIST files (train and validation canvases from MNIST's
  training digits, split as ``mnist`` splits them; test canvases from its test digits)
  and cached under the data root, named by a digest of everything that went into it.
- ``voc_seg`` and ``pet_seg`` (:mod:`gconv.data.photo_segmentation`): Pascal VOC 2012
  and the Oxford-IIIT Pet trimaps through torchvision, downloaded into the data root
  when online.

Pixels that belong to no class are :data:`IGNORE_INDEX`, as in VOC (object borders):
the faint anti-aliased rim of an MNIST digit, VOC's borders and the Pet trimaps' border
class. Training and scoring leave them out.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import TensorDataset

from gconv._checks import check_positive_int
from gconv._io import load_cache, save_cache
from gconv.data.datasets import (
    MNIST_MEAN,
    MNIST_STD,
    LoadedDataset,
    _fetch,
    _register,
)
from gconv.data.splits import stratified_split
from gconv.errors import GconvValueError

IGNORE_INDEX = 255  # a pixel of no class: left out of the loss and the scores
INK = 128  # a digit's pixels from half intensity up; fainter non-zero ones are its rim
FORMAT_VERSION = 2  # bumped whenever the canvases would come out differently


def _ink(digit: np.ndarray) -> tuple[slice, slice]:
    """The rows and columns of a digit's bounding box (all of it when it is blank)."""
    rows, cols = np.flatnonzero(digit.any(1)), np.flatnonzero(digit.any(0))
    if rows.size == 0:
        return slice(0, 0), slice(0, 0)
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def _place(
    digit: np.ndarray, boxes: list[tuple[int, int, int, int]], size: int, rng: np.random.Generator
) -> tuple[int, int, int, int] | None:
    """A random ``(y, x, h, w)`` for the digit's ink, a pixel clear of ``boxes``, or
    ``None`` when 50 tries find none (or the digit is blank)."""
    rows, cols = _ink(digit)
    h, w = rows.stop - rows.start, cols.stop - cols.start
    if h == 0:
        return None
    for _ in range(50):
        y, x = int(rng.integers(0, size - h + 1)), int(rng.integers(0, size - w + 1))
        if all(
            y + h + 1 <= y2 or y2 + h2 + 1 <= y or x + w + 1 <= x2 or x2 + w2 + 1 <= x
            for y2, x2, h2, w2 in boxes
        ):
            return y, x, h, w
    return None


def place_digits(
    digits: np.ndarray, labels: np.ndarray, count: int, size: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` canvases of ``size x size``, each with two or three of ``digits``
    (``[N, 28, 28]`` uint8) cropped to their ink and placed at random, their boxes a
    pixel apart (a canvas whose first digits leave no room for a second starts again);
    every digit is used once before any is used again.

    Returns:
        ``(images, masks)``, both ``[count, size, size]`` uint8: 0 background,
        ``1 + digit`` where the digit's ink is at least :data:`INK`, and
        :data:`IGNORE_INDEX` on its fainter rim.
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(digits))
    images = np.zeros((count, size, size), np.uint8)
    masks = np.zeros((count, size, size), np.uint8)
    taken = 0
    for c in range(count):
        wanted = int(rng.integers(2, 4))
        for _ in range(20):  # a canvas whose first digits leave no room starts again
            boxes: list[tuple[int, int, int, int]] = []
            images[c], masks[c] = 0, 0
            for _ in range(8 * wanted):  # a digit that finds no room gives way to the next
                if len(boxes) == wanted:
                    break
                index = order[taken % len(order)]
                taken += 1
                box = _place(digits[index], boxes, size, rng)
                if box is None:
                    continue
                y, x, h, w = box
                boxes.append(box)
                crop = digits[index][_ink(digits[index])]
                images[c, y : y + h, x : x + w] = crop
                label = np.where(crop >= INK, 1 + int(labels[index]), IGNORE_INDEX)
                masks[c, y : y + h, x : x + w] = np.where(crop > 0, label, 0)
            if len(boxes) >= 2:
                break
    return images, masks


def _as_dataset(images: Tensor, masks: Tensor) -> TensorDataset:
    x = (images.unsqueeze(1).float() / 255.0 - MNIST_MEAN) / MNIST_STD
    return TensorDataset(x, masks.long())


@_register("mnist_seg", "images_dense")
def _mnist_seg(
    root: Path,
    *,
    train_size: int = 6000,
    val_size: int = 1000,
    test_size: int = 2000,
    canvas: int = 64,
    seed: int = 0,
    limit: int | None = None,
) -> LoadedDataset:
    """MNIST digits on a ``canvas x canvas`` background, 11 classes per pixel.

    ``limit`` shrinks every split to at most that many canvases (``--quick``).
    """
    from torchvision.datasets import MNIST

    owner = "load_dataset"
    for name, value in (("train_size", train_size), ("val_size", val_size)):
        check_positive_int(owner, name, value)
    check_positive_int(owner, "test_size", test_size)
    if not isinstance(canvas, int) or canvas < 28:
        raise GconvValueError(
            f"{owner}: canvas must be an int >= 28, a digit's side (got {canvas!r})"
        )
    sizes = {"train": train_size, "val": val_size, "test": test_size}
    if limit is not None:
        check_positive_int(owner, "limit", limit)
        sizes = {k: min(v, limit) for k, v in sizes.items()}
    train = _fetch("mnist", root, lambda _: MNIST(str(root), train=True, download=True))
    test = _fetch("mnist", root, lambda _: MNIST(str(root), train=False, download=True))
    params = {"sizes": sizes, "canvas": canvas, "seed": seed, "format": FORMAT_VERSION}
    digest = hashlib.sha1(json.dumps(params, sort_keys=True).encode())
    for source in (train.data, train.targets, test.data, test.targets):
        digest.update(source.numpy().tobytes())
    cache = root / "MNIST" / "segmentation" / f"mnist_seg-{digest.hexdigest()[:16]}.pt"
    splits = load_cache(cache, "load_dataset")
    if splits is None:
        labels = train.targets.numpy()
        # the digits of mnist's own training and validation split
        train_idx, val_idx = stratified_split(labels, (len(labels) - 5000, 5000), seed)
        sources = {
            "train": (train.data.numpy()[train_idx], labels[train_idx]),
            "val": (train.data.numpy()[val_idx], labels[val_idx]),
            "test": (test.data.numpy(), test.targets.numpy()),
        }
        splits = {}
        for i, (split, (digits, digit_labels)) in enumerate(sources.items()):
            images, masks = place_digits(digits, digit_labels, sizes[split], canvas, seed + i)
            splits[split] = (torch.from_numpy(images), torch.from_numpy(masks))
        save_cache(splits, cache)
    train_set, val_set, test_set = (_as_dataset(*splits[k]) for k in ("train", "val", "test"))
    return LoadedDataset(
        "mnist_seg",
        "segmentation",
        "images_dense",
        train_set,
        val_set,
        test_set,
        1,
        11,
        (1, canvas, canvas),
        class_names=("background", *(f"digit {d}" for d in range(10))),
    )
