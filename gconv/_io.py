"""Writing files so that a crash never leaves half of one."""

from __future__ import annotations

import csv
import errno
import hashlib
import io
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import torch


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_stale_temps(path: Path) -> None:
    """Removes the temporary files a killed writer of ``path`` left (``.NAME.PID.*.tmp``
    of a process that no longer runs)."""
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        pid = tmp.name[len(path.name) + 2 :].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            tmp.unlink(missing_ok=True)


def _write_atomic(path: str | os.PathLike[str], write: Callable[[BinaryIO], object]) -> None:
    """Writes to a temporary file in the same folder, then renames it over ``path``:
    readers see the old file or the new one, never part of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(path)
    fd, tmp = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp"
    )
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        Path(tmp).unlink(missing_ok=True)
        if _disk_full(err, path.parent):
            free = shutil.disk_usage(path.parent).free / 2**20
            raise DiskFullError(
                f"cannot write {path}: no space left on the device "
                f"({free:.0f} MiB free in {path.parent}); free some and rerun"
            ) from err
        raise


class DiskFullError(OSError):
    """A write that failed for want of disk space (its temporary file removed)."""

    def __init__(self, message: str) -> None:
        super().__init__(errno.ENOSPC, message)

    def __str__(self) -> str:
        return str(self.strerror)


FULL_BELOW = 64 * 2**20  # a failed write with less free than this: the disk was full


def _disk_full(err: BaseException, folder: Path) -> bool:
    """``ENOSPC``, or an error from a serializer that hides it (``torch.save`` raises
    ``RuntimeError: [enforce fail ...] unexpected pos``) on a nearly full disk."""
    if isinstance(err, OSError) and err.errno == errno.ENOSPC:
        return True
    return isinstance(err, RuntimeError) and shutil.disk_usage(folder).free < FULL_BELOW


def save_atomic(obj: Any, path: str | os.PathLike[str]) -> None:
    """``torch.save`` to a temporary file in the same folder, then rename over ``path``.

    A crash mid-write leaves the old file (or none), never a truncated one.
    """
    _write_atomic(path, lambda f: torch.save(obj, f))


def save_atomic_text(text: str, path: str | os.PathLike[str]) -> None:
    """Writes ``text`` (UTF-8) with the same guarantee as :func:`save_atomic`."""
    _write_atomic(path, lambda f: f.write(text.encode()))


def save_atomic_csv(rows: list[dict[str, Any]], path: str | os.PathLike[str]) -> None:
    """``rows`` (one dict an epoch, the first row's keys as the header) as a CSV file,
    written atomically."""
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=list(rows[0]) if rows else [])
    writer.writeheader()
    writer.writerows(rows)
    save_atomic_text(text.getvalue(), path)


def copy_atomic(source: str | os.PathLike[str], path: str | os.PathLike[str]) -> None:
    """Copies ``source`` to ``path`` with the same guarantee as :func:`save_atomic`."""
    with open(source, "rb") as src:
        _write_atomic(path, lambda f: shutil.copyfileobj(src, f, 1 << 20))


def save_figure(fig: Any, path: str | os.PathLike[str], **kwargs: Any) -> None:
    """``fig.savefig`` (PNG unless ``format`` says) with the same guarantee."""
    kwargs.setdefault("format", Path(path).suffix.lstrip(".") or "png")
    _write_atomic(path, lambda f: fig.savefig(f, **kwargs))


CACHE_MAGIC = b"gconv-cache-sha256:"


def save_cache(obj: Any, path: str | os.PathLike[str]) -> None:
    """:func:`save_atomic` with a digest of the content: the file is a header line
    holding the SHA-256 of the ``torch.save`` payload that follows it, so that
    :func:`load_cache` can tell a damaged cache from a good one."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    payload = buffer.getbuffer()
    header = CACHE_MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n"

    def write(f: BinaryIO) -> None:
        f.write(header)
        f.write(payload)

    _write_atomic(path, write)


def load_cache(path: str | os.PathLike[str], owner: str, *, weights_only: bool = True) -> Any:
    """What :func:`save_cache` wrote to ``path``, or ``None`` when there is nothing to
    use: no file, a file without a digest (an older gconv's), or one whose content does
    not match its digest (damaged). The last two say so in one line on stderr, so the
    caller rebuilds the cache instead of training on wrong data."""
    path = Path(path)
    if not path.is_file():
        return None
    data = path.read_bytes()
    end = data.find(b"\n")
    if not data.startswith(CACHE_MAGIC) or end < 0:
        print(
            f"{owner}: cache {path} has no digest (an older gconv's); rebuilding it",
            file=sys.stderr,
        )
        return None
    digest = data[len(CACHE_MAGIC) : end].decode(errors="replace")
    payload = memoryview(data)[end + 1 :]
    if hashlib.sha256(payload).hexdigest() != digest:
        print(
            f"{owner}: cache {path} does not match its digest (damaged); rebuilding it",
            file=sys.stderr,
        )
        return None
    return torch.load(io.BytesIO(payload), weights_only=weights_only)


class RunFolderBusyError(OSError):
    """Another live process holds the run folder's lock."""


LOCK_NAME = ".lock"


def _holder(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


@contextmanager
def run_lock(folder: str | os.PathLike[str], owner: str) -> Iterator[None]:
    """Holds ``folder``'s lock (``.lock`` with this process's pid) while a run writes
    there: a second run on the same folder refuses in one line, and the lock of a
    process that died (killed, a power cut) is taken over."""
    folder = Path(folder)
    path = folder / LOCK_NAME
    folder.mkdir(parents=True, exist_ok=True)
    for _ in range(3):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            holder = _holder(path)
            if holder is not None and holder != os.getpid() and _alive(holder):
                raise RunFolderBusyError(
                    f"{owner}: the run folder {folder} is in use by process {holder} (its "
                    f"lock is {path}); wait for that run to end, or pass another --out"
                ) from None
            path.unlink(missing_ok=True)  # a dead process's lock: taken over
            continue
        with os.fdopen(fd, "w") as f:
            f.write(f"{os.getpid()}\n")
        break
    else:
        raise RunFolderBusyError(f"{owner}: could not take the lock {path}")
    try:
        yield
    finally:
        if _holder(path) == os.getpid():
            path.unlink(missing_ok=True)
