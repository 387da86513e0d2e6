"""benchmarks/device_check.py, the GPU check, run here in its shortened CPU version so
that it works the day a GPU is lent."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from gconv.compare.experiments import EXPERIMENTS
from gconv.train._setup import native_cpu_bfloat16

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "device_check.py"


def _script():
    spec = importlib.util.spec_from_file_location("device_check", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_every_row_passes_on_the_cpu(data_root: Path, tmp_path: Path) -> None:
    command = [sys.executable, str(SCRIPT), "--device", "cpu", "--out", str(tmp_path)]
    done = subprocess.run(
        [*command, "--root", str(data_root)], capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    report = json.loads((tmp_path / "device_check.json").read_text())
    assert report["failed"] == [] and report["shortened"]
    rows = report["rows"]
    # none skipped either, but ResNet-18's amp row on a CPU that emulates bfloat16
    slow = [] if native_cpu_bfloat16() else ["Trainer mnist resnet18"]
    assert [r["what"] for r in rows if r["status"] != "pass"] == slow
    whats = "\n".join(r["what"] for r in rows)
    for needed in (
        "Trainer mnist lenet5",
        "Trainer mnist resnet18",
        "Trainer cora gcn",
        "NeighborLoader",
        "Trainer mutag gin",
        "grid_gnn (dense)",
        "grid_gnn (propagate)",
        "mnist_seg fcn",
        "mnist_seg grid_fcn",
        "torchrun --nproc_per_node=1 (gloo)",
        "resume",
        "loaded on cpu",
        "layer tests",
        "GridConv2d vs nn.Conv2d",
        "GCNLayer vs PyG GCNConv",
        *(f"compare {e.name} {row.id}," for e in EXPERIMENTS.values() for row in e.rows),
    ):
        assert needed in whats
    assert {r["dtype"] for r in rows} == {"float32", "bfloat16"}  # amp is bfloat16 here
    rated = [r for r in rows if r["rate"] is not None]
    assert rated and all(r["rate"] > 0 and r["device"] == "cpu" for r in rated)
    trainer = [r for r in rows if r["what"].startswith("Trainer mnist ") and r["status"] == "pass"]
    assert len(trainer) == 4 - len(slow) and all(r["vs_reference"] > 0 for r in trainer)


def test_absent_data_skips_a_check_an_error_fails_it_and_the_rest_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = _script()
    rows = sys.modules["_device_rows"]

    def absent_rows(ctx):
        yield rows.Row("first row", rate=2.0, unit="steps/s")
        raise rows.MissingData("load_dataset: the mnist files are not under x")

    def broken_rows(ctx):
        raise RuntimeError("CUDA error: an illegal memory access was encountered")
        yield  # a generator, as every check is

    def fine_rows(ctx):
        yield rows.Row("fine row")

    monkeypatch.setattr(script, "CHECKS", [absent_rows, broken_rows, fine_rows])
    assert script.main(["--device", "cpu", "--out", str(tmp_path)]) == 1
    report = json.loads((tmp_path / "device_check.json").read_text())
    got = [(r["what"], r["status"]) for r in report["rows"]]
    assert got == [
        ("first row", "pass"),
        ("absent: data absent", "skip"),
        ("broken: error", "fail"),
        ("fine row", "pass"),
    ]
    assert "not under x" in report["rows"][1]["note"]
    assert report["rows"][2]["note"] == (
        "RuntimeError: CUDA error: an illegal memory access was encountered"
    )
    assert report["failed"] == ["broken: error"]


def test_unknown_checks_and_an_absent_gpu_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = _script()
    assert script.main(["--device", "cpu", "--only", "imgae", "--out", str(tmp_path)]) == 2
    assert "--only takes image, node" in capsys.readouterr().err
    if not script.torch.cuda.is_available():
        assert script.main(["--device", "cuda", "--out", str(tmp_path)]) == 2
        assert "torch sees no CUDA device" in capsys.readouterr().err
