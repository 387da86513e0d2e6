"""What :func:`gconv.data.load_dataset` makes of a user's own data: a folder of images, a file
of graphs, any PyG or torch dataset, or a tensor of images with one of labels.

Every source becomes a :class:`LoadedDataset`, so what takes a registered dataset takes
it too. Splits the source lacks are made stratified and seeded, and
``LoadedDataset.split_method`` says how. Images are scaled to ``[0, 1]`` (``uint8``
divided by 255) and standardized per channel with the training split's own mean and
standard deviation, kept in ``LoadedDataset.normalization`` for prediction.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset, TensorDataset
from torch_geometric.data import Batch, Data
from torch_geometric.data import Dataset as PyGDataset

from gconv.data.graph_sources import graphs_dataset, nodes_dataset, per_node
from gconv.data.image_split import ImageSplit, channel_statistics
from gconv.data.images import image_folder, read_images
from gconv.data.loaded import LoadedDataset
from gconv.data.splits import carve_splits, class_ids
from gconv.errors import GconvTypeError, GconvValueError

OWNER = "load_dataset"
SOURCE_OPTIONS = ("val_size", "test_size", "seed", "folds", "image_size", "limit")


def from_source(
    source: Any,
    *,
    val_size: float = 0.1,  # shares of the whole, for the splits a source lacks
    test_size: float = 0.2,
    seed: int = 0,
    folds: int = 10,  # graph classification: stratified folds (fewer if a class is smaller)
    image_size: tuple[int, int] | None = None,  # resize a folder's images to (H, W)
    limit: int | None = None,  # at most this many training examples (a fifth for val, test)
) -> LoadedDataset:
    """A user's own data as a :class:`LoadedDataset` (see :func:`gconv.data.load_dataset`)."""
    for share, value in (("val_size", val_size), ("test_size", test_size)):
        if not 0 < value < 1:
            raise GconvValueError(f"{OWNER}: {share} must be in (0, 1) (got {value!r})")
    if val_size + test_size >= 1:
        raise GconvValueError(
            f"{OWNER}: val_size + test_size must be < 1 (got {val_size} + {test_size})"
        )
    shares = (val_size, test_size)
    if isinstance(source, (str, os.PathLike)):
        return _from_path(Path(source), shares, seed, folds, image_size, limit)
    name = type(source).__name__.lower()
    if isinstance(source, Data) and not isinstance(source, Batch):
        return nodes_dataset(name, source, shares, seed)
    if isinstance(source, tuple) and len(source) == 2 and not isinstance(source[0], Data):
        images, labels = (
            _as_tensor(part, what) for part, what in zip(source, ("images", "labels"), strict=True)
        )
        x = _nchw(images)
        return images_dataset(
            name, lambda i: x[i], class_ids(labels), {"all": None}, None, shares, seed, limit
        )
    if isinstance(source, PyGDataset) and len(source) == 1 and per_node(source[0]):
        return nodes_dataset(name, source[0], shares, seed)
    if isinstance(source, (list, tuple, PyGDataset)):
        return graphs_dataset(name, list(source), seed, folds)
    if isinstance(source, Dataset):
        return _map_style(name, source, shares, seed, folds, limit)
    raise GconvTypeError(
        f"{OWNER}: source must be a dataset name, a folder of images, a .pt file, a PyG Data, "
        f"a list of Data, a dataset, or an (images, labels) pair (got {type(source).__name__})"
    )


def _from_path(
    path: Path,
    shares: tuple[float, float],
    seed: int,
    folds: int,
    image_size: tuple[int, int] | None,
    limit: int | None,
) -> LoadedDataset:
    if path.is_dir():
        classes, split = image_folder(path, OWNER)
        paths = [p for files in split.values() for p in files.paths]
        labels = np.asarray([y for files in split.values() for y in files.labels])
        given, start = {}, 0
        for key, files in split.items():
            given[key] = np.arange(start, start + len(files.paths))
            start += len(files.paths)

        def load(index: np.ndarray) -> Tensor:
            chosen = [paths[i] for i in index]
            return read_images(chosen, OWNER, size=image_size, resize=image_size is not None)

        return images_dataset(path.name, load, labels, given, classes, shares, seed, limit)
    if not path.is_file():
        raise GconvValueError(
            f"{OWNER}: source must be a registered dataset name, a folder of images or a .pt "
            f"file (got {str(path)!r}: no such dataset, folder or file)"
        )
    try:
        content = torch.load(path, weights_only=False)  # the user's own pickled Data
    except Exception as err:  # pickle, zip and torch each raise their own kinds
        raise GconvValueError(
            f"{OWNER}: {path} must be a file written by torch.save (found {type(err).__name__}: "
            f"{err})"
        ) from None
    if isinstance(content, Data) and not isinstance(content, Batch):
        return nodes_dataset(path.stem, content, shares, seed)
    if isinstance(content, (list, tuple)) and content and all(isinstance(g, Data) for g in content):
        return graphs_dataset(path.stem, list(content), seed, folds)
    what = type(content).__name__
    if isinstance(content, (list, tuple)):
        kinds = sorted({type(g).__name__ for g in content}) or ["nothing"]
        what = f"a {what} of {', '.join(kinds)}"
    raise GconvValueError(
        f"{OWNER}: {path} must hold a list of PyG Data (graph classification) or one Data "
        f"(node classification) (found {what})"
    )


def _as_tensor(value: Any, what: str) -> Tensor:
    if isinstance(value, Tensor):
        return value
    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(value))
    raise GconvTypeError(
        f"{OWNER}: {what} must be a tensor or a NumPy array (got {type(value).__name__})"
    )


def _nchw(images: Tensor) -> Tensor:
    """``[N, H, W]`` (grey), ``[N, C, H, W]``, or ``[N, H, W, C]`` with C in 1, 3, 4 (as
    NumPy and PIL keep images) as ``[N, C, H, W]``."""
    if images.dim() == 3:
        return images.unsqueeze(1)
    if images.dim() == 4 and images.size(-1) in (1, 3, 4) and images.size(1) not in (1, 3, 4):
        return images.permute(0, 3, 1, 2)
    if images.dim() == 4:
        return images
    raise GconvValueError(
        f"{OWNER}: images must be [N, C, H, W], [N, H, W, C] or [N, H, W] (got shape "
        f"{tuple(images.shape)})"
    )


def _limited(index: np.ndarray, size: int, seed: int) -> np.ndarray:
    if len(index) <= size:
        return index
    return np.sort(np.random.default_rng(seed).permutation(index)[:size])


def images_dataset(
    name: str,
    load: Callable[[np.ndarray], Tensor],
    labels: np.ndarray,
    given: dict[str, Any],
    class_names: tuple[str, ...] | None,
    shares: tuple[float, float],
    seed: int,
    limit: int | None,
) -> LoadedDataset:
    index, made = carve_splits(labels, given, shares, seed)
    if limit is not None:
        index = {
            k: _limited(v, limit if k == "train" else max(limit // 5, 1), seed)
            for k, v in index.items()
        }
        made += f"; at most {limit} training examples"
    # every example read once, in one pass (one format for all splits), and kept as it
    # was read: each split standardizes its batches as they are drawn
    order = ("train", "val", "test")
    pixels = load(np.concatenate([index[k] for k in order]))
    parts = pixels.split([len(index[k]) for k in order])
    scale = 255.0 if pixels.dtype == torch.uint8 else 1.0
    mean, std = channel_statistics(parts[0], scale)
    normalization = {"scale": scale, "mean": mean, "std": std}
    splits = [
        ImageSplit(part, torch.as_tensor(labels[index[k]]), normalization)
        for k, part in zip(order, parts, strict=True)
    ]
    c, h, w = (int(s) for s in pixels.shape[1:])
    num_classes = len(class_names) if class_names else int(labels.max()) + 1
    return LoadedDataset(
        name,
        "image",
        "images",
        splits[0],
        splits[1],
        splits[2],
        c,
        num_classes,
        (c, h, w),
        class_names=class_names,
        normalization=normalization,
        split_method=made,
    )


def _map_style(
    name: str,
    source: Dataset,
    shares: tuple[float, float],
    seed: int,
    folds: int,
    limit: int | None,
) -> LoadedDataset:
    """A map-style dataset of ``(image, label)`` pairs (torchvision's datasets, a
    ``TensorDataset``, a ``Subset``) or of graphs (``Data``, or ``(Data, label)``)."""
    if isinstance(source, TensorDataset) and len(source.tensors) == 2:
        x, y = _nchw(source.tensors[0]), class_ids(source.tensors[1])
        return images_dataset(name, lambda i: x[i], y, {"all": None}, None, shares, seed, limit)
    items = [source[i] for i in range(len(source))]  # type: ignore[arg-type]
    first = items[0] if items else None
    if isinstance(first, Data):
        return graphs_dataset(name, items, seed, folds)
    if not (isinstance(first, (list, tuple)) and len(first) == 2):
        raise GconvTypeError(
            f"{OWNER}: a dataset must give (image, label) pairs or PyG Data (its first item is "
            f"{type(first).__name__})"
        )
    if isinstance(first[0], Data):  # ImageFolder(transform=ImageToGridGraph()) and the like
        graphs = []
        for graph, label in items:
            graph = graph.clone()
            graph.y = torch.as_tensor([int(label)])
            graphs.append(graph)
        return graphs_dataset(name, graphs, seed, folds)
    images = torch.stack([_image_of(image) for image, _ in items])
    labels = class_ids(torch.as_tensor([int(label) for _, label in items]))
    owner = getattr(source, "dataset", source)  # a Subset's dataset
    classes = getattr(owner, "classes", None)
    class_names = tuple(str(c) for c in classes) if classes else None
    return images_dataset(
        name, lambda i: images[i], labels, {"all": None}, class_names, shares, seed, limit
    )


def _image_of(image: Any) -> Tensor:
    if isinstance(image, Tensor):
        return image if image.dim() == 3 else image.unsqueeze(0)
    array = np.asarray(image)  # a PIL image or an array: [H, W] or [H, W, C]
    tensor = torch.from_numpy(np.array(array))  # a copy: PIL's arrays are read-only
    return tensor.unsqueeze(0) if tensor.dim() == 2 else tensor.permute(2, 0, 1)
