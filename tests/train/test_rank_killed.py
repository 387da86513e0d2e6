"""A rank of ``gconv train`` under torchrun killed with SIGKILL: the run ends within
seconds, no process is left, and the surviving rank says so in one line (gloo's own
report is a traceback that names no cause; torchrun's SIGTERM, which may come first,
would end it without a word)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest


def _rank_of(pid: int) -> str | None:
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return None
    for item in environ:
        if item.startswith(b"RANK="):
            return item[5:].decode()
    return None


def _workers(parent: int) -> list[int]:
    """The processes below ``parent`` (torchrun's agent and its ranks)."""
    children = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(parent)], capture_output=True, text=True
    ).stdout.split()
    found = [int(pid) for pid in children]
    return found + [pid for child in found for pid in _workers(child)]


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux's /proc")
def test_the_surviving_rank_says_one_line(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
        "--log-dir", str(logs), "--redirects", "3",
        "-m", "gconv", "train", "digits", "mlp", "--epochs", "10000",
        "--out", str(tmp_path / "run"),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("GCONV_DEBUG", None)
    launcher = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        victim = None
        while victim is None and time.monotonic() < deadline:  # rank 1, once it trains
            ranks = {_rank_of(pid): pid for pid in _workers(launcher.pid)}
            started = list(logs.rglob("0/stderr.log"))
            if "1" in ranks and started and "epoch 2/" in started[0].read_text():
                victim = ranks["1"]
            time.sleep(0.2)
        assert victim is not None, "rank 1 never started training"
        os.kill(victim, signal.SIGKILL)
        launcher.wait(timeout=60)
    finally:
        launcher.kill()
    assert launcher.returncode != 0
    survivor = next(logs.rglob("0/stderr.log")).read_text()
    assert "Traceback" not in survivor and "[rank0]:" not in survivor
    last = survivor.strip().splitlines()[-1]
    # its collective fails, or torchrun's SIGTERM comes first: either way one line
    assert last.startswith("gconv: rank 0 of 2: "), last
    assert "so another rank has most likely ended" in last, last
    assert not [pid for pid in _workers(launcher.pid) if _rank_of(pid) is not None]


@pytest.mark.skipif(not hasattr(signal, "SIGTERM"), reason="needs POSIX signals")
def test_a_rank_its_launcher_stops_says_why_in_one_line(tmp_path: Path) -> None:
    # the environment torchrun gives rank 0; SIGTERM while it trains, as torchrun sends
    # it to the survivors once another rank has ended
    # (a world of one, so that no other rank need be waited for)
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    env = {**os.environ, "RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0",
           "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}  # fmt: skip
    env.pop("GCONV_DEBUG", None)
    command = [sys.executable, "-m", "gconv", "train", "digits", "mlp", "--epochs", "10000",
               "--out", str(tmp_path / "run"), "--no-progress"]  # fmt: skip
    rank = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 120
        while not list(tmp_path.rglob("*.pt")) and time.monotonic() < deadline:
            time.sleep(0.1)  # until it has trained an epoch
        assert rank.poll() is None, "it ended before it was stopped"
        rank.send_signal(signal.SIGTERM)
        _, err = rank.communicate(timeout=60)
    finally:
        rank.kill()
    assert rank.returncode == 128 + signal.SIGTERM
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == (
        "gconv: rank 0 of 1: stopped by the launcher (SIGTERM), so another rank has most "
        "likely ended (see its own message)"
    )


@pytest.mark.skipif(not hasattr(signal, "SIGTERM"), reason="needs POSIX signals")
def test_a_sigterm_after_the_rank_has_ended_says_nothing_more(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # torchrun's SIGTERM may reach a rank that has already said its line and is in the
    # interpreter's shutdown: there it must end the process, not raise where nothing
    # catches it (a traceback from threading._shutdown, seen under load)
    from gconv.cli.main import main

    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "2")
    before = signal.getsignal(signal.SIGTERM)
    try:
        assert main(["train", "cora", "lenet5"]) == 2  # a model that does not fit
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    finally:
        signal.signal(signal.SIGTERM, before)
    assert capsys.readouterr().err.count("\n") == 1  # its one line, said before
