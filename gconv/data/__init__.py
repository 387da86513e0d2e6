"""Datasets, where they live, and how they are split."""

from gconv.data import cifar  # noqa: F401  (registers cifar10)
from gconv.data.datasets import (
    DatasetNotFoundError,
    LoadedDataset,
    copy_bundled,
    labels_of,
    list_datasets,
    load_dataset,
)
from gconv.data.image_split import ImageSplit
from gconv.data.kinds import KINDS, InputKind, input_kind
from gconv.data.photo_segmentation import SegmentationFiles
from gconv.data.root import DATA_ENV, data_root
from gconv.data.segmentation import IGNORE_INDEX, place_digits
from gconv.data.splits import stratified_folds, stratified_split

__all__ = [
    "DATA_ENV",
    "IGNORE_INDEX",
    "KINDS",
    "DatasetNotFoundError",
    "ImageSplit",
    "InputKind",
    "LoadedDataset",
    "SegmentationFiles",
    "copy_bundled",
    "data_root",
    "input_kind",
    "labels_of",
    "list_datasets",
    "load_dataset",
    "place_digits",
    "stratified_folds",
    "stratified_split",
]
