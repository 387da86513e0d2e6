from pathlib import Path

import pytest

from gconv.data import data_root


def test_explicit_root_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GCONV_DATA", "/from/env")
    assert data_root("/explicit") == Path("/explicit")


def test_environment_variable_next(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GCONV_DATA", str(tmp_path))
    assert data_root() == tmp_path


def test_an_environment_variable_naming_no_folder_is_reported(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GCONV_DATA", str(tmp_path / "typo"))
    with pytest.raises(FileNotFoundError, match=r"GCONV_DATA=.*typo must name a folder"):
        data_root()
    assert not (tmp_path / "typo").exists()


def test_default_is_local_datasets_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GCONV_DATA", raising=False)
    assert data_root() == Path("datasets")


def test_bad_root_type() -> None:
    with pytest.raises(TypeError, match="data_root: root must be a path"):
        data_root(3)  # type: ignore[arg-type]


def test_a_root_that_is_a_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match=r"data_root: root must be a folder \(got the file"):
        data_root(tmp_path / "notes.txt")


def test_bundled_data_is_processed_in_the_user_cache_quietly(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    import urllib.error
    import urllib.request

    from gconv.data import load_dataset

    def offline(*args, **kwargs):
        raise urllib.error.URLError("offline")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("PYTEST_CURRENT_TEST")  # PyG is quiet under pytest: be a user
    root = tmp_path / "root"
    root.mkdir()
    cora = load_dataset("cora", root=root)
    assert cora.num_classes == 7 and cora.train.train_mask.sum() == 140
    assert list(root.iterdir()) == []  # no empty download folders, no processed files
    assert (tmp_path / "cache" / "gconv" / "Cora" / "processed" / "data.pt").is_file()
    assert "Processing" not in capfd.readouterr().err
