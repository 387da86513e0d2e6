"""Dataset transforms (``gconv.transforms.ImageToGridGraph``)."""

from gconv.convert.transforms import DirectionalEdgeType, ImageToGridGraph

__all__ = ["DirectionalEdgeType", "ImageToGridGraph"]
