"""The kinds of input: what a dataset gives and a model takes, in one table.

Every question about a kind is answered here, by the kind's own fields, so that no
caller tests kind names: :func:`gconv.models.fits` (which kinds a model of another kind
also takes), :func:`gconv.models.build_model` (a prediction per node or per example),
:meth:`LoadedDataset.as_pixel_grid` (what images become as pixel grid graphs), and the
CLI (which datasets ``gconv explain`` can draw, which batches are pixel grids).
"""

from __future__ import annotations

from dataclasses import dataclass

from gconv.errors import GconvValueError


@dataclass(frozen=True)
class InputKind:
    """One kind of input.

    Attributes:
        name: its name in the registries (``register_model(inputs=...)``, datasets).
        description: how a message names it.
        images: the data are image tensors ``[B, C, H, W]``.
        pixel_grid: the data are pixel grid graphs (:func:`gconv.convert.grid_graph`).
        per_pixel: the target is a class per pixel (segmentation).
        per_node: a model predicts a class per node (node classification, and pixel
            grids labelled per pixel).
        also_taken_by: the kind whose models take this data too (a pixel grid is a graph).
        as_pixel_grid: the kind these images become as pixel grid graphs.
    """

    name: str
    description: str
    images: bool = False
    pixel_grid: bool = False
    per_pixel: bool = False
    per_node: bool = False
    also_taken_by: str | None = None
    as_pixel_grid: str | None = None


KINDS: dict[str, InputKind] = {
    kind.name: kind
    for kind in (
        InputKind("images", "images [B, C, H, W]", images=True, as_pixel_grid="pixel_grid"),
        InputKind("pixel_grid", "pixel grid graphs", pixel_grid=True, also_taken_by="graphs"),
        InputKind("nodes", "the nodes of one graph (node classification)", per_node=True),
        InputKind("graphs", "whole graphs (graph classification)"),
        InputKind(
            "images_dense",
            "images [B, C, H, W] with a class per pixel (segmentation)",
            images=True,
            per_pixel=True,
            as_pixel_grid="pixel_grid_dense",
        ),
        InputKind(
            "pixel_grid_dense",
            "pixel grid graphs with a class per pixel node (segmentation)",
            pixel_grid=True,
            per_pixel=True,
            per_node=True,
            also_taken_by="nodes",
        ),
    )
}


def input_kind(name: str) -> InputKind:
    """The kind called ``name``; ``ValueError`` naming the kinds when there is none."""
    if name not in KINDS:
        raise GconvValueError(f"input kind must be one of {', '.join(KINDS)} (got {name!r})")
    return KINDS[name]
