"""Dataset transforms (``gconv.transforms.ImageToGridGraph``, ``KNNGraph``, ...)."""

from gconv.convert.transforms import (
    DirectionalEdgeType,
    ImageToGridGraph,
    KNNGraph,
    RadiusGraph,
)

__all__ = ["DirectionalEdgeType", "ImageToGridGraph", "KNNGraph", "RadiusGraph"]
