"""The best value of a logged metric, as early stopping and checkpoints track it."""

from __future__ import annotations

from typing import Any

from gconv._checks import check_choice
from gconv.errors import GconvValueError
from gconv.train.tasks import Task


class Monitor:
    """Tracks the best value of a logged metric. ``mode="auto"`` takes the direction
    from the fit's task (``val_mean_iou`` rises, ``val_loss`` falls); until a fit has
    started, the metrics every task logs are known."""

    def __init__(self, owner: str, monitor: str, mode: str, min_delta: float) -> None:
        check_choice(owner, "mode", mode, ("auto", "min", "max"))
        self.owner, self.monitor, self.min_delta = owner, monitor, abs(min_delta)
        self.auto = mode == "auto"
        self.mode: str | None = Task.direction(monitor) if self.auto else mode
        self.reset()

    def reset(self) -> None:
        self.best: float | None = None  # no epoch seen yet

    def check(self, trainer: Any) -> None:
        """Before any training: the monitored metric must be one this fit logs, and with
        ``mode="auto"`` its direction is the fit's task's."""
        logged = trainer.logged_metrics
        if logged and self.monitor not in logged:
            hint = " (validation metrics need val data)" if self.monitor.startswith("val_") else ""
            raise GconvValueError(
                f"{self.owner}: monitor {self.monitor!r} is not logged by this fit; logged are "
                f"{', '.join(sorted(logged))}{hint}"
            )
        task = getattr(trainer, "fit_task", None)
        if self.auto and task is not None:
            self.mode = task.direction(self.monitor) or self.mode

    def value(self, logs: dict[str, float]) -> float:
        if self.monitor not in logs:
            raise GconvValueError(
                f"{self.owner}: monitor {self.monitor!r} is not logged; logged are "
                f"{', '.join(sorted(logs))} (validation metrics need val data)"
            )
        if self.mode is None:
            raise GconvValueError(
                f"{self.owner}: mode 'auto' cannot tell whether {self.monitor!r} improves as it "
                "rises or as it falls; give mode='max' or mode='min'"
            )
        return float(logs[self.monitor])

    def improved(self, value: float) -> bool:
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta
