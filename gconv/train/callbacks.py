"""Callbacks: early stopping, checkpoints and a CSV log, in the manner of Keras.

A callback sees the trainer at the start and end of ``fit`` and after every epoch, with
that epoch's logs. ``trainer.should_stop = True`` is the one way a callback ends
training. Callbacks with state (``state_dict``/``load_state_dict``) are saved in
checkpoints, so a resumed run continues with the same patience and best value.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any, Protocol

from torch import nn

from gconv._checks import check_folder
from gconv._io import save_atomic_csv
from gconv.errors import GconvValueError
from gconv.train import distributed
from gconv.train._monitor import Monitor
from gconv.train.checkpoint import save_atomic


class TrainerLike(Protocol):
    """What a callback may use of the trainer that calls it (so that this module does not
    import :mod:`gconv.train.trainer`, which imports it)."""

    should_stop: bool
    start_epoch: int
    history: Any  # gconv.train.history.History: per-epoch logs, restored on resume
    logged_metrics: frozenset[str]  # what each epoch of this fit will log
    fit_task: Any  # the fit's gconv.train.tasks.Task: it knows each metric's direction

    def checkpoint_state(self, model: nn.Module, epoch: int) -> dict[str, Any]: ...

    def evaluate(self, model: nn.Module, data: Any) -> dict[str, float]: ...


class Callback:
    """Base class: override the hooks you need."""

    def reset(self) -> None:
        """Called first thing in every ``fit``, before a resume restores the state: a
        callback reused across fits (one per seed or fold) starts each from scratch."""

    def on_fit_start(self, trainer: TrainerLike, model: nn.Module) -> None:
        """Called once before the first epoch (also when resuming)."""

    def on_epoch_end(
        self, trainer: TrainerLike, model: nn.Module, epoch: int, logs: dict[str, float]
    ) -> None:
        """Called after each epoch with its logs (``loss``, ``val_accuracy``, ...)."""

    def on_fit_end(self, trainer: TrainerLike, model: nn.Module) -> None:
        """Called once after the last epoch."""

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores what :meth:`state_dict` returned."""


class EarlyStopping(Callback):
    """Stops training when ``monitor`` has not improved for ``patience`` epochs.

    Args:
        monitor: a logged metric, e.g. ``"val_loss"`` or ``"val_accuracy"``.
        patience: epochs without improvement before stopping.
        mode: ``"min"``, ``"max"`` or ``"auto"``: the direction the fit's task gives the
            metric (``max`` for accuracies, F1 and mean IoU, ``min`` for losses).
        min_delta: the least change that counts as an improvement.
        restore_best_weights: load the best epoch's weights at the end of training.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 10,
        mode: str = "auto",
        min_delta: float = 0.0,
        restore_best_weights: bool = True,
    ) -> None:
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise GconvValueError(f"EarlyStopping: patience must be an int >= 0 (got {patience!r})")
        self._monitor = Monitor("EarlyStopping", monitor, mode, min_delta)
        self.monitor, self.patience = monitor, patience
        self.restore_best_weights = restore_best_weights
        self.reset()

    def reset(self) -> None:
        self._monitor.reset()
        self.wait = 0
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self.best_weights: dict[str, Any] | None = None

    def on_fit_start(self, trainer: TrainerLike, model: nn.Module) -> None:
        self._monitor.check(trainer)

    @property
    def mode(self) -> str | None:
        """``"min"`` or ``"max"`` (``None`` while ``"auto"`` awaits the fit's task)."""
        return self._monitor.mode

    @property
    def best(self) -> float | None:
        """The best value so far (``None`` before the first epoch)."""
        return self._monitor.best

    def on_epoch_end(
        self, trainer: TrainerLike, model: nn.Module, epoch: int, logs: dict[str, float]
    ) -> None:
        value = self._monitor.value(logs)
        if self._monitor.improved(value):
            self._monitor.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = copy.deepcopy(model.state_dict())
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            trainer.should_stop = True

    def on_fit_end(self, trainer: TrainerLike, model: nn.Module) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            model.load_state_dict(self.best_weights)

    def state_dict(self) -> dict[str, Any]:
        return {
            "best": self._monitor.best,
            "wait": self.wait,
            "best_epoch": self.best_epoch,
            "best_weights": self.best_weights,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._monitor.best, self.wait = state["best"], state["wait"]
        self.best_epoch, self.best_weights = state["best_epoch"], state["best_weights"]


class ModelCheckpoint(Callback):
    """Writes ``best.pt`` when ``monitor`` improves and ``last.pt`` after every epoch.

    Files are written atomically (a temporary file, then a rename), so a run killed while
    saving leaves the previous checkpoint intact. Each holds what ``fit(resume=...)``
    needs: model, optimizer, epoch, history, random state and callback state, and
    ``meta``: the model's ``build_config`` where gconv built it (its name, arguments,
    class names and normalization: what ``gconv predict`` rebuilds it from), with
    whatever the caller adds. ``mode`` is as :class:`EarlyStopping`'s: ``"auto"`` takes
    the direction of ``monitor`` from the fit's task.
    """

    def __init__(
        self,
        dirpath: str | os.PathLike[str],
        monitor: str = "val_loss",
        mode: str = "auto",
        save_last: bool = True,
        *,
        meta: dict[str, Any] | None = None,
    ) -> None:
        self.dirpath = Path(dirpath)
        check_folder("ModelCheckpoint", "dirpath", self.dirpath)
        self._monitor = Monitor("ModelCheckpoint", monitor, mode, 0.0)
        self.monitor, self.save_last, self.meta = monitor, save_last, meta or {}
        self.best_path = self.dirpath / "best.pt"
        self.last_path = self.dirpath / "last.pt"

    def reset(self) -> None:
        self._monitor.reset()

    def on_fit_start(self, trainer: TrainerLike, model: nn.Module) -> None:
        self._monitor.check(trainer)
        check_folder("ModelCheckpoint", "dirpath", self.dirpath)
        self.dirpath.mkdir(parents=True, exist_ok=True)

    def on_epoch_end(
        self, trainer: TrainerLike, model: nn.Module, epoch: int, logs: dict[str, float]
    ) -> None:
        value = self._monitor.value(logs)
        improved = self._monitor.improved(value)
        if improved:
            self._monitor.best = value
        if not distributed.is_main():  # under torchrun, rank 0 alone writes
            return
        # the state is taken after updating best, so that a resume sees it
        # what the model was built from (gconv's builders keep it), so that the file
        # alone rebuilds it for prediction; the caller's meta adds to it
        meta = {**getattr(model, "build_config", {}), **self.meta}
        state = {**trainer.checkpoint_state(model, epoch), "meta": meta}
        if improved:
            save_atomic(state, self.best_path)
        if self.save_last:
            save_atomic(state, self.last_path)

    def state_dict(self) -> dict[str, Any]:
        return {"best": self._monitor.best}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._monitor.best = state["best"]


class CSVLogger(Callback):
    """Writes each epoch's logs to a CSV file (``epoch`` first), the whole file
    atomically each epoch. A resumed run writes its rows again from the checkpoint's
    history, so the file lists every epoch once, whatever the kill left in it (a kill
    between a checkpoint and this file's write used to lose that epoch's row)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._rows: list[dict[str, Any]] = []

    def on_fit_start(self, trainer: TrainerLike, model: nn.Module) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._rows = []
        if trainer.start_epoch > 0:  # the epochs the checkpoint holds, from its history
            logs = trainer.history.history
            self._rows = [
                {"epoch": epoch, **{key: values[i] for key, values in logs.items()}}
                for i, epoch in enumerate(trainer.history.epochs)
            ]
            if distributed.is_main():
                save_atomic_csv(self._rows, self.path)
        elif self.path.exists() and distributed.is_main():
            self.path.unlink()

    def on_epoch_end(
        self, trainer: TrainerLike, model: nn.Module, epoch: int, logs: dict[str, float]
    ) -> None:
        if not distributed.is_main():
            return
        self._rows.append({"epoch": epoch, **logs})
        save_atomic_csv(self._rows, self.path)


class TestCurve(Callback):
    """Test accuracy (or ``metric``) and cumulative training seconds after every epoch,
    for reporting only (plots, Xu et al.'s best-epoch figure, the test figure at the
    best validation epoch), each labelled as such: nothing reads it to choose anything.

    It must come before ``ModelCheckpoint`` in the callbacks, so that a checkpoint holds
    this epoch's test figure and the random state after the test pass (whose loader
    draws from the global generator): a resumed run then repeats the uninterrupted one.

    Args:
        test: the test split, as ``Trainer.evaluate`` takes it.
        metric: what of ``evaluate``'s scores to record.
    """

    def __init__(self, test: Any, metric: str = "accuracy") -> None:
        self.test, self.metric = test, metric
        self.reset()

    def reset(self) -> None:
        self.accuracy: list[float] = []
        self.seconds: list[float] = []

    def on_epoch_end(
        self, trainer: TrainerLike, model: nn.Module, epoch: int, logs: dict[str, float]
    ) -> None:
        self.accuracy.append(trainer.evaluate(model, self.test)[self.metric])
        self.seconds.append((self.seconds[-1] if self.seconds else 0.0) + logs["seconds"])

    def state_dict(self) -> dict[str, Any]:
        return {"accuracy": self.accuracy, "seconds": self.seconds}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.accuracy, self.seconds = list(state["accuracy"]), list(state["seconds"])
