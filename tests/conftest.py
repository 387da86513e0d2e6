import os
from pathlib import Path

import pytest
import torch

# benchmarks/device_check.py runs the layer tests on a GPU: every tensor and module they
# make goes to the device GCONV_TEST_DEVICE names (the CPU when unset). TF32 is off, as
# on the CPU: cuDNN's convolutions default to it, and a TF32 nn.Conv2d is no float32
# reference for the layers' float32 products (about 1e-3 apart, not 1e-6)
if os.environ.get("GCONV_TEST_DEVICE"):
    torch.set_default_device(os.environ["GCONV_TEST_DEVICE"])
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False


@pytest.fixture(scope="session", autouse=True)
def _scratch_working_directory(tmp_path_factory: pytest.TempPathFactory):
    """The tests run in a scratch folder, so that what a default path writes (``runs/``,
    ``./datasets``) lands there and the checkout stays clean."""
    before = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("cwd"))
    yield
    os.chdir(before)


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
def small_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Cora and MUTAG: the real root when GCONV_DATA names one, else an empty folder, where
    the loaders fall back to the raw files shipped inside the package."""
    root = os.environ.get("GCONV_DATA")
    if root and Path(root).is_dir():
        return Path(root)
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def cora(small_root: Path):
    from gconv.data import load_dataset

    return load_dataset("cora", root=small_root)


@pytest.fixture(scope="session")
def mutag(small_root: Path):
    from gconv.data import load_dataset

    return load_dataset("mutag", root=small_root)


@pytest.fixture(scope="session")
def digits():
    from gconv.data import load_dataset

    return load_dataset("digits")
