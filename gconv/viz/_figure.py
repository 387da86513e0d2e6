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
    """Writes ``fig`` to ``path`` (atomically: never half a file), if one is given."""
    if path is not None:
        from gconv._io import save_figure

        save_figure(fig, path, dpi=100)
    return fig
