"""Writing files so that a crash never leaves half of one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import torch


def _write_atomic(path: str | os.PathLike[str], write: Callable[[BinaryIO], object]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_atomic(obj: Any, path: str | os.PathLike[str]) -> None:
    """``torch.save`` to a temporary file in the same folder, then rename over ``path``.

    A crash mid-write leaves the old file (or none), never a truncated one.
    """
    _write_atomic(path, lambda f: torch.save(obj, f))


def save_atomic_text(text: str, path: str | os.PathLike[str]) -> None:
    """Writes ``text`` (UTF-8) with the same guarantee as :func:`save_atomic`."""
    _write_atomic(path, lambda f: f.write(text.encode()))
