"""Datasets and where they live."""

from gconv.data.datasets import (
    DatasetNotFoundError,
    GridGraphLoader,
    LoadedDataset,
    list_datasets,
    load_dataset,
)
from gconv.data.root import DATA_ENV, data_root

__all__ = [
    "DATA_ENV",
    "DatasetNotFoundError",
    "GridGraphLoader",
    "LoadedDataset",
    "data_root",
    "list_datasets",
    "load_dataset",
]
