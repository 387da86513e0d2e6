"""One trainer for image, node and graph classification and for segmentation."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from gconv._checks import check_choice, check_positive_int
from gconv.data import LoadedDataset
from gconv.models import fits
from gconv.train import distributed
from gconv.train._validate import check_batch, check_labels, check_not_empty, num_classes_of
from gconv.train.callbacks import Callback
from gconv.train.checkpoint import (
    load_checkpoint,
    load_weights,
    random_state,
    seed_everything,
    set_random_state,
)
from gconv.train.infer import TASKS, get_task, infer_task
from gconv.train.tasks import NodeTask, Task, count

OptimizerFactory = Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer]
OPTIMIZERS = ("adam", "adamw", "sgd")
NONFINITE_EVERY = 50  # steps between looks at the loss's finiteness (each is a device sync)
SCHEDULERS = ("cosine",)


@dataclass
class History:
    """Per-epoch logs, as Keras' ``History``: ``history["val_accuracy"][-1]``."""

    history: dict[str, list[float]] = field(default_factory=dict)
    epochs: list[int] = field(default_factory=list)

    def append(self, epoch: int, logs: dict[str, float]) -> None:
        self.epochs.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"`` is CUDA, else MPS, else CPU; anything else is passed to ``torch.device``."""
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(
            f"Trainer: device must be 'auto' or a torch device (got {device!r})"
        ) from err


class Trainer:
    """Trains and evaluates a classifier on images, nodes or graphs.

    The task is inferred from the data (see :mod:`gconv.train.tasks`) or forced with
    ``task``; it owns how batches are made and moved, what a step computes and how it is
    scored. ``fit`` checks with :func:`gconv.models.fits` that the model takes what the
    data gives before it trains. Metrics are weighted by the number of examples (or
    nodes) of each batch.

    Args:
        max_epochs: epochs to train.
        optimizer: ``"adam"``, ``"adamw"``, ``"sgd"`` (momentum 0.9), or a callable that
            takes the parameters and returns an optimizer.
        lr: learning rate.
        weight_decay: L2 penalty (decoupled for ``adamw``).
        scheduler: ``None`` (constant learning rate) or ``"cosine"``: decay from ``lr``
            to 0 along a half cosine over all steps of ``max_epochs``.
        batch_size: batch size when a dataset rather than a loader is given.
        device: ``"auto"`` (CUDA, MPS, CPU) or a device.
        callbacks: e.g. ``EarlyStopping``, ``ModelCheckpoint``, ``CSVLogger``.
        seed: seeds Python, NumPy and torch at the start of ``fit``; a CPU run repeats.
        progress: a tqdm bar per epoch (only when output is a terminal).
        amp: mixed precision: float16 autocast with a gradient scaler on CUDA, bfloat16
            autocast on the CPU (no scaler: bfloat16 has float32's range).
        grad_clip: clip the gradient norm to this value.
        task: ``"image"``, ``"node"``, ``"graph"`` or a :class:`~gconv.train.tasks.Task`
            to override the inference.

    Example:
        >>> trainer = Trainer(max_epochs=200, lr=0.01, weight_decay=5e-4, seed=0)
        >>> history = trainer.fit(model, cora.train)
        >>> trainer.evaluate(model, cora.test)["accuracy"]
    """

    def __init__(
        self,
        *,
        max_epochs: int,
        optimizer: str | OptimizerFactory = "adam",
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        scheduler: str | None = None,
        batch_size: int = 64,
        device: str | torch.device = "auto",
        callbacks: Sequence[Callback] = (),
        seed: int | None = None,
        progress: bool = True,
        amp: bool = False,
        grad_clip: float | None = None,
        task: str | Task | None = None,
    ) -> None:
        check_positive_int("Trainer", "max_epochs", max_epochs)
        check_positive_int("Trainer", "batch_size", batch_size)
        if isinstance(optimizer, str):
            check_choice("Trainer", "optimizer", optimizer, OPTIMIZERS)
        if not lr > 0:
            raise ValueError(f"Trainer: lr must be > 0 (got {lr!r})")
        if isinstance(task, str):
            task = get_task(task)
        elif task is not None and not isinstance(task, Task):
            raise TypeError(
                f"Trainer: task must be one of {', '.join(TASKS)} or a Task (got {task!r})"
            )
        if scheduler is not None:
            check_choice("Trainer", "scheduler", scheduler, SCHEDULERS)
        for callback in callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(f"Trainer: callbacks must be Callback objects (got {callback!r})")
        self.max_epochs, self.optimizer, self.lr = max_epochs, optimizer, lr
        self.weight_decay, self.scheduler, self.batch_size = weight_decay, scheduler, batch_size
        self.device = distributed.setup(resolve_device(device))  # a rank's under torchrun
        self.callbacks = list(callbacks)
        self.seed, self.progress, self.grad_clip, self.task = seed, progress, grad_clip, task
        self.amp = bool(amp) and self.device.type in ("cuda", "cpu")
        self.should_stop = False
        self.start_epoch = 0
        self.logged_metrics: frozenset[str] = frozenset()
        self._train_model: nn.Module | None = None
        self._first_batch = False
        self.history = History()
        self._optimizer: torch.optim.Optimizer | None = None
        self._schedule: torch.optim.lr_scheduler.LRScheduler | None = None
        self._scaler = torch.amp.GradScaler("cuda", enabled=self.amp and self.device.type == "cuda")

    def _make_optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
        params = [p for p in model.parameters() if p.requires_grad]
        if callable(self.optimizer):
            return self.optimizer(params)
        if self.optimizer == "sgd":
            return torch.optim.SGD(params, self.lr, momentum=0.9, weight_decay=self.weight_decay)
        cls = torch.optim.AdamW if self.optimizer == "adamw" else torch.optim.Adam
        return cls(params, self.lr, weight_decay=self.weight_decay)

    def _task(self, data: Any) -> Task:
        return self.task or infer_task(data)

    def _sampler(self, task: Task, data: Any, epoch: int) -> Any:
        """Under torchrun, this rank's shard of a dataset, reshuffled each epoch."""
        dataset = task.shardable(data) if distributed.active() else None
        if dataset is None:
            return None
        sampler = distributed.shard_sampler(
            dataset, shuffle=True, seed=self.seed if self.seed is not None else 0
        )
        sampler.set_epoch(epoch)
        return sampler

    def _make_schedule(self, task: Task, train: Any) -> torch.optim.lr_scheduler.LRScheduler | None:
        if self.scheduler is None:
            return None
        assert self._optimizer is not None
        per_epoch = count(
            task.batches(
                train,
                batch_size=self.batch_size,
                shuffle=False,
                sampler=self._sampler(task, train, 0),
            )
        )
        total = self.max_epochs * (per_epoch or 1)
        return torch.optim.lr_scheduler.CosineAnnealingLR(self._optimizer, T_max=total)

    def fit(
        self,
        model: nn.Module,
        train: Any,
        val: Any = None,
        *,
        resume: str | os.PathLike[str] | None = None,
    ) -> History:
        """Trains ``model``; validates on ``val`` after every epoch.

        For a node task, ``val=None`` validates on the ``val_mask`` of the training graph.
        ``resume`` continues from a checkpoint written by ``ModelCheckpoint``: model,
        optimizer, epoch, history, random state and callback state are restored, so the
        run ends as if it had never been interrupted.
        """
        if isinstance(train, LoadedDataset):  # fit(model, load_dataset(...)): its splits
            train, default_val, _ = train.splits(self.batch_size)
            val = default_val if val is None else val
        check_not_empty("train", train)
        if val is not None:
            check_not_empty("val", val)
        task = self._task(train)
        verdict = fits(model, task.input_kind)
        if not verdict:
            raise ValueError(f"Trainer.fit: {verdict.reason}")
        if val is None and isinstance(task, NodeTask) and hasattr(train, "val_mask"):
            val = train
        classes, ignore = num_classes_of(model), task.ignore_index
        check_labels("train", task.labels(train, "train"), classes, ignore)
        if val is not None:
            check_labels("val", task.labels(val, "val"), classes, ignore)
        # what every epoch logs, so that callbacks refuse a monitor before any training
        val_names = [f"val_{name}" for name in task.metric_names] if val is not None else []
        self.logged_metrics = frozenset(("loss", "accuracy", "seconds", *val_names))
        for callback in self.callbacks:
            callback.reset()  # a callback reused across fits (seeds, folds) starts clean
        if self.seed is not None:
            seed_everything(self.seed)
        model.to(self.device)
        if distributed.active() and isinstance(task, NodeTask):
            task.shard = (distributed.rank(), distributed.world_size())
        self._train_model = model
        if distributed.active() and distributed.world_size() > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self._train_model = nn.parallel.DistributedDataParallel(model, device_ids=ids)
        self._optimizer = self._make_optimizer(model)
        self._schedule = self._make_schedule(task, train)
        self.history, self.start_epoch, self.should_stop = History(), 0, False
        if resume is not None:
            self._restore(model, resume)
        for callback in self.callbacks:
            callback.on_fit_start(self, model)
        train = task.prepare(train, self.device)
        val = task.prepare(val, self.device) if val is not None else None
        self._first_batch = True
        for epoch in range(self.start_epoch, self.max_epochs if not self.should_stop else 0):
            start = time.perf_counter()
            logs = self._train_epoch(model, task, train, epoch)
            if val is not None:
                scores = self._evaluate(model, task, val, "val")
                logs.update({f"val_{name}": scores[name] for name in task.metric_names})
            logs["seconds"] = time.perf_counter() - start
            self.history.append(epoch, logs)
            for callback in self.callbacks:
                callback.on_epoch_end(self, model, epoch, logs)
            if self.should_stop:
                break
        for callback in self.callbacks:
            callback.on_fit_end(self, model)
        return self.history

    def _train_epoch(self, model: nn.Module, task: Task, data: Any, epoch: int) -> dict[str, float]:
        model.train()
        optimizer = self._optimizer
        assert optimizer is not None
        loader = task.batches(
            data,
            batch_size=self.batch_size,
            shuffle=True,
            sampler=self._sampler(task, data, epoch),
        )
        bar = tqdm(
            loader,
            desc=f"epoch {epoch + 1}/{self.max_epochs}",
            total=count(loader),
            leave=False,
            disable=not self.progress or not sys.stderr.isatty() or not distributed.is_main(),
        )
        train_model = self._train_model if self._train_model is not None else model
        loss_sum = torch.zeros((), device=self.device)
        correct = torch.zeros((), device=self.device, dtype=torch.long)
        seen = torch.zeros((), device=self.device, dtype=torch.long)
        # the first step whose loss was not finite, kept on the device: looked at every
        # NONFINITE_EVERY steps, not every step, so that CUDA never waits on it
        bad_step = torch.full((), -1, device=self.device, dtype=torch.long)
        step = -1
        for step, batch in enumerate(bar):
            batch = task.to_device(batch, self.device)
            with self._autocast():
                logits, target = task.forward(train_model, batch, "train")
                if self._first_batch:
                    check_batch(logits, target, task.ignore_index)
                    self._first_batch = False
                loss = task.loss(logits, target)
            first_bad = (bad_step < 0) & ~torch.isfinite(loss.detach())
            bad_step = torch.where(first_bad, torch.full_like(bad_step, step), bad_step)
            if step % NONFINITE_EVERY == 0:
                self._check_finite(bad_step, epoch)
            optimizer.zero_grad(set_to_none=True)
            self._scaler.scale(loss).backward()
            if self.grad_clip is not None:
                self._scaler.unscale_(optimizer)
                nn.utils.clip_grad_norm_(model.parameters(), self.grad_clip)
            self._scaler.step(optimizer)
            self._scaler.update()
            if self._schedule is not None:
                self._schedule.step()
            hits, n = task.tally(logits.detach(), target)  # pixels that count, for masks
            loss_sum += loss.detach() * n
            correct += hits
            seen += n
        self._check_finite(bad_step, epoch)
        # every rank reports the same figures: sums over all ranks
        totals = torch.stack([loss_sum, correct.to(loss_sum.dtype), seen.to(loss_sum.dtype)])
        loss_total, correct_total, seen_total = distributed.all_reduce_sum(totals).tolist()
        if seen_total == 0:
            raise ValueError(f"Trainer: the training data of epoch {epoch + 1} had no examples")
        return {"loss": loss_total / seen_total, "accuracy": correct_total / seen_total}

    def _check_finite(self, bad_step: Tensor, epoch: int) -> None:
        step = int(bad_step)
        if step >= 0:
            raise FloatingPointError(
                f"Trainer: the loss was not finite at epoch {epoch + 1}, step {step + 1}; "
                "lower the learning rate or set grad_clip"
            )

    def _autocast(self) -> Any:
        if not self.amp:
            return nullcontext()
        if self.device.type == "cpu":
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return torch.autocast(self.device.type)

    @torch.no_grad()
    def _outputs(
        self, model: nn.Module, task: Task, data: Any, phase: str | None
    ) -> Iterator[tuple[Tensor, Tensor]]:
        """Logits and targets of a whole split, batch by batch: the one path of
        validation, ``evaluate`` and ``predict``."""
        model.eval()
        data = task.prepare(data, self.device)
        empty = True
        for batch in task.batches(data, batch_size=self.batch_size, shuffle=False):
            with self._autocast():
                out, target = task.forward(model, task.to_device(batch, self.device), phase)
            empty = False
            yield out.float(), target
        if empty:
            raise ValueError(f"Trainer: the {phase or 'prediction'} data has no batches")

    def _evaluate(
        self, model: nn.Module, task: Task, data: Any, phase: str, *, f1: bool = False
    ) -> dict[str, float]:
        scores = task.scores(f1=f1)
        for logits, target in self._outputs(model, task, data, phase):
            scores.update(logits, target)
        if scores.seen == 0:
            raise ValueError(f"Trainer: the {phase} data has no examples")
        return scores.compute()

    def evaluate(self, model: nn.Module, data: Any) -> dict[str, float]:
        """``loss``, ``accuracy`` and ``macro_f1`` on ``data`` (a node task scores
        ``test_mask``; a :func:`gconv.load_dataset` result, its test split); for
        segmentation, pixel accuracy, ``mean_iou`` and ``iou_<class>`` too."""
        if isinstance(data, LoadedDataset):
            data = data.splits(self.batch_size)[2]
        task = self._task(data)
        labels = task.labels(data, "test")  # before any batch runs, not a raw IndexError
        check_labels("test", labels, num_classes_of(model), task.ignore_index, "Trainer.evaluate")
        model.to(self.device)
        return self._evaluate(model, task, data, "test", f1=True)

    def predict(self, model: nn.Module, data: Any) -> Tensor:
        """Logits for every example (every node of a node task), on the CPU."""
        model.to(self.device)
        outputs = self._outputs(model, self._task(data), data, None)
        return torch.cat([logits.cpu() for logits, _ in outputs])

    def checkpoint_state(self, model: nn.Module, epoch: int) -> dict[str, Any]:
        """Everything ``fit(resume=...)`` needs to continue after ``epoch``."""
        assert self._optimizer is not None
        return {
            "model": model.state_dict(),
            "optimizer": self._optimizer.state_dict(),
            "scaler": self._scaler.state_dict(),
            "schedule": self._schedule.state_dict() if self._schedule is not None else None,
            "epoch": epoch,
            "history": {"history": self.history.history, "epochs": self.history.epochs},
            "random_state": random_state(),
            "callbacks": [c.state_dict() for c in self.callbacks],
            "stopped": self.should_stop,  # an early stop is where a resumed run ends too
        }

    def _restore(self, model: nn.Module, path: str | os.PathLike[str]) -> None:
        state = load_checkpoint(path, map_location=self.device)
        for key in ("optimizer", "scaler", "epoch", "history", "random_state", "callbacks"):
            if key not in state:
                raise ValueError(
                    f"Trainer.fit: resume={str(path)!r} holds weights only (no {key!r}); "
                    "resume takes a last.pt written by ModelCheckpoint"
                )
        load_weights(model, state["model"], f"Trainer.fit: resume={str(path)!r}")
        assert self._optimizer is not None
        try:
            self._optimizer.load_state_dict(state["optimizer"])
        except (ValueError, KeyError, RuntimeError) as err:
            raise ValueError(
                f"Trainer.fit: resume={str(path)!r} has optimizer state that does not fit "
                f"this trainer's optimizer ({err})"
            ) from None
        self._scaler.load_state_dict(state["scaler"])
        if self._schedule is not None and state.get("schedule") is not None:
            self._schedule.load_state_dict(state["schedule"])
        self.start_epoch = state["epoch"] + 1
        self.history = History(state["history"]["history"], state["history"]["epochs"])
        saved = state["callbacks"]
        if len(saved) != len(self.callbacks):
            raise ValueError(
                f"Trainer: the checkpoint has state for {len(saved)} callbacks, this trainer "
                f"has {len(self.callbacks)}; resume with the same callbacks"
            )
        for callback, callback_state in zip(self.callbacks, saved, strict=True):
            callback.load_state_dict(callback_state)
        set_random_state(state["random_state"])
        self.should_stop = bool(state.get("stopped", False))
