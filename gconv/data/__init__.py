"""Datasets, where they live, and how they are split."""

from gconv.data.datasets import (
    DatasetNotFoundError,
    GridGraphLoader,
    LoadedDataset,
    labels_of,
    list_datasets,
    load_dataset,
)
from gconv.data.root import DATA_ENV, data_root
from gconv.data.splits import stratified_folds, stratified_split

__all__ = [
    "DATA_ENV",
    "DatasetNotFoundError",
    "GridGraphLoader",
    "LoadedDataset",
    "data_root",
    "labels_of",
    "list_datasets",
    "load_dataset",
    "stratified_folds",
    "stratified_split",
]
