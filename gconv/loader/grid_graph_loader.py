"""Pixel grid batches of an image dataset, made on the fly."""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import Dataset


class GridGraphLoader:
    """Batches images and turns each batch into pixel grid graphs on the fly.

    One grid template serves every batch (see :func:`gconv.convert.images_to_graphs`), so MNIST
    as graphs costs a reshape per batch instead of 70,000 stored graphs. With
    ``positions=True`` each node's features also hold its row and column in [0, 1].
    """

    def __init__(
        self,
        dataset: Dataset[Any],
        batch_size: int = 64,
        shuffle: bool = False,
        *,
        positions: bool = False,
        **kwargs: Any,
    ) -> None:
        from torch.utils.data import DataLoader

        self.loader: DataLoader[Any] = DataLoader(
            dataset, batch_size=batch_size, shuffle=shuffle, **kwargs
        )
        self.dataset = dataset
        self.positions = positions

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Any:
        from gconv.convert import images_to_graphs

        for images, labels in self.loader:
            batch = images_to_graphs(images, labels)
            if self.positions:
                h, w = images.shape[-2:]
                scale = batch.pos.new_tensor([max(h - 1, 1), max(w - 1, 1)])
                batch.x = torch.cat([batch.x, batch.pos / scale], dim=1)
            yield batch
