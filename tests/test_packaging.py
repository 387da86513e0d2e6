"""What ``pip install gconv`` gets: a wheel with its license and ``py.typed``, metadata a
package index shows, and an sdist that holds the tests and docs."""

from __future__ import annotations

import os
import tarfile
import zipfile
from pathlib import Path

import pytest

buildapi = pytest.importorskip("flit_core.buildapi")
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("dist")
    cwd = os.getcwd()
    os.chdir(REPO)  # flit builds the project of the working directory
    try:
        wheel = out / buildapi.build_wheel(str(out))
        sdist = out / buildapi.build_sdist(str(out))
    finally:
        os.chdir(cwd)
    return wheel, sdist


def test_the_wheel_has_its_license_and_types(built: tuple[Path, Path]) -> None:
    with zipfile.ZipFile(built[0]) as wheel:
        names = wheel.namelist()
        metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
        fields = wheel.read(metadata).decode().split("\n\n")[0].splitlines()
    assert "gconv/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "License-Expression: MIT" in fields
    assert "Classifier: Typing :: Typed" in fields
    assert any(f.startswith("Project-URL: Homepage, https://") for f in fields)
    assert any(n.startswith("gconv/data/bundled/Cora/raw/") for n in names)  # offline Cora


def test_the_sdist_holds_tests_docs_and_no_data(built: tuple[Path, Path]) -> None:
    with tarfile.open(built[1]) as sdist:
        names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    for kept in ("LICENSE", "CHANGELOG.md", "tests/conftest.py", "docs/faults.md"):
        assert kept in names, kept
    assert not any(n.startswith(("datasets/", "runs/", "results/", ".ci/")) for n in names)
