"""Images as superpixel graphs, built in parallel once and cached beside the data.

The cache file's name is a digest of everything that went into it: the split's images
and labels, their normalization, every superpixel parameter and :data:`FORMAT_VERSION`.
Changing any of them builds a new file instead of reading a stale one.
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import TensorDataset
from torch_geometric.data import Data
from tqdm.auto import tqdm

from gconv._io import load_cache, save_cache
from gconv.convert.superpixels import superpixel_graph
from gconv.data.image_split import ImageSplit

FORMAT_VERSION = 2  # 2: k-nearest-neighbour edges with Gaussian weights
CHUNK = 500  # images per worker task: large enough to amortize pickling


def superpixel_key(images: Tensor, labels: Tensor, params: dict[str, Any]) -> str:
    """A digest of a split and the superpixel parameters: the cache's name."""
    digest = hashlib.sha1()
    digest.update(images.contiguous().numpy().tobytes())
    digest.update(labels.contiguous().numpy().tobytes())
    digest.update(json.dumps({**params, "format": FORMAT_VERSION}, sort_keys=True).encode())
    return digest.hexdigest()[:16]


FIELDS = ("x", "edge_index", "edge_weight", "pos")


def _build(chunk: tuple[Tensor, Tensor, dict[str, Any]]) -> list[tuple[np.ndarray, ...]]:
    """A worker's graphs, as numpy arrays: tensors sent back from a process would travel
    as one shared-memory file descriptor each and run out of them."""
    images, labels, params = chunk
    torch.set_num_threads(1)  # one process a core
    built = []
    for image, label in zip(images, labels, strict=True):
        graph = superpixel_graph(image, **params)
        built.append((*(graph[key].numpy() for key in FIELDS), label.view(1).numpy()))
    return built


def _graph(arrays: tuple[np.ndarray, ...]) -> Data:
    *fields, y = (torch.from_numpy(a) for a in arrays)
    return Data(**dict(zip(FIELDS, fields, strict=True)), y=y)


def superpixel_dataset(
    split: ImageSplit | TensorDataset,
    folder: Path,
    *,
    normalization: dict[str, Any] | None = None,
    n_segments: int = 75,
    compactness: float = 0.25,
    k: int = 8,
    workers: int | None = None,
    progress: bool = True,
    name: str = "split",
) -> list[Data]:
    """The images of a split as superpixel graphs (``y`` kept), cached in ``folder``.

    The images are un-normalized back to [0, 1] intensities before SLIC, by
    ``normalization`` (``LoadedDataset.normalization``: ``(x * std + mean)`` per channel;
    ``None``: they are in [0, 1] already). Graphs are built
    by ``workers`` processes (default: one per CPU) with a progress bar, written once
    (atomically) to ``folder/<name>-<key>.pt`` and read from there afterwards.
    """
    # the standardized images (of an ImageSplit, a float copy) key the cache, as always
    images, labels = (
        (split.standardized(), split.labels) if isinstance(split, ImageSplit) else split.tensors
    )
    params = {"n_segments": n_segments, "compactness": compactness, "k": k}
    norm = normalization or {"mean": [0.0], "std": [1.0]}
    key = superpixel_key(images, labels, {**params, "mean": norm["mean"], "std": norm["std"]})
    cache = folder / f"{name}-{key}.pt"
    cached: list[Data] | None = load_cache(cache, "superpixel_dataset", weights_only=False)
    if cached is not None:
        return cached
    mean, std = (torch.tensor(norm[k]).view(-1, 1, 1) for k in ("mean", "std"))
    pixels = images * std + mean
    chunks = [
        (pixels[i : i + CHUNK], labels[i : i + CHUNK], params) for i in range(0, len(labels), CHUNK)
    ]
    workers = workers or min(len(chunks), os.cpu_count() or 1)
    bar = tqdm(total=len(labels), desc=f"superpixels {name}", disable=not progress)
    graphs = []
    with ProcessPoolExecutor(workers) if workers > 1 else nullcontext() as pool:
        results = pool.map(_build, chunks) if pool is not None else map(_build, chunks)
        for built in results:  # in order
            graphs += [_graph(arrays) for arrays in built]
            bar.update(len(built))
    bar.close()
    folder.mkdir(parents=True, exist_ok=True)
    save_cache(graphs, cache)
    return graphs
