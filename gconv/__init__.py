"""gconv: grid and graph convolutions under one roof, on PyTorch Geometric.

``import gconv`` imports its subpackages (as torchvision's and PyG's do). Each name
has one home: layers in :mod:`gconv.nn`, dataset transforms in
:mod:`gconv.transforms`, images and graphs in :mod:`gconv.convert`, data in
:mod:`gconv.data`, loaders in :mod:`gconv.loader`, models in :mod:`gconv.models`,
training in :mod:`gconv.train`.
"""

from gconv import (
    _pyg,  # noqa: F401  (first: imports PyG without its torch warning)
    convert,
    data,
    graph,
    grid,
    loader,
    models,
    nn,
    train,
    transforms,
)

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "convert",
    "data",
    "graph",
    "grid",
    "loader",
    "models",
    "nn",
    "train",
    "transforms",
]
