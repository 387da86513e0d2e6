"""ImageSplit: images kept as they were read, standardized batch by batch."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader, Subset
from torchvision.transforms import Normalize

from gconv.data import ImageSplit, load_dataset
from gconv.data.image_split import channel_statistics
from tests.userdata import write_images

NORM = {"scale": 255.0, "mean": [0.2, 0.5, 0.7], "std": [0.3, 0.25, 0.1]}


def _split(n: int = 50) -> ImageSplit:
    g = torch.Generator().manual_seed(0)
    pixels = torch.randint(0, 256, (n, 3, 6, 5), dtype=torch.uint8, generator=g)
    return ImageSplit(pixels, torch.arange(n) % 4, NORM)


def test_items_are_torchvisions_normalize_of_the_scaled_pixels() -> None:
    split = _split()
    normalize = Normalize(NORM["mean"], NORM["std"])
    for i in (0, 17, 49):
        image, label = split[i]
        expected = normalize(split.pixels[i].float() / 255.0)
        torch.testing.assert_close(image, expected, rtol=1e-6, atol=1e-6)
        assert image.dtype == torch.float32 and int(label) == i % 4


@pytest.mark.parametrize("wrap", [False, True])
def test_a_loaders_batches_are_the_standardized_split_bit_for_bit(wrap: bool) -> None:
    split = _split()
    data = Subset(split, list(range(10, 50))) if wrap else split
    whole = split.standardized()
    start = 10 if wrap else 0
    seen = 0
    for images, labels in DataLoader(data, batch_size=16):
        assert torch.equal(images, whole[start + seen : start + seen + len(labels)])
        assert torch.equal(labels, split.labels[start + seen : start + seen + len(labels)])
        seen += len(labels)
    assert seen == len(data)
    assert split.pixels.dtype == torch.uint8  # nothing stored as floats


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32, torch.float64])
def test_channel_statistics_match_torchs_mean_and_std(dtype: torch.dtype) -> None:
    g = torch.Generator().manual_seed(1)
    pixels = (torch.rand(700, 3, 4, 4, generator=g) * 255).to(dtype)  # several chunks
    scale = 255.0 if dtype == torch.uint8 else 1.0
    mean, std = channel_statistics(pixels, scale)
    x = pixels.double() / scale
    torch.testing.assert_close(torch.tensor(mean, dtype=torch.float64), x.mean(dim=(0, 2, 3)))
    torch.testing.assert_close(torch.tensor(std, dtype=torch.float64), x.std(dim=(0, 2, 3)))


def test_a_folder_is_kept_as_bytes_with_its_training_statistics(tmp_path: Path) -> None:
    write_images(tmp_path / "pets")
    pets = load_dataset(tmp_path / "pets")
    for split in (pets.train, pets.val, pets.test):
        assert isinstance(split, ImageSplit) and split.pixels.dtype == torch.uint8
        assert split.normalization is pets.normalization
    x = pets.train.standardized()
    torch.testing.assert_close(x.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(x.std(dim=(0, 2, 3)), torch.ones(3), atol=1e-5, rtol=0)


def test_repr_names_the_images() -> None:
    assert repr(_split(7)) == "ImageSplit(7 images of 3x6x5, torch.uint8)"
