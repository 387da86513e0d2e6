"""The one table of input kinds: each kind's links name kinds in the table, every
registry's kinds come from it, and a kind it does not hold is refused by name."""

from __future__ import annotations

import pytest

from gconv.data import KINDS, LoadedDataset, input_kind
from gconv.data.datasets import DATASET_INPUTS
from gconv.models import fits, list_models, model_entry


def test_links_name_kinds_of_the_table() -> None:
    for kind in KINDS.values():
        for link in (kind.also_taken_by, kind.as_pixel_grid):
            assert link is None or link in KINDS, (kind.name, link)
        if kind.as_pixel_grid is not None:  # images become grids with the same targets
            grids = KINDS[kind.as_pixel_grid]
            assert kind.images and grids.pixel_grid and grids.per_pixel == kind.per_pixel


def test_every_registered_kind_is_in_the_table() -> None:
    assert set(DATASET_INPUTS.values()) <= set(KINDS)
    for name in list_models():
        assert set(model_entry(name).inputs) <= set(KINDS), name


def test_a_pixel_grid_is_taken_by_models_of_its_wider_kind() -> None:
    for kind in KINDS.values():
        if kind.also_taken_by is not None:
            assert fits("gcn", kind.name) == fits("gcn", kind.also_taken_by), kind.name


def test_an_unknown_kind_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"input kind must be one of images, .*\(got 'image'\)"):
        input_kind("image")
    with pytest.raises(ValueError, match=r"\(got 'grid'\)"):
        LoadedDataset("toy", "graph", "grid", [], [], [], 1, 2)


def test_only_images_become_pixel_grids() -> None:
    graphs = LoadedDataset("toy", "graph", "graphs", [], [], [], 1, 2)
    with pytest.raises(ValueError, match="as_pixel_grid: dataset 'toy' must give images"):
        graphs.as_pixel_grid()
    images = LoadedDataset("toy", "image", "images", [], [], [], 1, 2, (1, 4, 4))
    assert (images.as_pixel_grid().input_kind, images.as_pixel_grid().task) == (
        "pixel_grid",
        "graph",
    )
    masks = LoadedDataset("toy", "segmentation", "images_dense", [], [], [], 1, 2, (1, 4, 4))
    assert (masks.as_pixel_grid().input_kind, masks.as_pixel_grid().task) == (
        "pixel_grid_dense",
        "segmentation",
    )
