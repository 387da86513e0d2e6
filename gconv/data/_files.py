"""Where a dataset's files come from: the data root (downloaded there when online), else
the raw files that ship inside gconv (Cora, MUTAG), whose processed form is kept in the
user's cache folder; else an error that says what to put where."""

from __future__ import annotations

import os
import urllib.error
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gconv.data.root import DATA_ENV
from gconv.errors import GconvFileNotFoundError

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
    "cifar10": (
        "cifar-10-batches-py",
        [*(f"data_batch_{i}" for i in range(1, 6)), "test_batch", "batches.meta"],
    ),
    "mutag": (
        "MUTAG/raw",
        [f"MUTAG_{s}.txt" for s in ("A", "graph_indicator", "graph_labels", "node_labels")],
    ),
}


# raw files shipped as package data, byte for byte what the standard loaders download
BUNDLED = Path(__file__).resolve().parent / "bundled"


class DatasetNotFoundError(GconvFileNotFoundError):
    """The dataset's files are not under the data root and could not be downloaded."""


def _fetch(name: str, root: Path, build: Callable[[str | None], Any]) -> Any:
    """Runs a standard loader, ``build(None)``, which downloads missing files when
    online. When that fails for want of files, a bundled copy is read with
    ``build(raw_dir)``; without one the error says what to put where."""
    folder, files = RAW_FILES[name]
    missing = [f for f in files if not (root / folder / f).exists()]
    made = [p for p in (root / folder, *(root / folder).parents) if not p.exists()]
    try:
        return build(None)
    except (urllib.error.URLError, OSError, RuntimeError):
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
        ) from None


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
