"""CIFAR-10 by name, read through torchvision from files in CIFAR-10's own format that
the test writes (python pickles of 3072-byte rows), and its one-line message offline."""

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from gconv.cli import main
from gconv.data import DatasetNotFoundError, load_dataset

NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def write_cifar10(root: Path, per_batch: int = 30, test: int = 30) -> None:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name, count in [
        *((f"data_batch_{i}", per_batch) for i in range(1, 6)),
        ("test_batch", test),
    ]:
        labels = [i % 10 for i in range(count)]
        data = rng.integers(0, 256, (count, 3072), dtype=np.uint8)
        data[:, :1024] = np.asarray(labels, dtype=np.uint8)[:, None] * 25  # red: the class
        with open(folder / name, "wb") as f:
            pickle.dump({"data": data, "labels": labels, "batch_label": name}, f)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": NAMES, "num_vis": 3072}, f)


def test_cifar10_from_its_own_format(tmp_path: Path) -> None:
    write_cifar10(tmp_path)
    cifar = load_dataset("cifar10", root=tmp_path)
    assert cifar.input_shape == (3, 32, 32) and cifar.class_names == tuple(NAMES)
    assert len(cifar.test) == 30 and len(cifar.train) + len(cifar.val) == 150
    assert len(cifar.val) == 30  # val_size is capped at a fifth of the training set
    x = cifar.train.standardized()  # standardized with the training split's own statistics
    assert abs(float(x.mean())) < 1e-4 and cifar.normalization["scale"] == 255.0
    red = x[:, 0].mean(dim=(1, 2))  # the red channel still orders the classes
    y = cifar.train.labels
    assert bool((red[y == 9].mean() > red[y == 0].mean()).item())


def test_cifar10_offline_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from torchvision.datasets import CIFAR10

    def offline(self) -> None:
        raise OSError("no network")

    monkeypatch.setattr(CIFAR10, "download", offline)
    with pytest.raises(DatasetNotFoundError, match="cifar10 is not under"):
        load_dataset("cifar10", root=tmp_path)
    assert main(["train", "cifar10", "lenet5", "--root", str(tmp_path)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "cifar-10-batches-py" in line and "GCONV_DATA" in line


def test_compare_on_cifar10_sets_dwivedi_s_figures_beside(tmp_path: Path) -> None:
    write_cifar10(tmp_path, per_batch=12, test=20)
    out = tmp_path / "out"
    argv = ["compare", "--dataset", "cifar10", "--root", str(tmp_path), "--quick", "--seeds", "1"]
    assert main([*argv, "--rows", "gcn/superpixel,gated_gcn/superpixel", "--out", str(out)]) == 0
    report = json.loads((out / "compare.json").read_text())
    assert [r["published"] for r in report["rows"]] == [0.5571, 0.67312]
    assert report["protocol"]["superpixels"]["n_segments"] == 150  # Dwivedi et al.'s
    text = (out / "compare.md").read_text()
    assert "| published % |" in text and "Dwivedi et al., CIFAR-10 superpixels" in text
