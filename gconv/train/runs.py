"""Resumable runs over seeds or folds: one module for ``gconv train --seeds/--folds`` and
``gconv compare``.

Each run (a seed, or a fold) trains in its own folder, ``seed-3`` or ``fold-3``, under
the settings it was given, identified by :func:`settings_key`. ``last.pt`` (written by
:class:`~gconv.train.ModelCheckpoint` with the key in its ``meta``) is where a killed run
resumes, exactly; ``result.json`` (tagged with the key) is a finished run, read instead
of trained again. A file of other settings is never resumed or averaged. Over the runs,
:func:`mean_and_spread` gives each figure's mean and population standard deviation.
"""

from __future__ import annotations

import hashlib
import json
import statistics
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from gconv._io import save_atomic_text
from gconv.train.checkpoint import load_checkpoint

KEY = "settings_key"  # the field of meta and of result.json that names the settings
LEGACY_KEY = "protocol_key"  # what the comparison's seeds before this module carry


def run_folder(out: str | Path, unit: str, index: int) -> Path:
    """The folder of run ``index`` (``unit`` is ``"seed"`` or ``"fold"``) under ``out``."""
    return Path(out) / f"{unit}-{index}"


def settings_key(settings: Mapping[str, Any]) -> str:
    """A short digest of everything a run's result depends on (JSON-able values)."""
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def _key_of(record: Mapping[str, Any]) -> Any:
    return record.get(KEY, record.get(LEGACY_KEY))


def saved_state(directory: Path, key: str) -> dict[str, Any] | None:
    """The run's ``last.pt`` if it was saved under the settings ``key``, else ``None``."""
    last = directory / "last.pt"
    if not last.is_file():
        return None
    state = load_checkpoint(last)
    return state if _key_of(state.get("meta") or {}) == key else None


def saved_meta(directory: Path) -> dict[str, Any] | None:
    """The ``meta`` of the run's ``last.pt`` whatever its settings (to say how they
    differ), or ``None`` when there is none."""
    last = directory / "last.pt"
    return (load_checkpoint(last).get("meta") or {}) if last.is_file() else None


def differences(
    saved: Mapping[str, Any], wanted: Mapping[str, Any], keys: Sequence[str]
) -> list[str]:
    """How the ``keys`` of a saved run's ``meta`` differ from ``wanted``: one entry
    each, ``"lr 0.01 (the checkpoint's: 0.001)"``, a level down into dicts (settings)."""
    found: list[str] = []
    for key in keys:
        mine, theirs = wanted.get(key), saved.get(key)
        if isinstance(mine, Mapping):
            theirs = theirs if isinstance(theirs, Mapping) else {}
            found += [
                f"{k} {v!r} (the checkpoint's: {theirs.get(k)!r})"
                for k, v in mine.items()
                if theirs.get(k) != v
            ]
        elif mine != theirs:
            found.append(f"{key} {mine!r} (the checkpoint's: {theirs!r})")
    return found


def finished_result(
    directory: Path, key: str, complete: Callable[[dict[str, Any]], bool] = lambda r: True
) -> dict[str, Any] | None:
    """The run's ``result.json`` if it finished under ``key`` (and is ``complete``)."""
    done = directory / "result.json"
    if not done.is_file():
        return None
    result: dict[str, Any] = json.loads(done.read_text())
    return result if _key_of(result) == key and complete(result) else None


def save_result(directory: Path, result: dict[str, Any]) -> None:
    """A finished run's ``result.json``, written atomically."""
    directory.mkdir(parents=True, exist_ok=True)
    save_atomic_text(json.dumps(result, indent=2, default=str) + "\n", directory / "result.json")


def mean_and_spread(runs: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> dict[str, float]:
    """``{key: mean, key_std: population standard deviation}`` over the runs, per key."""
    out: dict[str, float] = {}
    for key in keys:
        values = [float(r[key]) for r in runs]
        out.update({key: statistics.fmean(values), f"{key}_std": statistics.pstdev(values)})
    return out
