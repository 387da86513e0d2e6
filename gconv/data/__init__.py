"""Datasets and where they live."""

from gconv.data.root import DATA_ENV, data_root

__all__ = ["DATA_ENV", "data_root"]
