"""Where gconv looks for data."""

from __future__ import annotations

import os
from pathlib import Path

from gconv.errors import GconvFileNotFoundError, GconvTypeError, GconvValueError

DATA_ENV = "GCONV_DATA"


def data_root(root: str | os.PathLike[str] | None = None) -> Path:
    """Resolves the data root: ``root`` if given, else ``$GCONV_DATA`` (a folder that must
    exist), else ``./datasets``.

    Example:
        >>> data_root("/data")
        PosixPath('/data')
    """
    if root is not None:
        if not isinstance(root, (str, os.PathLike)):
            raise GconvTypeError(f"data_root: root must be a path (got {type(root).__name__})")
        path = Path(root).expanduser()
        if path.exists() and not path.is_dir():
            raise GconvValueError(f"data_root: root must be a folder (got the file {str(path)!r})")
        return path
    env = os.environ.get(DATA_ENV)
    if env:
        path = Path(env).expanduser()
        if not path.is_dir():  # a typo is reported, not made into a fresh empty folder
            found = "a file" if path.exists() else "nothing"
            raise GconvFileNotFoundError(
                f"data_root: {DATA_ENV}={env} must name a folder (found {found}); create "
                f"it, or unset {DATA_ENV} to use ./datasets"
            )
        return path
    return Path("datasets")
