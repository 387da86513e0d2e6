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
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset, TensorDataset

from gconv.data.root import DATA_ENV, data_root
from gconv.data.splits import stratified_folds, stratified_split

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081

RAW_FILES = {
    "mnist": (
        "MNIST/raw",
        [
            "train-images-idx3-ubyte",
            "train-labels-idx1-ubyte",
            "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte",
        ],
    ),
    "cora": (
        "Cora/raw",
        [f"ind.cora.{s}" for s in ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")],
    ),
    "mutag": (
        "MUTAG/raw",
        [f"MUTAG_{s}.txt" for s in ("A", "graph_indicator", "graph_labels", "node_labels")],
    ),
}


# raw files shipped as package data, byte for byte what the standard loaders download
BUNDLED = Path(__file__).resolve().parent / "bundled"


class DatasetNotFoundError(FileNotFoundError):
    """The dataset's files are not under the data root and could not be downloaded."""


@dataclass
class LoadedDataset:
    """A dataset with its splits and what a model needs to know about it.

    Attributes:
        name: the registry name.
        task: ``"image"``, ``"node"``, ``"graph"`` or ``"segmentation"``.
        input_kind: what a model is given: ``"images"``, ``"pixel_grid"``, ``"nodes"``,
            ``"graphs"``, ``"images_dense"`` or ``"pixel_grid_dense"`` (see
            :func:`gconv.models.fits`).
        train, val, test: the splits. For ``node`` all three are the one graph, whose
            ``train_mask``/``val_mask``/``test_mask`` say which nodes count.
        in_channels: input channels (images) or node feature size (graphs).
        num_classes: number of classes.
        input_shape: ``(C, H, W)`` of images, ``None`` for graphs.
        dataset: the whole underlying dataset (e.g. all 188 MUTAG graphs).
        folds: stratified ``(train_index, test_index)`` pairs for cross-validation
            (:func:`gconv.data.stratified_folds`); ``gconv train --folds`` uses them.
        loader: wraps a split into an iterable of batches, for datasets that batch in a
            special way (``mnist_grid``); ``None`` means a plain ``DataLoader``.
    """

    name: str
    task: str
    input_kind: str
    train: Any
    val: Any
    test: Any
    in_channels: int
    num_classes: int
    input_shape: tuple[int, int, int] | None = None
    dataset: Any = None
    folds: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    loader: Callable[..., Any] | None = None

    def splits(self, batch_size: int = 64) -> tuple[Any, Any, Any]:
        """``(train, val, test)`` as the trainer takes them: wrapped in ``loader`` for
        datasets that batch in their own way, else as they are."""
        if self.loader is None:
            return self.train, self.val, self.test
        make = self.loader
        return (
            make(self.train, batch_size=batch_size, shuffle=True),
            make(self.val, batch_size=batch_size),
            make(self.test, batch_size=batch_size),
        )

    def as_pixel_grid(self) -> LoadedDataset:
        """The same images whose batches are pixel grid graphs (:class:`GridGraphLoader`),
        for models that take them: labels stay per image, and masks become per node."""
        kinds = {"images": ("pixel_grid", "graph"), "images_dense": ("pixel_grid_dense", None)}
        if self.input_kind not in kinds:
            raise ValueError(
                f"as_pixel_grid: dataset {self.name!r} must give images (got {self.input_kind})"
            )
        kind, task = kinds[self.input_kind]
        return replace(self, input_kind=kind, task=task or self.task, loader=GridGraphLoader)

    # It also behaves as the PyG (or torch) dataset it wraps, where users reach for one:
    # ``len(cora)``, ``cora[0]``, ``for graph in mutag``, ``mutag.num_features``.

    @property
    def num_features(self) -> int:
        """Node feature size (graphs) or channels (images), as PyG's ``num_features``."""
        return self.in_channels

    def _whole(self) -> Any:
        if self.dataset is not None:
            return self.dataset
        from torch.utils.data import ConcatDataset

        return ConcatDataset([self.train, self.val, self.test])  # images: every split

    def __len__(self) -> int:
        return len(self._whole())

    def __getitem__(self, index: Any) -> Any:
        return self._whole()[index]

    def __iter__(self) -> Any:
        whole = self._whole()
        return (whole[i] for i in range(len(whole)))


_LOADERS: dict[str, Callable[..., LoadedDataset]] = {}
# what each dataset gives a model, declared with its loader: known before any file is read
DATASET_INPUTS: dict[str, str] = {}


def _register(
    name: str, input_kind: str
) -> Callable[[Callable[..., LoadedDataset]], Callable[..., LoadedDataset]]:
    def wrap(fn: Callable[..., LoadedDataset]) -> Callable[..., LoadedDataset]:
        _LOADERS[name], DATASET_INPUTS[name] = fn, input_kind
        return fn

    return wrap


def list_datasets() -> list[str]:
    """Names that :func:`load_dataset` accepts."""
    return sorted(_LOADERS)


def load_dataset(
    name: str, *, root: str | os.PathLike[str] | None = None, **kwargs: Any
) -> LoadedDataset:
    """Loads a dataset by name, with its standard splits.

    Args:
        name: one of :func:`list_datasets` (``mnist``, ``mnist_grid``, ``cora``, ``mutag``,
            ``digits``, and for segmentation ``mnist_seg``, ``voc_seg``, ``pet_seg``).
        root: data root; else ``$GCONV_DATA``; else ``./datasets``.
        **kwargs: options of that dataset (``val_size``, ``seed``, ``folds``, ``limit``).

    Example:
        >>> cora = load_dataset("cora")
        >>> cora.task, cora.in_channels, cora.num_classes
        ('node', 1433, 7)
    """
    if name not in _LOADERS:
        raise ValueError(
            f"load_dataset: name must be one of {', '.join(list_datasets())} (got {name!r})"
        )
    options = [p for p in inspect.signature(_LOADERS[name]).parameters if p != "root"]
    unknown = sorted(set(kwargs) - set(options))
    if unknown:
        raise TypeError(
            f"load_dataset: {name} takes the options {', '.join(options) or 'none'} "
            f"(got {', '.join(unknown)})"
        )
    return _LOADERS[name](data_root(root), **kwargs)


def _fetch(name: str, root: Path, build: Callable[[str | None], Any]) -> Any:
    """Runs a standard loader, ``build(None)``, which downloads missing files when
    online. When that fails for want of files, a bundled copy is read with
    ``build(raw_dir)``; without one the error says what to put where."""
    folder, files = RAW_FILES[name]
    missing = [f for f in files if not (root / folder / f).exists()]
    made = [p for p in (root / folder, *(root / folder).parents) if not p.exists()]
    try:
        return build(None)
    except (urllib.error.URLError, OSError, RuntimeError) as err:
        if not missing:
            raise
        for path in made:  # the empty folders a failed download made: not left behind
            if path.is_dir() and not any(path.iterdir()):
                path.rmdir()
        bundled = BUNDLED / folder
        if all((bundled / f).exists() for f in files):
            return build(str(bundled))
        raise DatasetNotFoundError(
            f"load_dataset: {name} is not under {root / folder} and could not be downloaded "
            f"(offline?); copy its {len(missing)} raw files ({missing[0]}, ...) there, or "
            f"set {DATA_ENV} to a data root that holds {folder}/"
        ) from err


def copy_bundled(name: str, root: str | os.PathLike[str]) -> bool:
    """Copies the raw files that ship inside gconv (``"Cora"``, ``"MUTAG"``, any case)
    to where PyG's ``Planetoid(root, "Cora")`` or ``TUDataset(root, "MUTAG")`` looks
    for them, so that a plain PyG script runs offline; files already there are kept.
    Returns whether ``name`` has a bundled copy.

    Example:
        >>> copy_bundled("Cora", "datasets")  # then Planetoid("datasets", "Cora")
        True
    """
    import shutil

    key = name.lower()
    if key not in ("cora", "mutag"):
        return False
    folder, files = RAW_FILES[key]
    target = Path(root) / folder
    for file in files:
        if not (target / file).exists():
            target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(BUNDLED / folder / file, target / file)
    return True


def user_cache() -> Path:
    """Where gconv keeps what it derives from its bundled files: ``$XDG_CACHE_HOME/gconv``,
    else ``~/.cache/gconv`` (not the working directory, wherever a user happens to be)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "gconv"


def _reading_raw_from(cls: type, raw_dir: str | None) -> type:
    """``cls`` (a PyG dataset class) without its "Processing... Done!" lines; with
    ``raw_dir`` (the bundled copy), reading its raw files from there and writing its
    processed files under :func:`user_cache` rather than the data root."""
    quiet: dict[str, Any] = {"log": property(lambda self: False, lambda self, value: None)}
    if raw_dir is not None:
        standard = cls.processed_dir.fget  # type: ignore[attr-defined]
        quiet["raw_dir"] = property(lambda self: raw_dir)
        quiet["processed_dir"] = property(
            lambda self: str(user_cache() / Path(standard(self)).relative_to(self.root))
        )
    return type(cls.__name__, (cls,), quiet)


def _mnist_tensors(root: Path, train: bool, limit: int | None) -> TensorDataset:
    from torchvision.datasets import MNIST

    mnist = _fetch("mnist", root, lambda _: MNIST(str(root), train=train, download=True))
    images, labels = mnist.data, mnist.targets
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    x = (images.unsqueeze(1).float() / 255.0 - MNIST_MEAN) / MNIST_STD
    return TensorDataset(x, labels.long())


@_register("mnist", "images")
def _mnist(
    root: Path, *, val_size: int = 5000, seed: int = 0, limit: int | None = None
) -> LoadedDataset:
    """MNIST, normalized; a stratified validation split of ``val_size`` carved from train."""
    full = _mnist_tensors(root, True, limit)
    test = _mnist_tensors(root, False, None if limit is None else max(limit // 6, 100))
    x, y = full.tensors
    val_size = min(val_size, len(y) // 5)
    train_idx, val_idx = stratified_split(y.numpy(), (len(y) - val_size, val_size), seed)
    train = TensorDataset(x[train_idx], y[train_idx])
    val = TensorDataset(x[val_idx], y[val_idx])
    return LoadedDataset("mnist", "image", "images", train, val, test, 1, 10, (1, 28, 28))


class GridGraphLoader:
    """Batches images and turns each batch into pixel grid graphs on the fly.

    One grid template serves every batch (see :func:`gconv.images_to_graphs`), so MNIST
    as graphs costs a reshape per batch instead of 70,000 stored graphs. With
    ``positions=True`` each node's features also hold its row and column in [0, 1].
    """

    def __init__(
        self,
        dataset: Dataset[Any],
        batch_size: int = 64,
        shuffle: bool = False,
        *,
        positions: bool = False,
        **kwargs: Any,
    ) -> None:
        from torch.utils.data import DataLoader

        self.loader: DataLoader[Any] = DataLoader(
            dataset, batch_size=batch_size, shuffle=shuffle, **kwargs
        )
        self.dataset = dataset
        self.positions = positions

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Any:
        from gconv.convert import images_to_graphs

        for images, labels in self.loader:
            batch = images_to_graphs(images, labels)
            if self.positions:
                h, w = images.shape[-2:]
                scale = batch.pos.new_tensor([max(h - 1, 1), max(w - 1, 1)])
                batch.x = torch.cat([batch.x, batch.pos / scale], dim=1)
            yield batch


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
    x = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0
    y = torch.tensor(digits.target, dtype=torch.long)
    if limit is not None:
        x, y = x[:limit], y[:limit]
    n = len(y)
    rest, test_idx = stratified_split(y.numpy(), (n - n // 5, n // 5), seed)
    train_idx, val_idx = stratified_split(y[rest].numpy(), (len(rest) - n // 10, n // 10), seed)
    train_idx, val_idx = rest[train_idx], rest[val_idx]
    train, val, test = (TensorDataset(x[i], y[i]) for i in (train_idx, val_idx, test_idx))
    return LoadedDataset("digits", "image", "images", train, val, test, 1, 10, (1, 8, 8))


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
    train_idx, test_idx = splits[0]
    tr, va = stratified_split(
        labels[train_idx], (len(train_idx) - len(train_idx) // 10, len(train_idx) // 10), seed
    )
    return LoadedDataset(
        "mutag",
        "graph",
        "graphs",
        dataset[torch.as_tensor(train_idx[tr])],
        dataset[torch.as_tensor(train_idx[va])],
        dataset[torch.as_tensor(test_idx)],
        dataset.num_features,
        dataset.num_classes,
        None,
        dataset,
        splits,
    )


def labels_of(dataset: Any) -> Tensor:
    """The class label of every example of an image or graph dataset."""
    if isinstance(dataset, TensorDataset):
        return dataset.tensors[1]
    y = getattr(dataset, "y", None)
    if isinstance(y, Tensor):
        return y
    return torch.as_tensor(
        [int(ex[1] if isinstance(ex, (list, tuple)) else ex.y) for ex in dataset]
    )
