"""Transforms that let torchvision image datasets feed PyG loaders."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import Data

from gconv._checks import check_choice, check_odd_kernel
from gconv.convert.grid_graph import _template


class ImageToGridGraph:
    r"""Turns one image into a pixel grid graph (a torchvision-style transform).

    The graph is the one :func:`gconv.grid_graph` builds, with ``x`` the pixel values
    (:math:`(HW, C)`), so ``MNIST(root, transform=ImageToGridGraph())`` yields graphs that
    a PyG ``DataLoader`` batches (as ``[Batch, labels]``).

    Args:
        kernel_size: odd kernel size of the grid's taps.
        connectivity: 8 or 4.

    Shapes:
        - input: ``[C, H, W]`` or ``[H, W]`` tensor, or a PIL image (scaled to [0, 1])
        - output: ``Data`` with ``x`` :math:`(HW, C)`, ``edge_index``, ``edge_type``,
          ``pos``

    Example:
        >>> data = ImageToGridGraph()(torch.rand(1, 28, 28))
        >>> data.x.shape, data.edge_index.shape
        (torch.Size([784, 1]), torch.Size([2, 6940]))
    """

    def __init__(self, kernel_size: int = 3, connectivity: int = 8) -> None:
        owner = type(self).__name__
        check_odd_kernel(owner, kernel_size)
        check_choice(owner, "connectivity", connectivity, (4, 8))
        self.kernel_size = kernel_size
        self.connectivity = connectivity

    def __call__(self, image: Any) -> Data:
        owner = type(self).__name__
        if not isinstance(image, Tensor):
            from torchvision.transforms.functional import to_tensor

            try:
                image = to_tensor(image)
            except TypeError as err:
                raise TypeError(
                    f"{owner}: image must be a Tensor or a PIL image (got {type(image).__name__})"
                ) from err
        if image.dim() == 2:
            image = image.unsqueeze(0)
        if image.dim() != 3:
            raise ValueError(
                f"{owner}: image must be [C, H, W] or [H, W] (got shape {tuple(image.shape)})"
            )
        if not image.is_floating_point():
            image = image.to(torch.get_default_dtype())
        c, h, w = image.shape
        edge_index, edge_type, pos = _template(h, w, self.kernel_size, self.connectivity, True)
        return Data(
            x=image.permute(1, 2, 0).reshape(h * w, c),
            edge_index=edge_index.clone(),
            edge_type=edge_type.clone(),
            pos=pos.clone(),
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(kernel_size={self.kernel_size}, "
            f"connectivity={self.connectivity})"
        )
