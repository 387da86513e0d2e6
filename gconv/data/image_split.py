"""A split of images kept as they were read (bytes, for files) and standardized batch
by batch, as torchvision's ``Normalize`` does per image: a folder of 50,000 32x32 RGB
images costs its 150 MiB of bytes, not 600 MiB of floats."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch.utils.data import Dataset

CHUNK = 256  # images at a time, where statistics are summed (a few MiB of float64)


class ImageSplit(Dataset[tuple[Tensor, Tensor]]):
    """``(image, label)`` pairs: ``pixels[i]`` divided by ``scale``, then ``(x - mean) /
    std`` per channel (``normalization``, as :class:`gconv.data.LoadedDataset` keeps it).

    Args:
        pixels: ``[N, C, H, W]`` images, ``uint8`` or floating point, kept as given.
        labels: ``[N]`` class ids.
        normalization: ``{"scale", "mean", "std"}`` (``mean`` and ``std`` one a channel).

    A ``DataLoader`` fetches a batch through :meth:`__getitems__`, standardized in one
    operation; each value is the same, bit for bit, as :meth:`standardized`'s.
    """

    def __init__(self, pixels: Tensor, labels: Tensor, normalization: dict[str, Any]) -> None:
        self.pixels = pixels
        self.labels = labels
        self.normalization = normalization

    def standardize(self, pixels: Tensor) -> Tensor:
        """``pixels`` (of this split's kind) as the model sees them: a new float tensor."""
        return standardize(pixels, self.normalization)

    def standardized(self) -> Tensor:
        """Every image, standardized: one float copy of the whole split."""
        return self.standardize(self.pixels)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        return self.standardize(self.pixels[index]), self.labels[index]

    def __getitems__(self, indices: list[int]) -> list[tuple[Tensor, Tensor]]:
        index = torch.as_tensor(indices)
        images = self.standardize(self.pixels[index])
        return list(zip(images.unbind(0), self.labels[index].unbind(0), strict=True))

    def __repr__(self) -> str:
        shape = "x".join(str(s) for s in self.pixels.shape[1:])
        return f"{type(self).__name__}({len(self)} images of {shape}, {self.pixels.dtype})"


def standardize(pixels: Tensor, normalization: dict[str, Any]) -> Tensor:
    """``pixels`` divided by ``normalization["scale"]``, then ``(x - mean) / std`` per
    channel, as a new float32 tensor: what training saw, and what prediction applies."""
    mean, std = (
        torch.tensor(normalization[k], dtype=torch.float32).view(-1, 1, 1) for k in ("mean", "std")
    )
    scale = float(normalization["scale"])
    return pixels.to(torch.float32, copy=True).div_(scale).sub_(mean).div_(std)


def channel_statistics(pixels: Tensor, scale: float) -> tuple[list[float], list[float]]:
    """The mean and standard deviation (``N - 1``) of each channel of ``pixels / scale``,
    summed a chunk at a time in float64: no float copy of the whole split."""
    channels = pixels.size(1)
    total = torch.zeros(channels, dtype=torch.float64)
    squares = torch.zeros(channels, dtype=torch.float64)
    for start in range(0, len(pixels), CHUNK):
        chunk = pixels[start : start + CHUNK].to(torch.float64).div_(scale).transpose(0, 1)
        flat = chunk.reshape(channels, -1)
        total += flat.sum(1)
        squares += flat.square().sum(1)
    n = pixels.numel() // channels
    mean = total / n
    var = (squares - n * mean.square()) / max(n - 1, 1)
    return mean.tolist(), var.clamp_min(0).sqrt().clamp_min(1e-6).tolist()
