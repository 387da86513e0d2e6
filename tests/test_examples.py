"""A PyG user's script runs with only its import changed, and computes what PyG computes."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gconv.data.datasets import BUNDLED

REPO = Path(__file__).resolve().parents[1]
GCONV_IMPORT = "from gconv.nn import GCNLayer as GCNConv"


@pytest.fixture(scope="module")
def planetoid_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("planetoid")
    shutil.copytree(BUNDLED / "Cora", root / "Cora")  # raw files only: Planetoid processes
    return root


def _run(script: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, check=True
    )
    return result.stdout


def _accuracy(out: str) -> float:
    match = re.search(r"test accuracy (\d\.\d+)", out)
    assert match, out
    return float(match.group(1))


@pytest.mark.slow
@pytest.mark.parametrize("extra", [[], ["--gdc", "--epochs", "20"]], ids=["gcn", "gdc"])
def test_pyg_gcn_script_with_gconv_equals_pyg(
    tmp_path: Path, planetoid_root: Path, extra: list[str]
) -> None:
    ours = REPO / "examples" / "pyg_gcn.py"
    source = ours.read_text()
    assert source.count(GCONV_IMPORT) == 1  # the one line that names gconv
    reference = tmp_path / "pyg_gcn_reference.py"
    reference.write_text(source.replace(GCONV_IMPORT, "from torch_geometric.nn import GCNConv"))
    args = ["--root", str(planetoid_root), *extra]
    out, expected = _run(ours, *args), _run(reference, *args)
    strip = lambda text: re.sub(r"median seconds per epoch .*", "", text)  # noqa: E731
    assert strip(out) == strip(expected)  # every logged loss and accuracy, to 4 decimals
    if not extra:
        assert _accuracy(out) >= 0.79  # Kipf and Welling: 0.815


@pytest.mark.slow
def test_pyg_script_runs_offline_from_an_empty_root(tmp_path: Path) -> None:
    """A fresh clone: no data folder, no network; Cora's raw files come from gconv."""
    script = REPO / "examples" / "pyg_gcn.py"
    out = _run(script, "--root", str(tmp_path / "datasets"), "--epochs", "2")
    assert "test accuracy" in out
    assert (tmp_path / "datasets" / "Cora" / "raw" / "ind.cora.x").is_file()


def _online() -> bool:
    import socket

    try:
        socket.create_connection(("ossci-datasets.s3.amazonaws.com", 443), timeout=3).close()
    except OSError:
        return False
    return True


@pytest.mark.skipif(_online(), reason="online: the example would download MNIST")
@pytest.mark.parametrize("script", ["mnist_cnn.py", "mnist_seg_fcn.py"])
def test_an_mnist_example_without_mnist_says_where_to_put_it(tmp_path: Path, script: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "GCONV_DATA"}
    result = subprocess.run(
        [sys.executable, str(REPO / "examples" / script), "--quick"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert "mnist is not under" in line and "GCONV_DATA" in line, line
    assert not (tmp_path / "datasets").exists()  # no empty download folders
