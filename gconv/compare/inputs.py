"""What a row's model is given: the images, their pixel grids, or their superpixel graphs.

An :class:`Input` knows its own name, the channels it gives for the data's
``(C, H, W)``, and how it makes the train, validation and test splits from the loaded
images (:class:`Inputs`, which builds and caches what inputs share). Nothing else in
:mod:`gconv.compare` asks an input's name.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from gconv.data import data_root, list_datasets
from gconv.data.datasets import user_cache
from gconv.data.superpixels import superpixel_dataset
from gconv.loader.grid_graph_loader import GridGraphLoader
from gconv.transforms import DirectionalEdgeType

Splits = tuple[Any, Any, Any]


class Input(ABC):
    """One way of giving the data's images to a model."""

    name: str

    @abstractmethod
    def channels(self, shape: tuple[int, int, int]) -> int:
        """The channels (or node features) it gives for images of ``shape``."""

    @abstractmethod
    def splits(self, inputs: Inputs, batch_size: int) -> Splits:
        """The train, validation and test data a row's trainer is given."""

    def prepare(self, inputs: Inputs) -> None:  # noqa: B027 - most inputs share nothing
        """Builds and caches what worker processes will read (superpixels), once."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


@dataclass(frozen=True, repr=False)
class Pixels(Input):
    """The images themselves, ``[B, C, H, W]``."""

    name: str = "pixels"

    def channels(self, shape: tuple[int, int, int]) -> int:
        return shape[0]

    def splits(self, inputs: Inputs, batch_size: int) -> Splits:
        d = inputs.data
        return d.train, d.val, d.test


@dataclass(frozen=True, repr=False)
class PixelGrid(Input):
    """Every pixel a node, its grid's neighbours its edges (typed by offset); with
    ``positions``, each node's row and column in [0, 1] are features too."""

    name: str = "pixel_grid"
    positions: bool = False

    def channels(self, shape: tuple[int, int, int]) -> int:
        return shape[0] + 2 * self.positions

    def splits(self, inputs: Inputs, batch_size: int) -> Splits:
        d, pos = inputs.data, self.positions
        return (
            GridGraphLoader(d.train, batch_size, True, positions=pos),
            GridGraphLoader(d.val, batch_size, positions=pos),
            GridGraphLoader(d.test, batch_size, positions=pos),
        )


@dataclass(frozen=True, repr=False)
class Superpixels(Input):
    """SLIC regions as nodes (mean colour and centroid), their k nearest regions as
    edges with Gaussian weights on distance; with ``directed``, each edge typed by its
    compass direction (the 3x3 taps that a grid convolution reads,
    :class:`gconv.transforms.DirectionalEdgeType`); without ``weighted``, the edges
    carry no weights (as DGL's ``GraphConv`` reads Dwivedi et al.'s graphs); with
    ``intensity``, the features are the regions' mean colour standardized as the
    images' pixels are (what a CNN trained on those pixels reads), the centroids in
    ``pos`` only."""

    name: str = "superpixel"
    directed: bool = False
    weighted: bool = True
    intensity: bool = False

    def channels(self, shape: tuple[int, int, int]) -> int:
        return shape[0] + 2 * (not self.intensity)

    def splits(self, inputs: Inputs, batch_size: int) -> Splits:
        return inputs.superpixel_variant(self.directed, self.weighted, self.intensity)

    def prepare(self, inputs: Inputs) -> None:
        inputs.superpixels()


def superpixel_folder(dataset: str, root: str | None) -> Path:
    """Where a dataset's superpixel graphs are cached, beside its files: under the data
    root for a registered dataset (``MNIST/superpixels``), in a hidden ``.superpixels``
    folder of a folder of images, else in the user's cache."""
    if dataset in list_datasets():
        return data_root(root) / dataset.upper() / "superpixels"
    if Path(dataset).is_dir():
        return Path(dataset) / ".superpixels"  # hidden: not taken for a class
    return user_cache() / "superpixels"


class Inputs:
    """The loaded images of a protocol's data, and the graphs that inputs share (built
    on first use, once per run)."""

    def __init__(self, protocol: Any, root: str | None, progress: bool) -> None:
        self.protocol, self.root, self.progress = protocol, root, progress
        self.data = protocol.experiment.load(protocol, root)
        self._superpixels: Splits | None = None
        self._variants: dict[tuple[bool, bool, bool], Splits] = {}

    def splits(self, row: Any) -> Splits:
        return row.input.splits(self, self.protocol.batch_size)

    def superpixels(self) -> Splits:
        if self._superpixels is None:
            folder = superpixel_folder(self.protocol.dataset, self.root)
            d = self.data
            self._superpixels = tuple(  # type: ignore[assignment]
                superpixel_dataset(
                    split,
                    folder,
                    normalization=d.normalization,
                    progress=self.progress,
                    name=name,
                    **self.protocol.superpixels,
                )
                for name, split in (("train", d.train), ("val", d.val), ("test", d.test))
            )
        assert self._superpixels is not None
        return self._superpixels

    def superpixel_variant(
        self, directed: bool = False, weighted: bool = True, intensity: bool = False
    ) -> Splits:
        """The superpixel graphs with edge types from geometry (``directed``), without
        edge weights, or with standardized intensities for features (``intensity``),
        built once per run from :meth:`superpixels`."""
        key = (directed, weighted, intensity)
        if key == (False, True, False):
            return self.superpixels()
        if key not in self._variants:
            directions = DirectionalEdgeType()
            norm = self.data.normalization or {}
            channels = self.protocol.input_shape[0]
            mean = torch.tensor(norm.get("mean", 0.0), dtype=torch.float32).view(-1)
            std = torch.tensor(norm.get("std", 1.0), dtype=torch.float32).view(-1)

            def variant(graph: Any) -> Any:
                graph = graph.clone()
                if not weighted:
                    del graph.edge_weight
                if intensity:  # the region's mean of the standardized pixels
                    graph.x = (graph.x[:, :channels] - mean) / std
                return directions(graph) if directed else graph

            self._variants[key] = tuple(  # type: ignore[assignment]
                [variant(g) for g in split] for split in self.superpixels()
            )
        return self._variants[key]
