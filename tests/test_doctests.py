"""Every example in gconv's docstrings runs as written and shows what it prints."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest
import torch

import gconv

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(gconv.__path__, "gconv.")
    if not info.name.endswith("__main__")
)


@pytest.mark.parametrize("name", MODULES)
def test_the_module_s_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    torch.manual_seed(0)
    flags = doctest.NORMALIZE_WHITESPACE
    result = doctest.testmod(module, extraglobs={"torch": torch}, optionflags=flags)
    assert result.failed == 0, f"{name}: {result.failed} example lines differ (see stdout)"


def test_examples_were_found() -> None:
    finder = doctest.DocTestFinder()
    found = sum(
        len(test.examples)
        for name in MODULES
        for test in finder.find(importlib.import_module(name))
    )
    assert found > 100  # a parser change that finds nothing must not pass silently
