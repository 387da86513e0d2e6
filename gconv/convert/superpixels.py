"""Images as superpixel graphs: SLIC regions as nodes, k nearest regions as edges."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data

from gconv._checks import check_positive_int, check_tensor
from gconv.errors import GconvTypeError, GconvValueError


def _slic() -> object:
    try:
        from skimage.segmentation import slic
    except ImportError as err:
        raise ImportError(
            "superpixel graphs need scikit-image: pip install 'gconv[superpixel]'"
        ) from err
    return slic


def knn_edges(pos: Tensor, k: int) -> tuple[Tensor, Tensor]:
    r"""Edges from each node's ``k`` nearest neighbours (by ``torch.cdist``) to it, with
    Gaussian weights on distance.

    .. math::
        w_{ji} = \exp\left(-\left(\lVert p_j - p_i \rVert / \sigma_i\right)^2\right)

    where :math:`\sigma_i` is the mean distance of node :math:`i` to its ``k``
    neighbours, the scale of Dwivedi et al.'s MNIST superpixel graphs. PyG's ``knn_graph``
    needs pyg-lib or torch-cluster; this needs neither. With fewer than ``k + 1`` nodes
    every other node is a neighbour.

    Returns:
        ``edge_index`` :math:`(2, E)` (source -> target, no self-loops) and ``edge_weight``
        :math:`(E)`.
    """
    n = pos.size(0)
    kk = min(k, n - 1)
    if kk <= 0:
        return torch.empty(2, 0, dtype=torch.long), torch.empty(0)
    dist = torch.cdist(pos, pos)
    dist.fill_diagonal_(float("inf"))
    near, source = dist.topk(kk, dim=1, largest=False)  # [n, kk], sorted nearest first
    sigma = near.mean(dim=1, keepdim=True).clamp_min(1e-8)
    weight = torch.exp(-((near / sigma) ** 2))
    target = torch.arange(n).view(-1, 1).expand(n, kk)
    return torch.stack([source.reshape(-1), target.reshape(-1)]), weight.reshape(-1)


def superpixel_graph(
    image: Tensor, *, n_segments: int = 75, compactness: float = 0.25, k: int = 8
) -> Data:
    """One image as a graph of its SLIC superpixels.

    Node features are the region's mean intensity (grey) or mean colour (one value per
    channel) and its centroid (row and column, scaled to [0, 1]); each region receives
    edges from its ``k`` nearest regions (by centroid) with Gaussian weights on distance
    (:func:`knn_edges`), as in Dwivedi et al.'s *Benchmarking Graph Neural Networks*
    (MNIST and CIFAR-10 superpixels).

    Args:
        image: ``[C, H, W]`` or ``[H, W]`` values in [0, 1]; three channels are RGB,
            which SLIC segments in Lab space.
        n_segments: SLIC's target number of regions.
        compactness: SLIC's balance of colour and space (0.25 for grey digits in [0, 1],
            about 10 for RGB in Lab, skimage's default).
        k: neighbours per region.

    Returns:
        ``Data`` with ``x`` :math:`(n, C + 2)`, ``edge_index``, ``edge_weight``, ``pos``
        :math:`(n, 2)`.
    """
    owner = "superpixel_graph"
    image = check_tensor(owner, "image", image)
    check_positive_int(owner, "n_segments", n_segments)
    check_positive_int(owner, "k", k)
    if isinstance(compactness, bool) or not isinstance(compactness, (int, float)):
        raise GconvTypeError(f"{owner}: compactness must be a number (got {compactness!r})")
    if not compactness > 0:
        raise GconvValueError(f"{owner}: compactness must be > 0 (got {compactness})")
    slic = _slic()
    if image.dim() == 2:
        image = image.unsqueeze(0)
    if image.dim() != 3:
        raise GconvValueError(
            f"{owner}: image must be one image, [C, H, W] or [H, W] (got {tuple(image.shape)})"
        )
    channels = image.detach().cpu().double().numpy()  # [C, H, W]
    grey = channels.shape[0] == 1
    labels = slic(  # type: ignore[operator]
        channels[0] if grey else channels,
        n_segments=n_segments,
        compactness=compactness,
        channel_axis=None if grey else 0,
        start_label=0,
    )
    labels = np.unique(labels, return_inverse=True)[1].reshape(channels.shape[1:])  # 0..n-1
    n = int(labels.max()) + 1
    h, w = channels.shape[1:]
    rows, cols = np.mgrid[0:h, 0:w]
    flat = labels.ravel()
    count = np.bincount(flat, minlength=n).astype(np.float64)
    mean = np.stack([np.bincount(flat, c.ravel(), minlength=n) / count for c in channels], 1)
    row = np.bincount(flat, rows.ravel(), minlength=n) / count / max(h - 1, 1)
    col = np.bincount(flat, cols.ravel(), minlength=n) / count / max(w - 1, 1)
    pos = torch.tensor(np.stack([row, col], axis=1), dtype=torch.float32)
    x = torch.cat([torch.tensor(mean, dtype=torch.float32), pos], dim=1)
    edge_index, edge_weight = knn_edges(pos, k)
    return Data(x=x, edge_index=edge_index, edge_weight=edge_weight, pos=pos)
