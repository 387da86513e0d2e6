import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from gconv.cli import main
from gconv.compare import ROW_IDS
from gconv.train import _setup

REPO = Path(__file__).resolve().parents[1]


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    datasets = (
        "datasets: cifar10, cora, digits, mnist, mnist_grid, mnist_seg, mutag, pet_seg, voc_seg"
    )
    assert datasets in out
    assert "gcn" in out and "lenet5" in out and "fcn" in out and "grid_fcn" in out


def test_python_dash_m() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "gconv", "list"], capture_output=True, text=True, check=True
    ).stdout
    assert out.startswith("datasets:")


def test_train_writes_metrics_history_checkpoint_and_curves(tmp_path: Path) -> None:
    assert main(["train", "digits", "mlp", "--quick", "--seeds", "2", "--out", str(tmp_path)]) == 0
    assert {p.name for p in tmp_path.iterdir()} >= {
        "metrics.json",
        "history.csv",
        "best.pt",
        "curves.png",
    }
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    for key in ("dataset", "model", "task", "test_accuracy", "test_accuracy_std", "runs"):
        assert key in metrics
    assert metrics["epochs"] == 3 and metrics["seconds"] > 0
    assert [r["seed"] for r in metrics["runs"]] == [0, 1]
    mean = sum(r["test_accuracy"] for r in metrics["runs"]) / 2
    assert metrics["test_accuracy"] == pytest.approx(mean)
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"
    assert len((tmp_path / "history.csv").read_text().splitlines()) == 1 + 3


def test_the_summary_line_has_a_spread_only_over_several_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["train", "digits", "mlp", "--quick", "--no-progress", "--seeds"]
    assert main([*argv, "1", "--out", str(tmp_path / "one")]) == 0
    (line,) = [x for x in capsys.readouterr().out.splitlines() if x.startswith("digits / mlp")]
    assert "±" not in line and line.endswith("over 1 seed in " + line.split(" in ")[-1])
    assert main([*argv, "2", "--out", str(tmp_path / "two")]) == 0
    (line,) = [x for x in capsys.readouterr().out.splitlines() if x.startswith("digits / mlp")]
    assert "test accuracy " in line and " ± " in line and "over 2 seeds" in line


def test_train_folds_on_mutag(tmp_path: Path, small_root: Path) -> None:
    args = ["train", "mutag", "gin", "--quick", "--root", str(small_root)]
    assert main([*args, "--out", str(tmp_path)]) == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert [r["fold"] for r in metrics["runs"]] == [0, 1, 2]
    assert "xu_protocol_accuracy" in metrics


def test_cora_gin_builds_a_node_level_gin(tmp_path: Path, small_root: Path) -> None:
    out = tmp_path / "run"
    args = ["train", "cora", "gin", "--quick", "--no-progress", "--root", str(small_root)]
    assert main([*args, "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["input_kind"] == "nodes" and metrics["task"] == "node"
    state = torch.load(out / "best.pt", weights_only=False)
    assert state["meta"]["input_kind"] == "nodes"
    assert state["model"]["head.weight"].shape == (7, 64)  # one score per class, per node


def test_fresh_install_offline_trains_cora(tmp_path: Path) -> None:
    # no data folder, no GCONV_DATA, no network: the bundled raw files are read
    env = {k: v for k, v in os.environ.items() if k != "GCONV_DATA"}
    script = (
        "import urllib.error, sys\n"
        "from torch_geometric.datasets import Planetoid\n"
        "def offline(self): raise urllib.error.URLError('no network')\n"
        "Planetoid.download = offline\n"
        "from gconv.cli import main\n"
        "sys.exit(main(['train', 'cora', 'gcn', '--quick', '--no-progress']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "cora / gcn: test accuracy" in result.stdout
    assert (tmp_path / "runs" / "cora-gcn-quick" / "metrics.json").exists()  # its own folder


def test_summary_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", "lenet5", "--input", "1,28,28"]) == 0
    out = capsys.readouterr().out
    assert "conv.0" in out and "[1, 6, 28, 28]" in out and "total parameters 61,706" in out
    assert main(["summary", "lenet5", "--input", "28x28"]) == 2
    assert "--input must be C,H,W" in capsys.readouterr().err
    assert main(["summary", "gcn"]) == 2
    err = capsys.readouterr().err
    assert "summary takes a model of images (classification or segmentation); gcn takes" in err
    assert "the data gives" not in err  # no data is involved


def test_explain_writes_feature_maps(tmp_path: Path, data_root: Path) -> None:
    run = tmp_path / "run"
    assert main(["train", "mnist", "lenet5", "--quick", "--no-progress", "--out", str(run)]) == 0
    out = tmp_path / "explain"
    assert main(["explain", str(run / "best.pt"), "7", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "conv.0.png",
        "conv.3.png",
        "filters.png",
        "input.png",
    ]
    assert main(["explain", str(run / "best.pt"), "99999", "--out", str(out)]) == 2
    assert main(["explain", str(run / "best.pt"), "7"]) == 0  # beside the checkpoint
    assert (run / "explain" / "input.png").is_file()


@pytest.mark.parametrize(
    ("script", "data"),
    [
        ("cora_gcn.py", "small_root"),
        ("mutag_gin.py", "small_root"),
        ("mnist_cnn.py", "data_root"),
        ("transfer_learning.py", "data_root"),
        ("mnist_seg_fcn.py", "data_root"),
    ],
)
def test_example_quick(
    script: str, data: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    env = {**os.environ, "GCONV_DATA": str(request.getfixturevalue(data))}
    result = subprocess.run(
        [sys.executable, str(REPO / "examples" / script), "--quick"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=tmp_path,  # whatever an example writes lands here
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "test accuracy" in result.stdout or "test mean IoU" in result.stdout
    if script == "mnist_seg_fcn.py":
        assert "for every test pixel: True" in result.stdout
        assert (tmp_path / "masks.png").is_file()


def test_compare_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "--list"]) == 0
    out = capsys.readouterr().out
    ids = [line.split()[0] for line in out.splitlines() if line.strip()]
    assert ids[:3] == ["mlp/pixels", "grid_cnn/pixels", "gcn/pixel_grid"]
    assert {"gated_gcn/superpixel", "grid_conv/superpixel", "gcn/pixel_grid_pos"} <= set(ids)
    assert len(ids) == 14
    extras = [line.split()[0] for line in out.splitlines() if "not in the default run" in line]
    assert extras[:2] == ["grid_gnn/pixel_grid", "gcn/pixel_grid_pos"]
    assert extras[2:] == ["gcn/superpixel_unweighted", "gcn_mean/superpixel"]
    assert main(["compare", "--task", "segmentation", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == [
        "fcn/pixels",
        "gcn/pixel_grid",
        "gated_gcn/pixel_grid",
        "grid_fcn/pixel_grid",
    ]
    assert lines[-1].endswith("(not in the default run)")  # the twin check only
    assert main(["compare", "--rows", "gcn/nowhere"]) == 2
    assert "--rows must be from" in capsys.readouterr().err


def test_compare_quick_writes_every_row_and_resumes(tmp_path: Path, data_root: Path) -> None:
    out = tmp_path / "compare"
    assert main(["compare", "--quick", "--no-progress", "--out", str(out)]) == 0
    report = json.loads((out / "compare.json").read_text())
    protocol = report["protocol"]
    assert {"budget", "layers", "epochs", "seeds", "optimizer", "lr", "schedule"} <= set(protocol)
    assert protocol["superpixels"] == {"n_segments": 75, "compactness": 0.25, "k": 8}
    assert [row["id"] for row in report["rows"]] == ROW_IDS  # the default rows, in order
    for row in report["rows"]:
        assert abs(row["params"] - 100_000) <= 10_000, row["id"]
        assert {"id", "model", "input", "accuracy", "accuracy_std", "accuracies"} <= set(row)
        assert len(row["accuracies"]) == protocol["seeds"]
        assert row["history"]["epoch"] == [1] and row["seconds_per_epoch"] > 0
    checks = report["checks"]
    assert checks["grid_gnn_with_cnn_weights_identical_predictions"] is True
    assert checks["path"] == "message passing (propagate)" and checks["propagate_calls"] > 0
    assert checks["max_abs_logit_difference"] < 1e-3
    assert (out / "compare.png").read_bytes()[:4] == b"\x89PNG"
    assert "| `gated_gcn/superpixel` |" in (out / "compare.md").read_text()

    # the same command again finds every seed finished and trains nothing
    done = sorted(out.glob("runs/*/seed-*/result.json"))
    stamps = [p.stat().st_mtime_ns for p in done]
    args = ["compare", "--quick", "--no-progress", "--out", str(out), "--rows", "mlp/pixels"]
    assert main(args) == 0
    assert [p.stat().st_mtime_ns for p in done] == stamps
    again = json.loads((out / "compare.json").read_text())
    assert again["rows"][0]["accuracies"] == report["rows"][0]["accuracies"]

    # a clone has the seeds' results but not their checkpoints: the twin check trains
    # the CNN's seed 0 again instead of failing, and says so
    assert report["checks"]["weights"] == "seed 0"
    (out / "runs" / "grid_cnn-pixels" / "seed-0" / "last.pt").unlink()
    args = ["compare", "--quick", "--no-progress", "--out", str(out), "--rows", "grid_cnn/pixels"]
    assert main(args) == 0
    checks = json.loads((out / "compare.json").read_text())["checks"]
    assert checks["weights"].startswith("seed 0 trained again")
    assert checks["grid_gnn_with_cnn_weights_identical_predictions"] is True
    twin = out / "twin" / "runs" / "grid_cnn-pixels" / "seed-0"
    assert (twin / "last.pt").is_file()

    # and where the retrained seed's result is kept but not its weights, it trains again
    (twin / "last.pt").unlink()
    assert main(args) == 0
    assert (twin / "last.pt").is_file()
    checks = json.loads((out / "compare.json").read_text())["checks"]
    assert checks["grid_gnn_with_cnn_weights_identical_predictions"] is True


def test_cli_prints_no_future_warnings(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "gconv",
            "train",
            "digits",
            "mlp",
            "--quick",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONWARNINGS": "default"},
    )
    assert "FutureWarning" not in result.stderr, result.stderr


def test_a_warning_is_one_line(
    tmp_path: Path, data_root: Path, monkeypatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(_setup, "native_cpu_bfloat16", lambda: False)  # an AVX2-only CPU
    argv = ["compare", "--quick", "--amp", "--no-progress", "--seeds", "1", "--epochs", "1"]
    assert main([*argv, "--rows", "mlp/pixels", "--out", str(tmp_path)]) == 0
    err = capsys.readouterr().err.splitlines()
    (line,) = [x for x in err if "amp=True" in x]
    assert line.startswith("gconv: warning: Trainer: amp=True on a CPU with no bfloat16 kernels")
    assert not [x for x in err if "UserWarning" in x or ".py:" in x]


def test_train_sampled_node_classification(tmp_path: Path, small_root: Path) -> None:
    argv = ["train", "cora", "sage", "--sampled", "--quick", "--out", str(tmp_path)]
    assert main([*argv, "--root", str(small_root)]) == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["test_accuracy"] > 0.3


def test_train_mnist_seg_fcn_reports_mean_iou_over_seeds(tmp_path: Path, data_root: Path) -> None:
    out = tmp_path / "fcn"
    argv = ["train", "mnist_seg", "fcn", "--quick", "--seeds", "2", "--no-progress"]
    assert main([*argv, "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert (metrics["task"], metrics["input_kind"]) == ("segmentation", "images_dense")
    assert 0 <= metrics["test_mean_iou"] <= 1 and "test_mean_iou_std" in metrics
    assert [r["seed"] for r in metrics["runs"]] == [0, 1]
    assert all(0 <= r["test_mean_iou"] <= 1 for r in metrics["runs"])
    assert "background" in metrics["test_iou"] and "digit 7" in metrics["test_iou"]  # by name
    assert (out / "curves.png").is_file() and (out / "best.pt").is_file()


def test_train_mnist_seg_grid_fcn_and_explain_masks(
    tmp_path: Path, data_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "grid"
    argv = ["train", "mnist_seg", "grid_fcn", "--quick", "--no-progress", "--out", str(run)]
    assert main(argv) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["input_kind"] == "pixel_grid_dense"  # the canvases as pixel grid graphs
    assert "mean IoU" in capsys.readouterr().out
    out = tmp_path / "masks"
    assert main(["explain", str(run / "best.pt"), "3", "--count", "2", "--out", str(out)]) == 0
    assert (out / "masks.png").read_bytes()[:4] == b"\x89PNG"
    said = capsys.readouterr().out
    assert "test 3: IoU" in said and "test 4: IoU" in said


def test_compare_segmentation_rows_and_the_twin_check(tmp_path: Path, data_root: Path) -> None:
    assert main(["compare", "--task", "segmentation", "--list"]) == 0
    out = tmp_path / "seg"
    rows = "fcn/pixels,grid_fcn/pixel_grid"
    argv = ["compare", "--task", "segmentation", "--quick", "--no-progress", "--rows", rows]
    assert main([*argv, "--out", str(out)]) == 0
    report = json.loads((out / "compare.json").read_text())
    assert report["protocol"]["task"] == "segmentation"
    assert report["protocol"]["canvases"] == [100, 20, 50]
    for row in report["rows"]:
        assert abs(row["params"] - 100_000) <= 10_000, row["id"]
        assert {"mean_iou", "mean_iou_std", "mean_ious"} <= set(row)
        assert {"test_mean_iou", "val_mean_iou"} <= set(row["history"])  # named as measured
        assert "test_accuracy" not in row["history"]
    assert report["checks"]["grid_fcn_with_cnn_weights_identical_predictions"] is True
    assert report["checks"]["propagate_calls"] > 0
    assert report["checks"]["predictions"] == 50 * 64 * 64
    assert "| `grid_fcn/pixel_grid` |" in (out / "compare.md").read_text()
