"""Loss and accuracy curves of a training run."""

from __future__ import annotations

import os
from typing import Any

from gconv.viz._figure import save, subplots


def plot_history(history: Any, path: str | os.PathLike[str] | None = None) -> Any:
    """Plots loss and accuracy per epoch (train and validation) side by side.

    Args:
        history: a :class:`gconv.train.History` or its ``history`` dict.
        path: where to save a PNG, or ``None`` to only return the figure.

    Returns:
        The matplotlib ``Figure``.
    """
    from matplotlib.ticker import MaxNLocator

    logs = getattr(history, "history", history)
    if not isinstance(logs, dict) or "loss" not in logs:
        raise ValueError("plot_history: history must hold per-epoch 'loss' (got none)")
    epochs = range(1, len(logs["loss"]) + 1)
    fig, axes = subplots(1, 2, figsize=(10, 4))
    for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
        curves = [(metric, "train"), (f"val_{metric}", "validation")]
        if metric == "accuracy":  # segmentation: accuracy is per pixel, beside mean IoU
            curves.append(("val_mean_iou", "validation mean IoU"))
        for key, label in curves:
            if key in logs:
                ax.plot(epochs, logs[key], label=label)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return save(fig, path)
