"""One trainer for image, node and graph classification and for segmentation."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator, Sequence
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import TensorDataset

from gconv.data import LoadedDataset
from gconv.errors import GconvTypeError, GconvValueError
from gconv.train import _progress, _setup, _validate, distributed
from gconv.train._divergence import Watch, divergence, nonfinite_weights
from gconv.train._setup import OptimizerFactory
from gconv.train.callbacks import Callback
from gconv.train.checkpoint import restore_trainer, seed_everything, trainer_state
from gconv.train.history import History
from gconv.train.infer import TASKS, get_task, infer_task
from gconv.train.tasks import Task, count

NONFINITE_EVERY = 50  # steps between looks at the loss's finiteness (each is a device sync)


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
        scheduler: ``None`` (constant) or ``"cosine"`` (a half cosine from ``lr`` to 0).
        batch_size: batch size when a dataset rather than a loader is given.
        device: ``"auto"`` (CUDA, MPS, CPU) or a device.
        callbacks: e.g. ``EarlyStopping``, ``ModelCheckpoint``, ``CSVLogger``.
        seed: seeds Python, NumPy and torch at the start of ``fit``; a CPU run repeats.
        progress: a tqdm bar per epoch (only when output is a terminal).
        amp: mixed precision: float16 autocast with a gradient scaler on CUDA, bfloat16
            autocast on the CPU (no scaler; a warning where its bfloat16 is emulated).
        grad_clip: clip the gradient norm to this value.
        task: ``"image"``, ``"node"``, ``"graph"`` or a ``Task``, to override the inference.

    Example:
        >>> import gconv
        >>> cora = gconv.data.load_dataset("cora")
        >>> model = gconv.models.build_model("gcn", cora)
        >>> trainer = Trainer(max_epochs=200, lr=0.01, weight_decay=5e-4, seed=0, progress=False)
        >>> history = trainer.fit(model, cora.train)
        >>> trainer.evaluate(model, cora.test)["accuracy"] > 0.75  # Kipf & Welling: 0.815
        True
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
        _setup.check_settings(
            max_epochs=max_epochs,
            batch_size=batch_size,
            optimizer=optimizer,
            lr=lr,
            weight_decay=weight_decay,
            scheduler=scheduler,
            grad_clip=grad_clip,
            callbacks=callbacks,
            amp=amp,
            progress=progress,
            seed=seed,
        )
        if isinstance(task, str):
            task = get_task(task)
        elif task is not None and not isinstance(task, Task):
            raise GconvTypeError(
                f"Trainer: task must be one of {', '.join(TASKS)} or a Task (got {task!r})"
            )
        self.max_epochs, self.optimizer, self.lr = max_epochs, optimizer, lr
        self.weight_decay, self.scheduler, self.batch_size = weight_decay, scheduler, batch_size
        self.device = distributed.setup(_setup.resolve_device(device))  # a rank's under torchrun
        self.callbacks = list(callbacks)
        self.seed, self.progress, self.grad_clip, self.task = seed, progress, grad_clip, task
        self.fit_task: Task | None = None  # the task of the fit under way, or of the last
        self.amp = _setup.resolve_amp(amp, self.device)
        self.should_stop, self.start_epoch = False, 0
        self.logged_metrics: frozenset[str] = frozenset()
        self._train_model: nn.Module | None = None
        self._first_batch = False
        self.history = History()
        self._optimizer: torch.optim.Optimizer | None = None
        self._schedule: torch.optim.lr_scheduler.LRScheduler | None = None
        self._scaler = torch.amp.GradScaler("cuda", enabled=self.amp and self.device.type == "cuda")

    def _task(self, data: Any) -> Task:
        return self.task or infer_task(data)

    def fit(
        self,
        model: nn.Module,
        train: Any,
        val: Any = None,
        *,
        resume: str | os.PathLike[str] | None = None,
    ) -> History:
        """Trains ``model``, validating on ``val`` after every epoch (a node task's
        ``val=None``: the training graph's ``val_mask``). ``resume`` continues from a
        ``ModelCheckpoint`` file (model, optimizer, epoch, history, random and callback
        state), so the run ends as if it had never been interrupted."""
        if isinstance(train, LoadedDataset):  # fit(model, load_dataset(...)): its splits
            train, default_val, _ = train.splits(self.batch_size)
            val = default_val if val is None else val
        _validate.check_not_empty("train", train)
        task = self.fit_task = self._task(train)
        val = task.default_val(train) if val is None else val
        _validate.check_fit(model, task, train, val)
        # what every epoch logs, so that callbacks refuse a monitor before any training
        val_names = [f"val_{name}" for name in task.metric_names] if val is not None else []
        self.logged_metrics = frozenset(("loss", "accuracy", "seconds", *val_names))
        for callback in self.callbacks:
            callback.reset()  # a callback reused across fits (seeds, folds) starts clean
        if self.seed is not None:
            seed_everything(self.seed)
        model.to(self.device)
        if distributed.active():
            task.distribute(distributed.rank(), distributed.world_size())
        self._train_model = distributed.wrap(model, self.device)
        self._optimizer = _setup.make_optimizer(self.optimizer, model, self.lr, self.weight_decay)
        self._schedule = _setup.make_schedule(self, task, train)
        self.history, self.start_epoch, self.should_stop = History(), 0, False
        if resume is not None:
            restore_trainer(self, model, resume)
        for callback in self.callbacks:
            callback.on_fit_start(self, model)
        train = task.prepare(train, self.device)
        val = task.prepare(val, self.device) if val is not None else None
        self._first_batch = True
        for epoch in range(self.start_epoch, self.max_epochs if not self.should_stop else 0):
            start = time.perf_counter()
            logs = self._train_epoch(model, task, train, epoch)
            weight = nonfinite_weights(model)  # before any checkpoint can hold it
            if weight is not None:
                self._diverged(
                    f"weight {weight!r} is not finite after epoch {epoch + 1}", task, train
                )
            if val is not None:
                scores = self._evaluate(model, task, val, "val")
                logs.update({f"val_{name}": scores[name] for name in task.metric_names})
                if not math.isfinite(logs.get("val_loss", 0.0)):
                    self._diverged(
                        f"the validation loss is not finite at epoch {epoch + 1}", task, val
                    )
            logs["seconds"] = time.perf_counter() - start
            self.history.append(epoch, logs)
            if self.progress and distributed.is_main() and not _progress.on_terminal():
                _progress.say(_progress.epoch_line(epoch, self.max_epochs, logs))
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
            sampler=_setup.epoch_sampler(task, data, epoch, self.seed),
        )
        shown = self.progress and distributed.is_main()
        bar = _progress.epoch(
            loader, count(loader), epoch, self.max_epochs, self.start_epoch, shown
        )
        train_model = self._train_model if self._train_model is not None else model
        loss_sum = torch.zeros((), device=self.device)
        correct = torch.zeros((), device=self.device, dtype=torch.long)
        seen = torch.zeros((), device=self.device, dtype=torch.long)
        watch = Watch(self.device, NONFINITE_EVERY)  # looked at now and then: no CUDA sync
        step = -1
        for step, batch in enumerate(bar):
            batch = task.to_device(batch, self.device)
            with self._autocast():
                logits, target = _validate.train_forward(task, train_model, batch, epoch, step)
                if self._first_batch:
                    _validate.check_batch(logits, target, task.ignore_index)
                    self._first_batch = False
                loss = task.loss(logits, target)
            if watch.update(step, loss):
                self._diverged(watch.message(epoch), task, data)
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
        if watch.failed():
            self._diverged(watch.message(epoch), task, data)
        # every rank reports the same figures: sums over all ranks
        totals = torch.stack([loss_sum, correct.to(loss_sum.dtype), seen.to(loss_sum.dtype)])
        loss_total, correct_total, seen_total = distributed.all_reduce_sum(totals).tolist()
        if seen_total == 0:
            raise GconvValueError(
                f"Trainer: the training data of epoch {epoch + 1} had no examples"
            )
        return {"loss": loss_total / seen_total, "accuracy": correct_total / seen_total}

    def _diverged(self, failure: str, task: Task, data: Any) -> None:
        raise divergence(
            failure, task.batches(data, batch_size=self.batch_size, shuffle=False), self.lr
        )

    def _autocast(self) -> Any:
        return _setup.autocast(self.amp, self.device)

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
            raise GconvValueError(f"Trainer: the {phase or 'prediction'} data has no batches")

    def _evaluate(
        self, model: nn.Module, task: Task, data: Any, phase: str, *, f1: bool = False
    ) -> dict[str, float]:
        scores = task.scores(f1=f1)
        for logits, target in self._outputs(model, task, data, phase):
            scores.update(logits, target)
        if scores.seen == 0:
            raise GconvValueError(f"Trainer: the {phase} data has no examples")
        return scores.compute()

    def evaluate(self, model: nn.Module, data: Any) -> dict[str, float]:
        """``loss``, ``accuracy`` and ``macro_f1`` on ``data`` (a node task scores
        ``test_mask``; a :func:`gconv.data.load_dataset` result, its test split); for
        segmentation, pixel accuracy, ``mean_iou`` and ``iou_<class>`` too."""
        if isinstance(data, LoadedDataset):
            data = data.splits(self.batch_size)[2]
        task = self._task(data)
        labels = task.labels(data, "test")  # before any batch runs, not a raw IndexError
        _validate.check_labels(
            "test", labels, _validate.num_classes_of(model), task.ignore_index, "Trainer.evaluate"
        )
        model.to(self.device)
        return self._evaluate(model, task, data, "test", f1=True)

    def predict(self, model: nn.Module, data: Any) -> Tensor:
        """Logits for every example (every node of a node task), on the CPU; unlabelled
        data too (a tensor of images, graphs without ``y``, a loader of either)."""
        data = TensorDataset(data) if isinstance(data, Tensor) else data
        model.to(self.device)
        outputs = self._outputs(model, self._task(data), data, None)
        return torch.cat([logits.cpu() for logits, _ in outputs])

    def checkpoint_state(self, model: nn.Module, epoch: int) -> dict[str, Any]:
        """Everything ``fit(resume=...)`` needs to continue after ``epoch``."""
        return trainer_state(self, model, epoch)
