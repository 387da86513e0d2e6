"""Stratified k-fold cross-validation, the protocol of graph classification benchmarks."""

from __future__ import annotations

import math
import os
import statistics
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import Subset
from torch_geometric.data import Dataset as PyGDataset

from gconv.data import labels_of, stratified_folds, stratified_split
from gconv.errors import GconvValueError
from gconv.train.callbacks import Callback, EarlyStopping, TestCurve
from gconv.train.trainer import Trainer

Folds = Sequence[tuple[np.ndarray, np.ndarray]]


def cross_validate(
    build_model: Callable[[], nn.Module],
    dataset: Any,
    *,
    folds: int | Folds = 10,
    max_epochs: int,
    seed: int = 0,
    val_fraction: float = 0.1,
    monitor: str = "val_loss",
    patience: int | None = None,
    on_fold: Callable[[str], None] | None = None,
    fold_callbacks: Callable[[int], list[Callback]] | None = None,
    fold_resume: Callable[[int], str | os.PathLike[str] | None] | None = None,
    **trainer_kwargs: Any,
) -> dict[str, Any]:
    """Stratified k-fold training and testing of an image or graph classifier.

    In each fold a stratified ``val_fraction`` of the training part is held out; the
    epoch whose weights are tested is the best by ``monitor`` on that validation part
    (``EarlyStopping`` with ``restore_best_weights``). The test fold never chooses
    anything. The test accuracy of every epoch is recorded only to report Xu et al.'s
    figure (best epoch of the fold-averaged curve), which is optimistic by design.

    Args:
        build_model: returns a fresh model for each fold.
        dataset: a PyG dataset of graphs, or a dataset of ``(x, y)`` images.
        folds: the number of folds (split by :func:`gconv.data.stratified_folds` with
            ``seed``), or the ``(train_index, test_index)`` pairs themselves, such as a
            loaded dataset's ``folds``.
        max_epochs: epochs of each fold (at most: ``patience`` may stop it earlier).
        seed: seeds the fold split, the validation split and each fold's training.
        val_fraction: share of each training part used for validation.
        monitor: what chooses the epoch (``"val_loss"`` or ``"val_accuracy"``).
        patience: stop a fold early after this many epochs without improvement.
        on_fold: called with a line of text after each fold.
        fold_callbacks: returns extra callbacks for a fold (e.g. a ``ModelCheckpoint``).
        fold_resume: returns the checkpoint a fold resumes from (its ``last.pt``, written
            by a ``ModelCheckpoint`` of ``fold_callbacks``), or ``None`` to train it
            afresh; a finished fold is not retrained, an interrupted one continues.
        **trainer_kwargs: passed to :class:`Trainer` (``lr``, ``batch_size``, ...).

    Returns:
        ``{"folds": [{"fold", "test_accuracy", "best_epoch", "epochs", "history"}],
        "test_accuracy": mean, "test_accuracy_std": std,
        "xu_protocol_accuracy", "xu_protocol_std", "xu_protocol_epoch"}``.
    """
    if not 0 < val_fraction < 1:
        raise GconvValueError(
            f"cross_validate: val_fraction must be in (0, 1) (got {val_fraction})"
        )
    labels = labels_of(dataset).numpy()
    splits = stratified_folds(labels, folds, seed) if isinstance(folds, int) else list(folds)
    if len(splits) < 2:
        raise GconvValueError(f"cross_validate: folds must be >= 2 (got {len(splits)})")
    results: list[dict[str, Any]] = []
    accuracies: list[float] = []
    curves: list[list[float]] = []
    for fold, (train_idx, test_idx) in enumerate(splits):
        n_val = math.ceil(val_fraction * len(train_idx))
        fit_pos, val_pos = stratified_split(
            labels[train_idx], (len(train_idx) - n_val, n_val), seed
        )
        train, val, test = (
            _take(dataset, i) for i in (train_idx[fit_pos], train_idx[val_pos], test_idx)
        )
        stopper = EarlyStopping(monitor, patience=patience or max_epochs, restore_best_weights=True)
        curve = TestCurve(test)
        torch.manual_seed(seed + fold)
        model = build_model()
        kwargs = {"seed": seed + fold, "max_epochs": max_epochs, **trainer_kwargs}
        extra = fold_callbacks(fold) if fold_callbacks is not None else []
        trainer = Trainer(callbacks=[stopper, curve, *extra], **kwargs)
        resume = fold_resume(fold) if fold_resume is not None else None
        history = trainer.fit(model, train, val, resume=resume)
        accuracy = trainer.evaluate(model, test)["accuracy"]
        accuracies.append(accuracy)
        results.append(
            {
                "fold": fold,
                "test_accuracy": accuracy,
                "best_epoch": stopper.best_epoch,
                "epochs": len(history.epochs),
                "history": history.history,
            }
        )
        # a fold stopped early keeps its last accuracy for the remaining epochs
        curves.append(curve.accuracy + [curve.accuracy[-1]] * (max_epochs - len(curve.accuracy)))
        if on_fold is not None:
            on_fold(f"fold {fold + 1}/{len(splits)}: test accuracy {accuracy:.4f}")
    mean_curve = np.mean(curves, axis=0)
    best = int(mean_curve.argmax())
    at_best = [c[best] for c in curves]
    return {
        "folds": results,
        "test_accuracy": statistics.fmean(accuracies),
        "test_accuracy_std": statistics.pstdev(accuracies),
        "xu_protocol_accuracy": float(mean_curve[best]),
        "xu_protocol_std": statistics.pstdev(at_best),
        "xu_protocol_epoch": best,
    }


def _take(dataset: Any, index: np.ndarray) -> Any:
    """The examples at ``index``: a PyG dataset's own view, else a ``Subset``."""
    if isinstance(dataset, PyGDataset):
        return dataset[torch.as_tensor(index, dtype=torch.long)]
    return Subset(dataset, index.tolist())
