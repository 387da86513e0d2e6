"""The package's layers, as the README draws them: each imports only layers below it."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "gconv"

# lowest first; a module may import its own subpackage and those of lower levels only
LEVELS = [
    {"errors"},  # what every check raises
    {"_checks", "_io", "_pyg", "_alloc", "_made_for"},
    {"_head"},  # the classifier head every model shares,
    {"grid", "graph"},
    {"convert"},  # images <-> graphs, and whole CNNs to graph networks (graph's layers)
    {"nn", "transforms"},  # public re-exports of the layers
    {"viz", "loader"},
    {"data"},  # its pixel-grid datasets batch through loader's GridGraphLoader
    {"models"},  # fits() reads the dataset registry's declared inputs
    {"train"},
    {"compare"},  # the experiment behind `gconv compare`
    {"cli"},
    {"__main__"},
]
LEVEL = {name: i for i, names in enumerate(LEVELS) for name in names}


def _imports(path: Path) -> set[str]:
    """The gconv subpackages a file imports (at any depth of the file)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "gconv" and len(parts) > 1 and parts[1] in LEVEL:
                found.add(parts[1])
    return found


def _files() -> list[Path]:
    return sorted(
        p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE
    )


def test_every_subpackage_has_a_level() -> None:
    top = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir() if p.suffix != ".typed"}
    top -= {"__init__", "__pycache__"}
    assert top <= set(LEVEL), top - set(LEVEL)


@pytest.mark.parametrize("path", _files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_go_down_only(path: Path) -> None:
    own = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
    for other in _imports(path) - {own}:
        assert LEVEL[other] < LEVEL[own], f"{own} (level {LEVEL[own]}) imports {other}"


MAX_LINES = 300  # one concept a file: a module past this is doing two things


@pytest.mark.parametrize("path", _files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_source_file_is_over_the_limit(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.name} has {lines} lines (at most {MAX_LINES})"


PUBLIC = ["gconv", "gconv.nn", "gconv.transforms", "gconv.grid", "gconv.graph", "gconv.convert",
          "gconv.data", "gconv.loader", "gconv.models", "gconv.train", "gconv.compare", "gconv.viz",
          "gconv.cli"]  # fmt: skip


def test_each_public_name_has_one_home() -> None:
    """No object is exported (in ``__all__``) by two modules, and the model zoo
    exports its registry and the classes a user builds, 25 names at most."""
    import importlib

    homes: dict[int, list[str]] = {}
    for name in PUBLIC:
        module = importlib.import_module(name)
        for public in module.__all__:
            obj = getattr(module, public)
            if not isinstance(obj, type(importlib)):  # subpackages are not names
                homes.setdefault(id(obj), []).append(f"{name}.{public}")
    twice = [places for places in homes.values() if len(places) > 1]
    assert not twice, twice
    assert len(importlib.import_module("gconv.models").__all__) <= 25
