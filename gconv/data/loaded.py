"""What :func:`gconv.data.load_dataset` returns: a dataset, its splits and what a model needs
to know about it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from gconv.data.kinds import KINDS, input_kind
from gconv.errors import GconvValueError
from gconv.loader.grid_graph_loader import GridGraphLoader


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
        class_names: the name of each class id, where the classes have names
            (segmentation: ``"background"``, ...); ``None`` otherwise.
        normalization: how raw pixels became ``x``, for images: divided by ``scale``,
            then ``(x - mean) / std`` per channel (``{"scale", "mean", "std"}``); what
            ``gconv predict`` applies to new images.
        split_method: how the splits were made (the source's own, or carved from it),
            as ``metrics.json`` and reports say it.
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
    class_names: tuple[str, ...] | None = None
    normalization: dict[str, Any] | None = None
    split_method: str = "the dataset's standard split"

    def __post_init__(self) -> None:
        input_kind(self.input_kind)  # once per dataset: a kind the registries know

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
        kind = KINDS[self.input_kind].as_pixel_grid
        if kind is None:
            raise GconvValueError(
                f"as_pixel_grid: dataset {self.name!r} must give images (got {self.input_kind})"
            )
        task = "graph" if self.task == "image" else self.task  # per-image labels: graphs
        return replace(self, input_kind=kind, task=task, loader=GridGraphLoader)

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
