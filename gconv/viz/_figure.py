"""Figures drawn with matplotlib's object API: no pyplot, no backend switch, no global
state, so gconv plots in a notebook, a script or a headless job alike."""

from __future__ import annotations

import os
from typing import Any


def subplots(*args: Any, figsize: tuple[float, float], **kwargs: Any) -> tuple[Any, Any]:
    """``(figure, axes)`` as ``pyplot.subplots`` returns them, on a new ``Figure``."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    return fig, fig.subplots(*args, **kwargs)


def save(fig: Any, path: str | os.PathLike[str] | None) -> Any:
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig
