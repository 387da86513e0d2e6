"""``--jobs``: seeds trained in worker processes give the report one process gives."""

import json
import sys
from pathlib import Path

import pytest

from gconv._alloc import tune_allocator
from gconv.cli import main


def test_tune_allocator_says_whether_it_changed_anything() -> None:
    changed = tune_allocator()
    assert isinstance(changed, bool)
    assert changed is sys.platform.startswith("linux")  # glibc on every Linux we run on


@pytest.mark.slow
def test_two_workers_train_the_seeds_one_process_trains(tmp_path: Path, data_root: Path) -> None:
    argv = ["compare", "--quick", "--no-progress", "--seeds", "2", "--rows", "mlp/pixels"]
    argv += ["--root", str(data_root)]
    assert main([*argv, "--out", str(tmp_path / "one")]) == 0
    assert main([*argv, "--out", str(tmp_path / "two"), "--jobs", "2"]) == 0
    one, two = (json.loads((tmp_path / d / "compare.json").read_text()) for d in ("one", "two"))
    (a,), (b,) = one["rows"], two["rows"]
    assert a["id"] == b["id"] == "mlp/pixels"
    # each worker has one thread, the single process two: the same seeds, the same data
    # order, sums in another order (float32), so the figures agree to a prediction or two
    for x, y in zip(a["accuracies"], b["accuracies"], strict=True):
        assert abs(x - y) <= 2 / 100  # quick: 100 test images
    seeds = sorted(p.parent.name for p in (tmp_path / "two").glob("runs/*/seed-*/result.json"))
    assert seeds == ["seed-0", "seed-1"]
    assert {
        json.loads(p.read_text())["threads"]
        for p in (tmp_path / "two").glob("runs/*/*/result.json")
    } == {1}
