from pathlib import Path

import pytest

from gconv import data_root


def test_explicit_root_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GCONV_DATA", "/from/env")
    assert data_root("/explicit") == Path("/explicit")


def test_environment_variable_next(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GCONV_DATA", "/from/env")
    assert data_root() == Path("/from/env")


def test_default_is_local_datasets_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GCONV_DATA", raising=False)
    assert data_root() == Path("datasets")


def test_bad_root_type() -> None:
    with pytest.raises(TypeError, match="data_root: root must be a path"):
        data_root(3)  # type: ignore[arg-type]
