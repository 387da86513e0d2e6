"""The resumable-run module both `gconv train` and `gconv compare` use."""

import json
from pathlib import Path

import torch

from gconv.train import runs


def test_the_settings_key_names_the_settings() -> None:
    key = runs.settings_key({"lr": 0.01, "epochs": 5})
    assert key == runs.settings_key({"epochs": 5, "lr": 0.01})  # order does not count
    assert key != runs.settings_key({"lr": 0.001, "epochs": 5})


def test_a_finished_run_is_read_under_its_key_only(tmp_path: Path) -> None:
    folder = runs.run_folder(tmp_path, "seed", 2)
    assert folder == tmp_path / "seed-2"
    runs.save_result(folder, {runs.KEY: "abc", "accuracy": 0.9})
    assert runs.finished_result(folder, "abc") == {runs.KEY: "abc", "accuracy": 0.9}
    assert runs.finished_result(folder, "other") is None
    assert runs.finished_result(folder, "abc", complete=lambda r: False) is None
    (folder / "result.json").write_text(json.dumps({"protocol_key": "old"}))  # the seeds
    assert runs.finished_result(folder, "old") is not None  # committed before the module


def test_a_saved_state_resumes_under_its_key_and_says_how_others_differ(tmp_path: Path) -> None:
    meta = {"settings": {"lr": 0.01, "epochs": 5}, "model": "gin", runs.KEY: "k1"}
    torch.save({"model": {}, "meta": meta}, tmp_path / "last.pt")
    assert runs.saved_state(tmp_path, "k1") is not None
    assert runs.saved_state(tmp_path, "k2") is None
    wanted = {"settings": {"lr": 0.001, "epochs": 5}, "model": "gcn"}
    assert runs.differences(runs.saved_meta(tmp_path), wanted, ("settings", "model")) == [
        "lr 0.001 (the checkpoint's: 0.01)",
        "model 'gcn' (the checkpoint's: 'gin')",
    ]


def test_mean_and_spread() -> None:
    out = runs.mean_and_spread([{"a": 1.0}, {"a": 3.0}], ["a"])
    assert out == {"a": 2.0, "a_std": 1.0}
