"""Atomic checkpoint files and the random state that makes a resumed run repeatable."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from gconv._io import save_atomic
from gconv.errors import GconvFileNotFoundError, GconvValueError
from gconv.train.history import History

__all__ = [
    "load_checkpoint",
    "load_weights",
    "random_state",
    "save_atomic",
    "seed_everything",
    "set_random_state",
]


def load_checkpoint(path: str | os.PathLike[str], map_location: Any = "cpu") -> dict[str, Any]:
    """Loads a checkpoint written by :class:`gconv.train.ModelCheckpoint`."""
    path = Path(path)
    if not path.is_file():
        what = "a folder" if path.is_dir() else "nothing"
        raise GconvFileNotFoundError(
            f"load_checkpoint: no checkpoint file at {path} (found {what})"
        )
    try:
        state = torch.load(path, map_location=map_location, weights_only=False)
    except Exception as err:  # pickle, zip and torch all raise their own kinds
        raise GconvValueError(
            f"load_checkpoint: {path} is not a readable checkpoint, corrupt or truncated "
            f"({type(err).__name__}: {err})"
        ) from None
    if not isinstance(state, dict) or "model" not in state:
        raise GconvValueError(
            f"load_checkpoint: {path} is not a gconv checkpoint (no 'model' entry)"
        )
    return state


def load_weights(model: nn.Module, weights: dict[str, Any], owner: str) -> None:
    """``model.load_state_dict(weights)``, or a ``ValueError`` that says how the two
    differ (the checkpoint of another model, or of another size)."""
    own = model.state_dict()
    missing = [k for k in own if k not in weights]
    unexpected = [k for k in weights if k not in own]
    resized = [
        f"{k} {tuple(weights[k].shape)} vs {tuple(v.shape)}"
        for k, v in own.items()
        if k in weights and hasattr(weights[k], "shape") and weights[k].shape != v.shape
    ]
    if missing or unexpected or resized:
        parts = [
            f"{label} {', '.join(items[:3])}{' ...' if len(items) > 3 else ''}"
            for label, items in (
                ("missing", missing),
                ("unexpected", unexpected),
                ("other shapes", resized),
            )
            if items
        ]
        raise GconvValueError(
            f"{owner}: the checkpoint holds the weights of another model "
            f"({type(model).__name__} has {'; '.join(parts)})"
        )
    model.load_state_dict(weights)


def random_state() -> dict[str, Any]:
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_random_state(state: dict[str, Any]) -> None:
    """Puts back :func:`random_state`'s states, from a checkpoint read onto any device."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"].cpu())
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def trainer_state(trainer: Any, model: nn.Module, epoch: int) -> dict[str, Any]:
    """What ``fit(resume=...)`` needs to continue a :class:`~gconv.train.Trainer` after
    ``epoch``: weights, optimizer, scaler, schedule, history, random and callback state."""
    schedule = trainer._schedule
    return {
        "model": model.state_dict(),
        "optimizer": trainer._optimizer.state_dict(),
        "scaler": trainer._scaler.state_dict(),
        "schedule": schedule.state_dict() if schedule is not None else None,
        "epoch": epoch,
        "history": {"history": trainer.history.history, "epochs": trainer.history.epochs},
        "random_state": random_state(),
        "callbacks": [c.state_dict() for c in trainer.callbacks],
        "stopped": trainer.should_stop,  # an early stop is where a resumed run ends too
    }


def restore_trainer(trainer: Any, model: nn.Module, path: str | os.PathLike[str]) -> None:
    """Puts back what :func:`trainer_state` saved, into a trainer whose optimizer and
    schedule ``fit`` has just made."""
    # read onto the CPU: the random states must stay CPU byte tensors (torch refuses
    # them on a GPU), and load_state_dict puts weights and optimizer state on the device
    state = load_checkpoint(path)
    owner = f"Trainer.fit: resume={str(path)!r}"
    for key in ("optimizer", "scaler", "epoch", "history", "random_state", "callbacks"):
        if key not in state:
            raise GconvValueError(
                f"{owner} holds weights only (no {key!r}); resume takes a last.pt written "
                "by ModelCheckpoint"
            )
    load_weights(model, state["model"], owner)
    try:
        trainer._optimizer.load_state_dict(state["optimizer"])
    except (ValueError, KeyError, RuntimeError) as err:
        raise GconvValueError(
            f"{owner} has optimizer state that does not fit this trainer's optimizer ({err})"
        ) from None
    trainer._scaler.load_state_dict(state["scaler"])
    if trainer._schedule is not None and state.get("schedule") is not None:
        trainer._schedule.load_state_dict(state["schedule"])
    trainer.start_epoch = state["epoch"] + 1
    trainer.history = History(state["history"]["history"], state["history"]["epochs"])
    saved = state["callbacks"]
    if len(saved) != len(trainer.callbacks):
        raise GconvValueError(
            f"Trainer: the checkpoint has state for {len(saved)} callbacks, this trainer "
            f"has {len(trainer.callbacks)}; resume with the same callbacks"
        )
    for callback, callback_state in zip(trainer.callbacks, saved, strict=True):
        callback.load_state_dict(callback_state)
    set_random_state(state["random_state"])
    trainer.should_stop = bool(state.get("stopped", False))
