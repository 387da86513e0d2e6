"""The errors gconv raises for a mistake at its boundary, and only for those.

Every check of an argument, input, file or command line raises a :class:`GconvError`
that names the caller, the argument, what was expected and what came. Each is also the
standard exception its kind of mistake has always been (``ValueError``, ``TypeError``,
``FileNotFoundError``), so ``except ValueError`` keeps working. ``gconv`` on the command
line prints a ``GconvError`` as one line; any other exception is a bug, and shows its
traceback for the report.

Example:
    >>> import gconv
    >>> from gconv.errors import GconvError
    >>> try:
    ...     gconv.grid.conv_output_size(4, kernel_size=5)
    ... except GconvError as err:
    ...     print(type(err).__name__, isinstance(err, ValueError))
    GconvValueError True
"""

from __future__ import annotations

__all__ = [
    "GconvDivergenceError",
    "GconvError",
    "GconvFileNotFoundError",
    "GconvTypeError",
    "GconvValueError",
]


class GconvError(Exception):
    """A mistake at gconv's boundary: a wrong argument, input, file or flag."""


class GconvValueError(GconvError, ValueError):
    """An argument or input of the right type and a wrong value."""


class GconvTypeError(GconvError, TypeError):
    """An argument or input of the wrong type."""


class GconvFileNotFoundError(GconvError, FileNotFoundError):
    """A file or folder that gconv was told to read is not there."""


class GconvDivergenceError(GconvError, FloatingPointError):
    """Training produced a non-finite loss or gradient; the message says the likely
    cause (a learning rate, the data) and the step."""
