"""Matplotlib without a display, and saving figures."""

from __future__ import annotations

import os
from typing import Any


def pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def save(fig: Any, path: str | os.PathLike[str] | None) -> Any:
    if path is not None:
        fig.savefig(path, dpi=100)
        pyplot().close(fig)
    return fig
