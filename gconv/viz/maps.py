"""What a CNN sees: feature maps of chosen layers and first-layer filters."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from gconv.errors import GconvValueError
from gconv.viz._figure import save, subplots


def conv_layers(model: nn.Module) -> list[str]:
    """Names of the model's ``nn.Conv2d`` modules, in order (feature-map candidates)."""
    return [name for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]


def feature_maps(model: nn.Module, image: Tensor, layers: list[str]) -> dict[str, Tensor]:
    """The outputs of ``layers`` (module names) for one image, via torchvision's
    ``create_feature_extractor``.

    Args:
        model: an image model.
        image: ``[C, H, W]`` or ``[1, C, H, W]``.
        layers: module names, e.g. ``["conv.0", "conv.3"]`` (see :func:`conv_layers`).

    Returns:
        ``{layer: [channels, H, W]}``.
    """
    from torchvision.models.feature_extraction import create_feature_extractor

    if image.dim() == 3:
        image = image.unsqueeze(0)
    if image.dim() != 4 or image.size(0) != 1:
        raise GconvValueError(f"feature_maps: image must be [C, H, W] (got {tuple(image.shape)})")
    names = dict(model.named_modules())
    unknown = [layer for layer in layers if layer not in names]
    if unknown or not layers:
        raise GconvValueError(
            f"feature_maps: layers must name modules of the model (got {unknown or layers})"
        )
    was_training = model.training
    extractor = create_feature_extractor(
        model.eval(), return_nodes={layer: layer for layer in layers}
    )
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    with torch.no_grad():
        out = extractor(image.to(device))
    model.train(was_training)
    return {layer: out[layer][0].detach().cpu() for layer in layers}


def plot_feature_maps(
    maps: dict[str, Tensor], out_dir: str | os.PathLike[str], *, max_channels: int = 16
) -> list[Any]:
    """Saves one PNG per layer, ``<layer>.png``, with up to ``max_channels`` maps in a grid.

    Returns:
        The figures, one per layer.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    figures = []
    for layer, fmap in maps.items():
        if fmap.dim() != 3:
            raise GconvValueError(
                f"plot_feature_maps: {layer} must be [C, H, W] (got {tuple(fmap.shape)})"
            )
        n = min(max_channels, fmap.size(0))
        cols = math.ceil(math.sqrt(n))
        rows = math.ceil(n / cols)
        fig, axes = subplots(rows, cols, figsize=(1.6 * cols, 1.6 * rows), squeeze=False)
        for i, ax in enumerate(axes.flat):
            ax.axis("off")
            if i < n:
                ax.imshow(fmap[i].numpy(), cmap="viridis")
                ax.set_title(str(i), fontsize=7)
        fig.suptitle(f"{layer}: {fmap.size(0)} maps of {fmap.size(1)}x{fmap.size(2)}", fontsize=9)
        figures.append(save(fig, out / f"{layer}.png"))
    return figures


def plot_filters(
    model_or_weight: nn.Module | Tensor, path: str | os.PathLike[str] | None = None
) -> Any:
    """Plots the kernels of the first convolution (one row per output channel, one
    column per input channel, at most 64 x 3)."""
    weight = model_or_weight
    if isinstance(model_or_weight, nn.Module):
        convs = [m for m in model_or_weight.modules() if isinstance(m, nn.Conv2d)]
        if not convs:
            raise GconvValueError("plot_filters: the model has no nn.Conv2d")
        weight = convs[0].weight
    assert isinstance(weight, Tensor)
    if weight.dim() != 4:
        raise GconvValueError(
            f"plot_filters: weight must be [out, in, k, k] (got {tuple(weight.shape)})"
        )
    w = weight.detach().cpu()[:64, :3]
    n, c = w.shape[:2]
    cols = min(8, n) * c
    rows = math.ceil(n / min(8, n))
    fig, axes = subplots(rows, cols, figsize=(0.8 * cols, 0.8 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i in range(n):
        for j in range(c):
            ax = axes[i // 8, (i % 8) * c + j]
            ax.imshow(w[i, j].numpy(), cmap="gray")
    fig.suptitle(f"first-layer filters {tuple(weight.shape)}", fontsize=9)
    return save(fig, path)


def plot_image(image: Tensor, title: str = "", path: str | os.PathLike[str] | None = None) -> Any:
    """Shows one image (``[C, H, W]``; one channel in gray, three as RGB) with a title.

    Returns:
        The matplotlib ``Figure``, saved to ``path`` when given.
    """
    if image.dim() != 3 or image.size(0) not in (1, 3):
        raise GconvValueError(
            f"plot_image: image must be [1 or 3, H, W] (got {tuple(image.shape)})"
        )
    fig, ax = subplots(figsize=(3, 3))
    if image.size(0) == 1:
        ax.imshow(image[0].cpu().numpy(), cmap="gray")
    else:
        shown = image.permute(1, 2, 0).cpu()
        ax.imshow(((shown - shown.min()) / (shown.max() - shown.min()).clamp_min(1e-12)).numpy())
    ax.set_title(title)
    ax.axis("off")
    return save(fig, path)
