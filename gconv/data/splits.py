"""Stratified splits, one function each, used by the datasets and by cross-validation."""

from __future__ import annotations

import numpy as np

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
