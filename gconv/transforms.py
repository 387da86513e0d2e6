"""Dataset transforms (``gconv.transforms.ImageToGridGraph``)."""

from gconv.convert.transforms import ImageToGridGraph

__all__ = ["ImageToGridGraph"]
