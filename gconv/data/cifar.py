"""CIFAR-10 by name, ``load_dataset("cifar10")``: torchvision's loader, which downloads it
when online; offline, :class:`DatasetNotFoundError` says which files to put where."""

from __future__ import annotations

import pickle
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gconv.data._files import RAW_FILES, _fetch
from gconv.data.datasets import _register
from gconv.data.loaded import LoadedDataset
from gconv.data.sources import images_dataset
from gconv.errors import GconvValueError


def _cifar10_files(root: Path, train: bool) -> Any:
    """torchvision's ``CIFAR10`` (which downloads it when online), counting its files as
    there when they are: their md5 sums are the official archive's, and a copy in the
    same format (a user's, a test's) is read as it is."""
    from torchvision.datasets import CIFAR10

    class PresentCIFAR10(CIFAR10):
        def _check_integrity(self) -> bool:
            folder = Path(self.root) / self.base_folder
            return all((folder / f).is_file() for f in RAW_FILES["cifar10"][1])

        def _load_meta(self) -> None:
            with open(Path(self.root) / self.base_folder / self.meta["filename"], "rb") as f:
                self.classes = pickle.load(f, encoding="latin1")[self.meta["key"]]

    def build(_: str | None) -> Any:
        try:
            return PresentCIFAR10(str(root), train=train, download=True)
        except (pickle.UnpicklingError, EOFError, KeyError, ValueError) as err:
            raise GconvValueError(
                f"load_dataset: cifar10's files under {root / RAW_FILES['cifar10'][0]} must be "
                f"CIFAR-10's python batches (found {type(err).__name__}: {err})"
            ) from None

    return _fetch("cifar10", root, build)


@_register("cifar10", "images")
def _cifar10(
    root: Path, *, val_size: int = 5000, seed: int = 0, limit: int | None = None
) -> LoadedDataset:
    """CIFAR-10 through torchvision, standardized with its training split's statistics;
    a stratified validation split of ``val_size`` carved from train."""
    train, test = _cifar10_files(root, True), _cifar10_files(root, False)
    images = torch.from_numpy(np.concatenate([train.data, test.data])).permute(0, 3, 1, 2)
    labels = np.asarray(train.targets + test.targets)
    given = {
        "train": np.arange(len(train.targets)),
        "test": len(train.targets) + np.arange(len(test.targets)),
    }
    share = min(val_size, len(train.targets) // 5) / len(labels)
    return replace(
        images_dataset(
            "cifar10",
            lambda i: images[i],
            labels,
            given,
            tuple(train.classes),
            (share, 0.2),
            seed,
            limit,
        ),
        split_method=f"CIFAR-10's own test set; val: a stratified {val_size} of its training "
        f"set, seed {seed}",
    )
