"""The ``gconv`` command: ``gconv train DATASET MODEL``, ``list``, ``summary``, ``compare``,
``explain``; one module per command, the parser and entry point in :mod:`gconv.cli.main`.
A mistake on the command line is a :class:`UsageError`, printed as one line.
"""

from gconv.cli._common import UsageError
from gconv.cli.main import main, parser

__all__ = ["UsageError", "main", "parser"]
