"""What every command shares: the one-line usage error, output folders, flag defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gconv._checks import check_folder
from gconv.errors import GconvValueError


class UsageError(GconvValueError):
    """A mistake on the command line: printed as one line, exit status 2."""


def folder(path: str, flag: str) -> Path:
    """The output folder, made; a file in its place is a usage error, not a traceback."""
    folder = check_folder("", flag, path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:  # a read-only place, a missing mount, no permission
        reason = error.strerror or type(error).__name__
        message = f"{flag} must be a folder gconv can make (got {path!r}: {reason})"
        raise UsageError(message) from None
    return folder


def given(value: Any, default: Any) -> Any:
    """A flag's value when it was given (0 included, so that it is checked), else the
    default."""
    return default if value is None else value
