"""Every file gconv writes goes through the atomic writer: a writer killed mid-write
leaves the previous file whole, its temporary file is removed by the next write, and a
run's CSV log lists each epoch once across a kill and a resume."""

import csv
import errno
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import gconv._io
from gconv._io import save_atomic_text
from gconv.cli.main import main
from gconv.train import CSVLogger, ModelCheckpoint, Trainer
from gconv.train.callbacks import Callback

SLOW_WRITER = """
import sys, time
from gconv._io import _write_atomic
def write(f):
    f.write(b"new" * 1000)
    f.flush()
    print("writing", flush=True)
    time.sleep(60)
_write_atomic(sys.argv[1], write)
"""


def test_a_writer_killed_mid_write_leaves_the_old_file_and_its_temp_is_cleaned(
    tmp_path: Path,
) -> None:
    target = tmp_path / "metrics.json"
    target.write_text("old")
    writer = subprocess.Popen(
        [sys.executable, "-c", SLOW_WRITER, str(target)], stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout is not None and writer.stdout.readline().strip() == "writing"
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    assert target.read_text() == "old"  # never part of the new one
    (stale,) = tmp_path.glob(".metrics.json.*.tmp")
    assert str(writer.pid) in stale.name
    save_atomic_text("newer", target)  # the next write removes the dead writer's temp
    assert target.read_text() == "newer"
    assert list(tmp_path.glob(".*.tmp")) == []


def test_a_live_writers_temp_is_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    mine = tmp_path / f".a.txt.{os.getpid()}.x.tmp"
    mine.write_text("in progress")
    save_atomic_text("done", target)
    assert mine.exists()


def test_gconv_train_writes_its_outputs_atomically(tmp_path: Path, monkeypatch) -> None:
    written: list[str] = []
    real = gconv._io._write_atomic

    def recording(path, write):
        written.append(Path(path).name)
        real(path, write)

    monkeypatch.setattr(gconv._io, "_write_atomic", recording)
    out = tmp_path / "run"
    assert main(["train", "digits", "mlp", "--quick", "--no-progress", "--out", str(out)]) == 0
    on_disk = {p.name for p in out.rglob("*") if p.is_file()}
    assert on_disk <= set(written)  # nothing written around the atomic writer
    assert {"best.pt", "metrics.json", "history.csv", "curves.png"} <= on_disk


class _Kill(Callback):
    def __init__(self, epoch: int | None) -> None:
        self.epoch = epoch

    def on_epoch_end(self, trainer, model, epoch, logs) -> None:
        if epoch == self.epoch:
            raise KeyboardInterrupt  # after the log row, before the checkpoint


def test_the_csv_log_lists_each_epoch_once_across_a_kill_and_a_resume(
    digits, tmp_path: Path
) -> None:
    def fit(kill: int | None, resume: Path | None = None) -> None:
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10))
        callbacks = [
            CSVLogger(tmp_path / "log.csv"),
            _Kill(kill),
            ModelCheckpoint(tmp_path, "val_loss"),
        ]
        trainer = Trainer(max_epochs=4, seed=0, progress=False, callbacks=callbacks)
        trainer.fit(model, digits.train, digits.val, resume=resume)

    with pytest.raises(KeyboardInterrupt):
        fit(kill=1)  # the log has epochs 0 and 1, the checkpoint epoch 0
    with (tmp_path / "log.csv").open() as f:
        assert [r["epoch"] for r in csv.DictReader(f)] == ["0", "1"]
    fit(kill=None, resume=tmp_path / "last.pt")
    with (tmp_path / "log.csv").open() as f:
        assert [r["epoch"] for r in csv.DictReader(f)] == ["0", "1", "2", "3"]


class _Usage:
    free = 5 * 2**20


@pytest.mark.parametrize("fault", ["enospc", "torch"])
def test_a_full_disk_is_one_line_exit_2_and_no_temp_file(
    tmp_path: Path, monkeypatch, capsys, fault: str
) -> None:
    real_save = torch.save

    def full(obj, f, *args, **kwargs):
        f.write(b"half a checkpoint")
        if fault == "enospc":
            raise OSError(errno.ENOSPC, "No space left on device")
        # what torch.save raises on a full disk, which hides the ENOSPC
        monkeypatch.setattr(gconv._io.shutil, "disk_usage", lambda _: _Usage())
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 64")

    out = tmp_path / "run"
    monkeypatch.setattr(gconv._io.torch, "save", full)
    assert main(["train", "digits", "mlp", "--quick", "--no-progress", "--out", str(out)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "no space left on the device" in lines[0]
    assert ("MiB free in" in lines[0] and "last.pt" in lines[0]) or "best.pt" in lines[0]
    assert list(out.rglob("*.tmp")) == []
    monkeypatch.setattr(gconv._io.torch, "save", real_save)
