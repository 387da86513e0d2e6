"""Stratified splits, one function each, used by the datasets and by cross-validation."""

from __future__ import annotations

from typing import Any

import numpy as np
from torch import Tensor

from gconv._checks import check_positive_int
from gconv.errors import GconvValueError


def stratified_split(
    labels: np.ndarray, sizes: tuple[int, int], seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Two disjoint, sorted index sets of ``sizes`` examples with the class proportions of
    ``labels`` (scikit-learn's ``train_test_split`` with ``stratify``)."""
    from sklearn.model_selection import train_test_split

    index = np.arange(len(labels))
    first, second = train_test_split(
        index, test_size=sizes[1], train_size=sizes[0], stratify=labels, random_state=seed
    )
    return np.sort(first), np.sort(second)


def stratified_folds(
    labels: np.ndarray, folds: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``folds`` stratified ``(train_index, test_index)`` pairs; each example is tested once.

    Examples:
        >>> [len(test) for _, test in stratified_folds(np.array([0, 1] * 10), 5, seed=0)]
        [4, 4, 4, 4, 4]
    """
    from sklearn.model_selection import StratifiedKFold

    check_positive_int("stratified_folds", "folds", folds, minimum=2)
    smallest = int(np.unique(labels, return_counts=True)[1].min()) if len(labels) else 0
    if folds > smallest:  # each fold tests every class at least once
        raise GconvValueError(
            f"stratified_folds: folds must be <= {smallest}, the size of the smallest class "
            f"(got {folds})"
        )
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(labels)), labels))


def first_fold_split(
    labels: np.ndarray, folds: list[tuple[np.ndarray, np.ndarray]], seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(train, val, test)`` indices of the first fold: its test part, and its training
    part less a stratified tenth for validation (at least one example a class): the graph
    datasets' standard split."""
    train_idx, test_idx = folds[0]
    n_val = max(len(train_idx) // 10, len(np.unique(labels)))  # each class validated
    tr, va = stratified_split(labels[train_idx], (len(train_idx) - n_val, n_val), seed)
    return train_idx[tr], train_idx[va], test_idx


def class_ids(labels: Tensor, owner: str = "load_dataset") -> np.ndarray:
    """Labels as one integer class id (``>= 0``) per example, in NumPy."""
    if labels.is_floating_point() or labels.dim() != 1:
        raise GconvValueError(
            f"{owner}: labels must be one integer class id per example (got shape "
            f"{tuple(labels.shape)} and dtype {labels.dtype})"
        )
    if len(labels) and int(labels.min()) < 0:
        raise GconvValueError(f"{owner}: labels must be >= 0 (got {int(labels.min())})")
    return labels.long().numpy()


def _carve(
    labels: np.ndarray, pool: np.ndarray, share: float, seed: int, owner: str
) -> tuple[np.ndarray, np.ndarray]:
    """``pool`` less a stratified ``share`` of the whole, and that share."""
    size = max(round(share * len(labels)), len(np.unique(labels[pool])))
    try:
        rest, taken = stratified_split(labels[pool], (len(pool) - size, size), seed)
    except ValueError as err:  # scikit-learn: too few examples of a class
        raise GconvValueError(
            f"{owner}: {len(pool)} examples are too few to carve a stratified split of {size} "
            f"({err})"
        ) from None
    return pool[rest], pool[taken]


def carve_splits(
    labels: np.ndarray,
    given: dict[str, Any],
    shares: tuple[float, float],
    seed: int,
    owner: str = "load_dataset",
) -> tuple[dict[str, np.ndarray], str]:
    """The train, val and test indices: the ones ``given``, and the rest carved from
    train (or from all examples: ``given={"all": None}``), stratified, each a
    ``shares = (val, test)`` share of all examples; and a sentence saying how."""
    everything = np.arange(len(labels))
    if "train" not in given:  # no split at all
        rest, test = _carve(labels, everything, shares[1], seed, owner)
        train, val = _carve(labels, rest, shares[0], seed, owner)
        made = (
            f"train/val/test carved from {len(labels)} examples ({len(train)}/{len(val)}/"
            f"{len(test)}), stratified, seed {seed}"
        )
        return {"train": train, "val": val, "test": test}, made
    out = {k: v for k, v in given.items() if v is not None}
    carved = []
    for split, share in (("test", shares[1]), ("val", shares[0])):
        if split not in out:
            out["train"], out[split] = _carve(labels, out["train"], share, seed, owner)
            carved.append(f"{split} ({len(out[split])})")
    made = "the source's own train/val/test"
    if carved:
        made = (
            f"the source's own {', '.join(k for k in given)}; {' and '.join(carved)} carved from "
            f"train, stratified, seed {seed}"
        )
    return out, made
