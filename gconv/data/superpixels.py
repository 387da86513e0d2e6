"""MNIST as superpixel graphs, built once and cached under the data root."""

from __future__ import annotations

from pathlib import Path

import torch
from torch.utils.data import TensorDataset
from torch_geometric.data import Data
from tqdm.auto import tqdm

from gconv._io import save_atomic
from gconv.convert.superpixels import superpixel_graph
from gconv.data.datasets import MNIST_MEAN, MNIST_STD


def superpixel_dataset(
    split: TensorDataset, cache: Path, *, n_segments: int = 75, progress: bool = True
) -> list[Data]:
    """The images of a split as superpixel graphs (``y`` kept), cached at ``cache``.

    The images are un-normalized back to [0, 1] intensities before SLIC. The cache file
    is written once (atomically) and reused when it holds as many graphs as the split.
    """
    images, labels = split.tensors
    if cache.is_file():
        graphs: list[Data] = torch.load(cache, weights_only=False)
        if len(graphs) == len(labels):
            return graphs
    graphs = []
    pixels = images * MNIST_STD + MNIST_MEAN
    for image, label in tqdm(
        zip(pixels, labels, strict=True),
        total=len(labels),
        desc=f"superpixels {cache.stem}",
        disable=not progress,
    ):
        graph = superpixel_graph(image, n_segments=n_segments)
        graph.y = label.view(1)
        graphs.append(graph)
    save_atomic(graphs, cache)
    return graphs
