"""``gconv train SOURCE MODEL`` and ``gconv predict`` on a user's own folder of images
and file of graphs, made by each test."""

import csv
import json
from pathlib import Path

import pytest
import torch

from gconv.cli import main
from gconv.models import build_model
from gconv.train import ModelCheckpoint, Trainer
from tests.userdata import CLASSES, make_graphs, write_images


def test_train_a_folder_then_predict_new_images(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_images(tmp_path / "pets", per_class=12)
    out = tmp_path / "run"
    argv = ["train", str(tmp_path / "pets"), "lenet5", "--epochs", "15", "--no-progress"]
    assert main([*argv, "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["task"] == "image" and metrics["test_accuracy"] > 0.9  # chance: 1/3
    assert "stratified, seed 0" in metrics["split_method"]
    assert metrics["chance_accuracy"] == pytest.approx(3 / 7)  # 7 test images: 3, 2, 2
    capsys.readouterr()
    new = tmp_path / "new"
    write_images(new, per_class=2)  # unseen images, each named for its true class
    assert main(["predict", str(out / "best.pt"), str(new), "--out", str(tmp_path / "p.csv")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 6
    rows = list(csv.DictReader((tmp_path / "p.csv").open()))
    assert [r["input"] for r in rows] == [line.split("\t")[0] for line in lines]
    assert all(r["class"] in CLASSES and 0 < float(r["probability"]) <= 1 for r in rows)
    right = sum(Path(r["input"]).parent.name == r["class"] for r in rows)
    assert right >= 5  # the classes have names, from the folder's subfolders


def test_train_a_file_of_graphs_with_folds_then_predict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    torch.save(make_graphs(60, features=False), tmp_path / "graphs.pt")
    out = tmp_path / "run"
    argv = ["train", str(tmp_path / "graphs.pt"), "gin", "--quick", "--folds", "3"]
    assert main([*argv, "--no-progress", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["task"] == "graph" and [r["fold"] for r in metrics["runs"]] == [0, 1, 2]
    capsys.readouterr()
    assert main(["predict", str(out / "best.pt"), str(tmp_path / "graphs.pt")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 60 and lines[0].startswith(f"{tmp_path / 'graphs.pt'}[0]\t")


def test_a_model_checkpoint_written_in_python_predicts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_images(tmp_path / "pets")
    model = build_model("grid_cnn", tmp_path / "pets")  # build_model loads the folder
    from gconv.data import load_dataset

    pets = load_dataset(tmp_path / "pets")
    trainer = Trainer(max_epochs=2, progress=False, callbacks=[ModelCheckpoint(tmp_path / "ck")])
    trainer.fit(model, pets)
    assert main(["predict", str(tmp_path / "ck" / "best.pt"), str(tmp_path / "pets" / "cat")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 10 and all(line.split("\t")[1] in CLASSES for line in lines)


def test_a_run_at_chance_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_images(tmp_path / "pets")
    argv = ["train", str(tmp_path / "pets"), "lenet5", "--epochs", "1", "--lr", "1e-9"]
    assert main([*argv, "--no-progress", "--out", str(tmp_path / "run")]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("  at chance level:")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: (p / "flat").mkdir(), "flat must hold one subfolder of images per class"),
        (lambda p: torch.save({"a": 1}, p / "flat"), "must hold a list of PyG Data"),
        (lambda p: None, "no such dataset, folder or file"),
    ],
)
def test_source_mistakes_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make, message: str
) -> None:
    make(tmp_path)
    assert main(["train", str(tmp_path / "flat"), "lenet5", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gconv: ") and message in err and len(err.splitlines()) == 1


def test_predict_mistakes_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = build_model("lenet5", (torch.rand(20, 1, 16, 16), torch.arange(20) % 2))
    torch.save({"model": model.state_dict()}, tmp_path / "bare.pt")
    assert main(["predict", str(tmp_path / "bare.pt"), "x.png"]) == 2
    assert "does not say which model it holds" in capsys.readouterr().err
    torch.save({"model": model.state_dict(), "meta": model.build_config}, tmp_path / "m.pt")
    assert main(["predict", str(tmp_path / "m.pt"), str(tmp_path / "absent.png")]) == 2
    assert "INPUT must be image files or folders of them" in capsys.readouterr().err


def test_explain_an_image_file_from_a_python_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_images(tmp_path / "pets")
    from gconv.data import load_dataset

    pets = load_dataset(tmp_path / "pets")
    model = build_model("lenet5", pets)
    trainer = Trainer(max_epochs=1, progress=False, callbacks=[ModelCheckpoint(tmp_path / "ck")])
    trainer.fit(model, pets)
    image = tmp_path / "pets" / "dog" / "3.png"
    out = tmp_path / "maps"
    assert main(["explain", str(tmp_path / "ck" / "best.pt"), str(image), "--out", str(out)]) == 0
    line = capsys.readouterr().out.splitlines()[0]
    assert line.startswith(f"{image}: predicted ") and line.split()[2] in CLASSES
    assert (out / "input.png").is_file() and (out / "filters.png").is_file()
