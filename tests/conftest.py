import os
from pathlib import Path

import pytest
import torch


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def _real_root() -> Path:
    root = os.environ.get("GCONV_DATA")
    if not root or not Path(root).is_dir():
        pytest.skip("GCONV_DATA does not point at a folder with the real datasets")
    return Path(root)


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The real datasets, copied by CI to a temporary root named by GCONV_DATA."""
    return _real_root()


@pytest.fixture(scope="session")
def cora(data_root: Path):
    from gconv import load_dataset

    return load_dataset("cora", root=data_root)


@pytest.fixture(scope="session")
def mutag(data_root: Path):
    from gconv import load_dataset

    return load_dataset("mutag", root=data_root)


@pytest.fixture(scope="session")
def digits():
    from gconv import load_dataset

    return load_dataset("digits")
