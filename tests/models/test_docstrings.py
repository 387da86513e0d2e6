"""Every public model class and layer documents its shapes and shows an example, and
every example runs as written (doctest)."""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil

import pytest
import torch
from torch import nn

import gconv.models
import gconv.nn


def _classes() -> list[tuple[str, type, dict]]:
    found = []
    for info in pkgutil.iter_modules(gconv.models.__path__):
        module = importlib.import_module(f"gconv.models.{info.name}")
        for name, obj in vars(module).items():
            if not (inspect.isclass(obj) and issubclass(obj, nn.Module)):
                continue
            if not name.startswith("_") and obj.__module__ == module.__name__:
                found.append((f"{module.__name__}.{name}", obj, vars(module)))
    for name in gconv.nn.__all__:
        obj = getattr(gconv.nn, name)
        if inspect.isclass(obj):
            module = importlib.import_module(obj.__module__)
            found.append((f"gconv.nn.{name}", obj, vars(module)))
    return found


CLASSES = _classes()


@pytest.mark.parametrize(("name", "cls", "scope"), CLASSES, ids=[c[0] for c in CLASSES])
def test_shapes_and_example_that_runs(name: str, cls: type, scope: dict) -> None:
    doc = cls.__doc__ or ""
    assert "Shapes:" in doc and "Example:" in doc, f"{name} needs Shapes: and Example:"
    test = doctest.DocTestParser().get_doctest(doc, {**scope, "torch": torch}, name, None, 0)
    assert test.examples, f"{name}'s Example has no >>> line"
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    torch.manual_seed(0)
    result = runner.run(test)
    assert result.failed == 0, f"{name}: {result.failed} example lines differ (see stdout)"
