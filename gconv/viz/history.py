"""Loss and accuracy curves of a training run."""

from __future__ import annotations

import os
from typing import Any

from gconv.errors import GconvValueError
from gconv.viz._figure import save, subplots


def plot_history(
    history: Any, path: str | os.PathLike[str] | None = None, *, title: str | None = None
) -> Any:
    """Plots loss and accuracy per epoch (train and validation) side by side.

    Args:
        history: a :class:`gconv.train.History` or its ``history`` dict.
        path: where to save a PNG, or ``None`` to only return the figure.
        title: above both panels, e.g. which run of several the curves show.

    Returns:
        The matplotlib ``Figure``.
    """
    from matplotlib.ticker import MaxNLocator

    logs = getattr(history, "history", history)
    if not isinstance(logs, dict) or "loss" not in logs:
        raise GconvValueError("plot_history: history must hold per-epoch 'loss' (got none)")
    epochs = range(1, len(logs["loss"]) + 1)
    fig, axes = subplots(1, 2, figsize=(10, 4))
    for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
        curves = [(metric, "train"), (f"val_{metric}", "validation")]
        if metric == "accuracy":  # segmentation: accuracy is per pixel, beside mean IoU
            curves.append(("val_mean_iou", "validation mean IoU"))
        for key, label in curves:
            if key in logs:
                # markers while few epochs: a 1-epoch run draws points, not nothing
                ax.plot(epochs, logs[key], label=label, marker="o" if len(epochs) <= 30 else None)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save(fig, path)
