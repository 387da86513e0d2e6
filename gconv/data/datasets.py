"""The datasets gconv trains on, by name: ``load_dataset("cora")``.

Each loader uses the standard one (torchvision's ``MNIST``, PyG's ``Planetoid`` and
``TUDataset``) under the data root, so files that are there are used as they are and
missing ones are downloaded when the machine is online. When they are missing and cannot
be downloaded, Cora and MUTAG fall back to the copy of their raw files that ships inside
the package (under 1 MB), so they work offline on a fresh install; for MNIST
:class:`DatasetNotFoundError` says which files were expected, where, and how to point
``GCONV_DATA`` at them.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import TensorDataset

from gconv.data._files import (
    BUNDLED,
    RAW_FILES,
    DatasetNotFoundError,
    _fetch,
    _reading_raw_from,
    copy_bundled,
    user_cache,
)
from gconv.data.image_split import ImageSplit
from gconv.data.kinds import input_kind as input_kind_named
from gconv.data.loaded import LoadedDataset
from gconv.data.root import data_root
from gconv.data.sources import from_source
from gconv.data.splits import first_fold_split, stratified_folds, stratified_split
from gconv.errors import GconvTypeError, GconvValueError
from gconv.loader.grid_graph_loader import GridGraphLoader

__all__ = [
    "BUNDLED",
    "DATASET_INPUTS",
    "MNIST_MEAN",
    "MNIST_STD",
    "RAW_FILES",
    "DatasetNotFoundError",
    "GridGraphLoader",
    "LoadedDataset",
    "copy_bundled",
    "labels_of",
    "list_datasets",
    "load_dataset",
    "user_cache",
]

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081

_LOADERS: dict[str, Callable[..., LoadedDataset]] = {}
# what each dataset gives a model, declared with its loader: known before any file is read
DATASET_INPUTS: dict[str, str] = {}


def _register(
    name: str, input_kind: str
) -> Callable[[Callable[..., LoadedDataset]], Callable[..., LoadedDataset]]:
    kind = input_kind_named(input_kind).name  # a misspelt kind fails at import, not in use

    def wrap(fn: Callable[..., LoadedDataset]) -> Callable[..., LoadedDataset]:
        _LOADERS[name], DATASET_INPUTS[name] = fn, kind
        return fn

    return wrap


def list_datasets() -> list[str]:
    """Names that :func:`load_dataset` accepts."""
    return sorted(_LOADERS)


def load_dataset(
    source: Any, *, root: str | os.PathLike[str] | None = None, **kwargs: Any
) -> LoadedDataset:
    """Loads a registered dataset by name, with its standard splits, or the user's own.

    Args:
        source: one of :func:`list_datasets` (``mnist``, ``mnist_grid``, ``cifar10``, ``cora``,
            ``mutag``, ``digits``, and for segmentation ``mnist_seg``, ``voc_seg``,
            ``pet_seg``); or your own data: a folder in torchvision's ``ImageFolder``
            layout (one subfolder per class, optionally under ``train/``, ``val/``,
            ``test/``), a ``.pt`` file written by ``torch.save`` holding a list of PyG
            ``Data`` (graph classification) or one ``Data`` (node classification), a
            PyG dataset, a list of ``Data``, a map-style dataset of ``(image, label)``
            pairs (torchvision's datasets, ``TensorDataset``, ``Subset``), or a pair
            ``(images, labels)`` of tensors or arrays.
        root: data root of the registered datasets; else ``$GCONV_DATA``; else
            ``./datasets``.
        **kwargs: options of a registered dataset (``val_size``, ``seed``, ``folds``,
            ``limit``); for your own data ``val_size`` and ``test_size`` (shares of the
            whole for the splits it lacks, 0.1 and 0.2), ``seed``, ``folds`` (graphs),
            ``image_size`` (``(H, W)`` to resize a folder's images to) and ``limit``.

    Splits your data lacks are made stratified and seeded (node masks too), and the
    result's ``split_method`` says how; images are standardized with the training
    split's own per-channel mean and standard deviation (``normalization``).

    Example:
        >>> cora = load_dataset("cora")
        >>> cora.task, cora.in_channels, cora.num_classes
        ('node', 1433, 7)
        >>> images, labels = torch.rand(50, 3, 12, 12), torch.arange(50) % 2
        >>> mine = load_dataset((images, labels))
        >>> mine.input_shape, mine.num_classes, len(mine.train), len(mine.test)
        ((3, 12, 12), 2, 35, 10)
    """
    if isinstance(source, str) and source in _LOADERS:
        name, loader, skip = source, _LOADERS[source], ("root",)
    else:
        if (
            isinstance(source, str)
            and not any(c in source for c in "/\\.")
            and not Path(source).exists()
        ):
            raise GconvValueError(
                f"load_dataset: source must be one of {', '.join(list_datasets())}, or a "
                f"folder of images or a .pt file of graphs (got {source!r})"
            )
        name, loader, skip = "your own data", from_source, ("source",)
    options = [p for p in inspect.signature(loader).parameters if p not in skip]
    unknown = sorted(set(kwargs) - set(options))
    if unknown:
        raise GconvTypeError(
            f"load_dataset: {name} takes the options {', '.join(options) or 'none'} "
            f"(got {', '.join(unknown)})"
        )
    if loader is from_source:
        return from_source(source, **kwargs)
    return loader(data_root(root), **kwargs)


MNIST_NORMALIZATION = {"scale": 255.0, "mean": [MNIST_MEAN], "std": [MNIST_STD]}


def _mnist_split(root: Path, train: bool, limit: int | None) -> ImageSplit:
    from torchvision.datasets import MNIST

    mnist = _fetch("mnist", root, lambda _: MNIST(str(root), train=train, download=True))
    images, labels = mnist.data, mnist.targets
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    return ImageSplit(images.unsqueeze(1), labels.long(), MNIST_NORMALIZATION)


@_register("mnist", "images")
def _mnist(
    root: Path, *, val_size: int = 5000, seed: int = 0, limit: int | None = None
) -> LoadedDataset:
    """MNIST, normalized; a stratified validation split of ``val_size`` carved from train."""
    full = _mnist_split(root, True, limit)
    test = _mnist_split(root, False, None if limit is None else max(limit // 6, 100))
    x, y = full.pixels, full.labels
    val_size = min(val_size, len(y) // 5)
    train_idx, val_idx = stratified_split(y.numpy(), (len(y) - val_size, val_size), seed)
    train = ImageSplit(x[train_idx], y[train_idx], MNIST_NORMALIZATION)
    val = ImageSplit(x[val_idx], y[val_idx], MNIST_NORMALIZATION)
    return _digit_images(
        "mnist",
        (train, val, test),
        28,
        MNIST_NORMALIZATION,
        f"MNIST's own test set; val: a stratified {val_size} of its training set, seed {seed}",
    )


def _digit_images(
    name: str, splits: tuple[Any, Any, Any], side: int, normalization: dict[str, Any], made: str
) -> LoadedDataset:
    """A dataset of grey ``side x side`` images of the digits 0-9."""
    return LoadedDataset(
        name,
        "image",
        "images",
        *splits,
        1,
        10,
        (1, side, side),
        class_names=tuple(str(d) for d in range(10)),
        normalization=normalization,
        split_method=made,
    )


@_register("mnist_grid", "pixel_grid")
def _mnist_grid(
    root: Path, *, val_size: int = 5000, seed: int = 0, limit: int | None = None
) -> LoadedDataset:
    """MNIST whose batches are pixel grid graphs (``x`` of shape ``[B*784, 1]``)."""
    return replace(
        _mnist(root, val_size=val_size, seed=seed, limit=limit).as_pixel_grid(), name="mnist_grid"
    )


@_register("digits", "images")
def _digits(root: Path, *, seed: int = 0, limit: int | None = None) -> LoadedDataset:
    """scikit-learn's bundled 8x8 digits (1797 images), for quick offline runs."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = torch.tensor(digits.images, dtype=torch.uint8).unsqueeze(1)  # 0-16
    y = torch.tensor(digits.target, dtype=torch.long)
    if limit is not None:
        x, y = x[:limit], y[:limit]
    n = len(y)
    rest, test_idx = stratified_split(y.numpy(), (n - n // 5, n // 5), seed)
    train_idx, val_idx = stratified_split(y[rest].numpy(), (len(rest) - n // 10, n // 10), seed)
    train_idx, val_idx = rest[train_idx], rest[val_idx]
    normalization = {"scale": 16.0, "mean": [0.0], "std": [1.0]}
    train, val, test = (
        ImageSplit(x[i], y[i], normalization) for i in (train_idx, val_idx, test_idx)
    )
    return _digit_images(
        "digits",
        (train, val, test),
        8,
        normalization,
        f"train/val/test carved from {n} images (70/10/20 %), stratified, seed {seed}",
    )


@_register("cora", "nodes")
def _cora(root: Path) -> LoadedDataset:
    """Cora with the public Planetoid split (140/500/1000) and row-normalized features."""
    import torch_geometric.transforms as T
    from torch_geometric.datasets import Planetoid

    def build(raw_dir: str | None) -> Any:
        cls = _reading_raw_from(Planetoid, raw_dir)
        return cls(str(root), "Cora", transform=T.NormalizeFeatures())

    dataset = _fetch("cora", root, build)
    data = dataset[0]
    return LoadedDataset(
        "cora",
        "node",
        "nodes",
        data,
        data,
        data,
        dataset.num_features,
        dataset.num_classes,
        None,
        dataset,
    )


@_register("mutag", "graphs")
def _mutag(root: Path, *, folds: int = 10, seed: int = 0) -> LoadedDataset:
    """MUTAG's 188 graphs with stratified ``folds``-fold splits (scikit-learn)."""
    from torch_geometric.datasets import TUDataset

    def build(raw_dir: str | None) -> Any:
        return _reading_raw_from(TUDataset, raw_dir)(str(root), "MUTAG")

    dataset = _fetch("mutag", root, build)
    labels = dataset.y.numpy()
    splits = stratified_folds(labels, folds, seed)
    train, val, test = (torch.as_tensor(i) for i in first_fold_split(labels, splits, seed))
    return LoadedDataset(
        "mutag",
        "graph",
        "graphs",
        dataset[train],
        dataset[val],
        dataset[test],
        dataset.num_features,
        dataset.num_classes,
        None,
        dataset,
        splits,
        split_method=f"train/val/test from the first of {folds} stratified folds (val: a "
        f"tenth of its training part), seed {seed}",
    )


def labels_of(dataset: Any) -> Tensor:
    """The class label of every example of an image or graph dataset."""
    if isinstance(dataset, ImageSplit):
        return dataset.labels
    if isinstance(dataset, TensorDataset):
        return dataset.tensors[1]
    y = getattr(dataset, "y", None)
    if isinstance(y, Tensor):
        return y
    return torch.as_tensor(
        [int(ex[1] if isinstance(ex, (list, tuple)) else ex.y) for ex in dataset]
    )
