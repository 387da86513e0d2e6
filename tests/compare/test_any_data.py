"""The comparison on data other than MNIST: a folder of images made by the test,
scikit-learn's digits from Python, rows that stop when validation stops improving."""

import ast
import json
from pathlib import Path

import pytest

from gconv.cli import main
from gconv.compare import Protocol, get_rows, run_compare
from gconv.compare.run import finished
from tests.userdata import write_images

COMPARE = Path(__file__).resolve().parents[2] / "gconv" / "compare"


def test_compare_on_a_folder_of_images(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_images(tmp_path / "pets", per_class=12)
    out = tmp_path / "report"
    argv = ["compare", "--dataset", str(tmp_path / "pets"), "--quick", "--seeds", "1"]
    assert main([*argv, "--no-progress", "--out", str(out)]) == 0
    report = json.loads((out / "compare.json").read_text())
    assert [r["id"] for r in report["rows"]] == [r.id for r in get_rows()]  # every default row
    p = report["protocol"]
    assert p["input_shape"] == [3, 16, 14] and p["num_classes"] == 3 and p["data_key"]
    assert p["superpixels"]["compactness"] == 10.0  # colour, segmented in Lab
    superpixel = next(r for r in report["rows"] if r["id"] == "gcn/superpixel")
    assert superpixel["published"] is None  # Dwivedi et al. have no figure for these data
    text = (out / "compare.md").read_text()
    assert "pets: 3x16x14 images, 3 classes" in text and "Splits: train/val/test carved" in text
    assert report["checks"]["grid_gnn_with_cnn_weights_identical_predictions"]
    assert any((tmp_path / "pets" / ".superpixels").iterdir())  # the cache, beside the data
    # the same command resumes: nothing is trained again
    capsys.readouterr()
    assert main([*argv, "--no-progress", "--out", str(out)]) == 0
    assert json.loads((out / "compare.json").read_text())["rows"] == report["rows"]


def test_digits_go_through_the_comparison_from_python(tmp_path: Path) -> None:
    protocol = Protocol.for_task(dataset="digits", epochs=1, seeds=1)
    report = run_compare(protocol, out=tmp_path / "out", root=str(tmp_path), progress=False,
                         log=lambda line: None)  # fmt: skip
    assert len(report["rows"]) == len(get_rows())
    assert report["protocol"]["input_shape"] == (1, 8, 8)
    assert report["protocol"]["superpixels"]["n_segments"] == 9  # CIFAR-10's density
    assert (tmp_path / "DIGITS" / "superpixels").is_dir()


def test_other_data_train_until_validation_stops_improving(tmp_path: Path) -> None:
    protocol = Protocol.for_task(dataset="digits", seeds=1)
    assert protocol.patience == 10 and protocol.epochs == 200
    assert Protocol.for_task(dataset="digits", epochs=5).patience is None  # --epochs: fixed
    assert Protocol.for_task().patience is None  # MNIST: the validated 48
    short = Protocol.for_task(dataset="digits", seeds=1, epochs=40, patience=1)
    report = run_compare(short, rows=["mlp/pixels"], out=tmp_path, root=str(tmp_path),
                         progress=False, log=lambda line: None)  # fmt: skip
    (row,) = report["rows"]
    assert row["epochs_per_seed"][0] < 40  # stopped once validation stalled
    result = json.loads(next(tmp_path.glob("runs/*/seed-0/result.json")).read_text())
    assert result["stopped_early"] and finished(result, report_protocol(report))
    assert "had not improved for 1 epochs" in (tmp_path / "compare.md").read_text()


def report_protocol(report: dict) -> Protocol:
    fields = dict(report["protocol"])
    fields["input_shape"] = tuple(fields["input_shape"])
    return Protocol(**fields)


def test_mnist_keeps_the_key_of_its_committed_seeds() -> None:
    assert Protocol.for_task().key() == "cf469c8d459c"  # results/compare/runs/*/result.json
    assert Protocol.for_task("segmentation").key() == "6b56b9ff57fc"
    assert Protocol.for_task(dataset="digits").key() != Protocol.for_task().key()


def test_no_module_of_the_comparison_asks_a_row_or_input_its_name() -> None:
    """Rows and inputs carry what differs: a comparison of ``.model``, ``.input`` or
    ``.name`` with a string literal is a branch on a name."""
    for path in COMPARE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Compare):
                continue
            sides = [node.left, *node.comparators]
            named = any(isinstance(s, ast.Attribute) and s.attr in ("model", "input", "name")
                        for s in sides)  # fmt: skip
            literal = any(isinstance(s, (ast.Constant, ast.Tuple, ast.List)) for s in sides)
            assert not (named and literal), f"{path.name}:{node.lineno} tests a name"


def test_segmentation_takes_its_own_canvases_only(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "--task", "segmentation", "--dataset", "pets", "--quick"]) == 2
    err = capsys.readouterr().err
    assert "--dataset takes image classification data" in err and len(err.splitlines()) == 1
