"""A user's image files: a folder in torchvision's ``ImageFolder`` layout, read into one
``uint8`` tensor, and single files read as a trained model expects them.

The layout is torchvision's (one subfolder per class, the class names sorted), optionally
under ``train/``, ``val/`` and ``test/`` folders of that layout. Every mistake names the
path, what was expected and what was found.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from gconv.errors import GconvFileNotFoundError, GconvValueError

# what PIL reads and torchvision's ImageFolder accepts (torchvision.datasets.folder)
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")
SPLIT_FOLDERS = ("train", "val", "test")


@dataclass(frozen=True)
class ImageFiles:
    """The image files of one split and the class id of each."""

    paths: tuple[Path, ...]
    labels: tuple[int, ...]


def is_image(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in IMAGE_EXTENSIONS


def _subfolders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _class_files(folder: Path, owner: str) -> tuple[tuple[str, ...], ImageFiles]:
    """The classes (subfolders) of one ``ImageFolder``-layout folder and its files."""
    classes = _subfolders(folder)
    if not classes:
        found = sum(1 for p in folder.iterdir() if p.is_file())
        raise GconvValueError(
            f"{owner}: {folder} must hold one subfolder of images per class (torchvision's "
            f"ImageFolder layout), or train/, val/, test/ folders of that layout (found "
            f"{found} files and no subfolders)"
        )
    paths: list[Path] = []
    labels: list[int] = []
    for label, sub in enumerate(classes):
        files = sorted(p for p in sub.rglob("*") if is_image(p))
        paths += files
        labels += [label] * len(files)
    empty = [c.name for c in classes if not any(is_image(p) for p in c.rglob("*"))]
    if empty:
        raise GconvValueError(
            f"{owner}: every class folder of {folder} must hold images "
            f"({', '.join(IMAGE_EXTENSIONS)}) (found none in {', '.join(empty[:3])})"
        )
    return tuple(c.name for c in classes), ImageFiles(tuple(paths), tuple(labels))


def image_folder(folder: Path, owner: str) -> tuple[tuple[str, ...], dict[str, ImageFiles]]:
    """The class names and the files of each split the folder has (``{"all": ...}`` when
    it is not split into ``train/``, ``val/``, ``test/``)."""
    if not folder.is_dir():
        found = "a file" if folder.exists() else "nothing"
        raise GconvFileNotFoundError(f"{owner}: {folder} must be a folder (found {found})")
    names = {p.name for p in _subfolders(folder)}
    if "train" not in names:
        classes, files = _class_files(folder, owner)
        return classes, {"all": files}
    split: dict[str, ImageFiles] = {}
    classes, split["train"] = _class_files(folder / "train", owner)
    for name in SPLIT_FOLDERS[1:]:
        if name in names:
            own, split[name] = _class_files(folder / name, owner)
            if own != classes:
                raise GconvValueError(
                    f"{owner}: {folder / name} must have the classes of {folder / 'train'} "
                    f"({', '.join(classes)}) (found {', '.join(own)})"
                )
    return classes, split


def _open(path: Path, owner: str):  # type: ignore[no-untyped-def]
    from PIL import Image, UnidentifiedImageError

    try:
        return Image.open(path)
    except (UnidentifiedImageError, OSError) as err:
        raise GconvValueError(
            f"{owner}: {path} must be a readable image (found {type(err).__name__}: {err})"
        ) from None


def _color(mode: str) -> bool:
    return mode not in ("1", "L", "LA", "I", "I;16", "F")


def read_images(
    paths: Sequence[Path],
    owner: str,
    *,
    channels: int | None = None,
    size: tuple[int, int] | None = None,
    resize: bool = False,
) -> Tensor:
    """The images as one ``uint8`` tensor ``[N, C, H, W]``, each file opened once.

    ``channels`` is 1 (grey) or 3 (RGB); ``None`` takes 3 if any image is in colour, else
    1. ``size`` is ``(H, W)``, else the first image's. An image of another size is
    resized (bilinear) with ``resize``, else refused, naming it and the first image."""
    from PIL import Image

    out: np.ndarray | None = None
    color = False
    for i, path in enumerate(paths):
        with _open(path, owner) as image:
            shape = (image.height, image.width)
            size = size or shape
            if shape != size and not resize:
                raise GconvValueError(
                    f"{owner}: images must share one size, or give image_size=(H, W) to resize "
                    f"them (found {size[0]}x{size[1]} in {paths[0]} and {shape[0]}x{shape[1]} "
                    f"in {path})"
                )
            color = color or _color(image.mode)
            grey = channels == 1 or (channels is None and not _color(image.mode))
            try:
                image = image.convert("L" if grey else "RGB")
            except OSError as err:  # a truncated file fails on decoding, not on opening
                raise GconvValueError(
                    f"{owner}: {path} must be a readable image (found {type(err).__name__}: {err})"
                ) from None
            if shape != size:
                image = image.resize((size[1], size[0]), Image.Resampling.BILINEAR)
            if out is None:  # [N, C, H, W] from the start: the images held once
                out = np.empty((len(paths), 1 if channels == 1 else 3, *size), dtype=np.uint8)
            pixels = np.asarray(image).reshape(*size, -1)
            out[i] = pixels.transpose(2, 0, 1)  # a grey image fills every channel
    if out is None:
        out = np.empty((0, channels or 1, *(size or (0, 0))), dtype=np.uint8)
    if channels is None and not color:
        out = np.ascontiguousarray(out[:, :1])  # a third of the images, copied
    return torch.from_numpy(out)
