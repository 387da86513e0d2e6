"""Images as superpixel graphs: SLIC regions as nodes, touching regions as edges."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data


def _slic() -> object:
    try:
        from skimage.segmentation import slic
    except ImportError as err:
        raise ImportError(
            "superpixel graphs need scikit-image: pip install 'gconv[superpixel]'"
        ) from err
    return slic


def superpixel_graph(image: Tensor, *, n_segments: int = 75, compactness: float = 0.25) -> Data:
    """One grayscale image as a region adjacency graph of its SLIC superpixels.

    Node features are the region's mean intensity and its centroid (row and column,
    scaled to [0, 1]); two regions are joined (both ways) when they share a pixel edge.

    Args:
        image: ``[1, H, W]`` or ``[H, W]`` intensities.
        n_segments: SLIC's target number of regions.
        compactness: SLIC's balance of intensity and space (low for grayscale digits).

    Returns:
        ``Data`` with ``x`` :math:`(n, 3)`, ``edge_index``, ``pos`` :math:`(n, 2)`.
    """
    slic = _slic()
    if image.dim() == 3:
        image = image[0]
    if image.dim() != 2:
        raise ValueError(f"superpixel_graph: image must be [H, W] (got {tuple(image.shape)})")
    pixels = image.detach().cpu().double().numpy()
    labels = slic(
        pixels, n_segments=n_segments, compactness=compactness, channel_axis=None, start_label=0
    )  # type: ignore[operator]
    n = int(labels.max()) + 1
    h, w = labels.shape
    rows, cols = np.mgrid[0:h, 0:w]
    count = np.bincount(labels.ravel(), minlength=n).astype(np.float64)
    mean = np.bincount(labels.ravel(), pixels.ravel(), minlength=n) / count
    row = np.bincount(labels.ravel(), rows.ravel(), minlength=n) / count / max(h - 1, 1)
    col = np.bincount(labels.ravel(), cols.ravel(), minlength=n) / count / max(w - 1, 1)
    pairs = [
        np.stack([labels[:, :-1].ravel(), labels[:, 1:].ravel()]),
        np.stack([labels[:-1, :].ravel(), labels[1:, :].ravel()]),
    ]
    edges = np.concatenate(pairs, axis=1)
    edges = edges[:, edges[0] != edges[1]]
    edges = np.unique(np.concatenate([edges, edges[::-1]], axis=1), axis=1)
    pos = torch.tensor(np.stack([row, col], axis=1), dtype=torch.float32)
    x = torch.cat([torch.tensor(mean, dtype=torch.float32).view(-1, 1), pos], dim=1)
    return Data(x=x, edge_index=torch.as_tensor(edges, dtype=torch.long), pos=pos)
