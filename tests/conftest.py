import os
from pathlib import Path

import pytest
import torch


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.fixture
def data_root() -> Path:
    """The real datasets, copied by CI to a temporary root named by GCONV_DATA."""
    root = os.environ.get("GCONV_DATA")
    if not root or not Path(root).is_dir():
        pytest.skip("GCONV_DATA does not point at a folder with the real datasets")
    return Path(root)
