"""Segmentation masks drawn beside the images they label."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from torch import Tensor

from gconv.errors import GconvValueError
from gconv.viz._figure import save, subplots


def _colours(num_classes: int) -> Any:
    """Class 0 black, the others from tab20; ignored pixels (any value past the classes)
    grey."""
    from matplotlib import colormaps
    from matplotlib.colors import ListedColormap

    tab = colormaps["tab20"]
    colours = [(0.0, 0.0, 0.0, 1.0)] + [tab(i % 20) for i in range(num_classes - 1)]
    return ListedColormap([*colours, (0.6, 0.6, 0.6, 1.0)])


def plot_masks(
    images: Tensor,
    masks: Tensor,
    predicted: Tensor,
    num_classes: int,
    path: str | os.PathLike[str] | None = None,
    *,
    titles: Sequence[str] | None = None,
) -> Any:
    """One row per image: the image, its true mask and the predicted mask.

    Args:
        images: ``[B, C, H, W]`` (the first channel is drawn, or RGB when ``C = 3``).
        masks: ``[B, H, W]`` true classes; values ``>= num_classes`` (ignored pixels)
            are grey.
        predicted: ``[B, H, W]`` predicted classes.
        num_classes: classes, for one colour per class across every panel.
        path: where to save the figure (PNG), or ``None``.
        titles: a title per row, e.g. its mean IoU.

    Returns:
        The ``matplotlib.figure.Figure``.
    """
    if images.dim() != 4 or masks.shape != predicted.shape or masks.dim() != 3:
        raise GconvValueError(
            "plot_masks: images must be [B, C, H, W] and masks, predicted [B, H, W] "
            f"(got {tuple(images.shape)}, {tuple(masks.shape)}, {tuple(predicted.shape)})"
        )
    rows = images.size(0)
    fig, axes = subplots(rows, 3, figsize=(7.5, 2.5 * rows), squeeze=False)
    cmap = _colours(num_classes)
    for i in range(rows):
        image = images[i].detach().float().cpu()
        if image.size(0) == 3:
            shown = image.permute(1, 2, 0).numpy()
            shown = (shown - shown.min()) / max(float(shown.max() - shown.min()), 1e-8)
            axes[i, 0].imshow(shown)
        else:
            axes[i, 0].imshow(image[0].numpy(), cmap="gray")
        for j, mask in ((1, masks[i]), (2, predicted[i])):
            shown = np.minimum(mask.detach().cpu().numpy(), num_classes)
            axes[i, j].imshow(shown, cmap=cmap, vmin=0, vmax=num_classes, interpolation="nearest")
        axes[i, 0].set_title(titles[i] if titles else "image", fontsize=8)
        axes[i, 1].set_title("true mask", fontsize=8)
        axes[i, 2].set_title("predicted mask", fontsize=8)
        for ax in axes[i]:
            ax.set_axis_off()
    fig.tight_layout()
    return save(fig, path)
