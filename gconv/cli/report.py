"""What ``gconv train`` writes: ``metrics.json`` (the mean and spread of the test scores
over seeds or folds), and the run best on validation as ``best.pt``, ``history.csv`` and
``curves.png``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import torch

from gconv._checks import plural
from gconv._io import copy_atomic, save_atomic_csv, save_atomic_text
from gconv.data import LoadedDataset
from gconv.train import distributed
from gconv.train.infer import get_task
from gconv.viz import plot_history


def _write_history(history: dict[str, list[float]], path: Path) -> None:
    epochs = len(next(iter(history.values()), []))
    save_atomic_csv(
        [{"epoch": e, **{k: v[e] for k, v in history.items()}} for e in range(epochs)], path
    )


def report(
    args: argparse.Namespace,
    dataset: LoadedDataset,
    out: Path,
    runs: list[dict[str, Any]],
    extra: dict[str, Any],
    epochs: int,
    seconds: float,
) -> dict[str, Any]:
    """Step 4: ``metrics.json``, and the run best on validation (never on test) as
    ``best.pt``, ``history.csv`` and ``curves.png``."""
    best = min(runs, key=lambda r: min(r["history"]["val_loss"]))
    task = get_task(dataset.task)  # what the runs' scores are and how they read
    unit = "fold" if extra else "seed"
    which = f"{unit} {best.get('fold', best.get('seed'))}"  # the run best.pt and curves show
    metrics = {
        "dataset": args.dataset,
        "model": args.model,
        "task": dataset.task,
        "input_kind": dataset.input_kind,
        **task.summarize(runs, dataset.class_names),
        "runs": [{k: v for k, v in r.items() if k not in ("history", "dir")} for r in runs],
        "epochs": epochs,
        "seconds": seconds,
        "protocol": f"{len(runs)}-fold cross-validation" if extra else plural(len(runs), "seed"),
        "best_run": which,
        "split_method": dataset.split_method,
        "chance_accuracy": _chance(task, dataset, bool(extra)),
        "quick": bool(args.quick),
        "world_size": distributed.world_size(),  # processes under torchrun, else 1
        **extra,
    }
    if not distributed.is_main():  # under torchrun, rank 0 alone writes
        return metrics
    # every file through the atomic writer: a kill leaves the old file or the new one
    copy_atomic(best["dir"] / "best.pt", out / "best.pt")
    _write_history(best["history"], out / "history.csv")
    title = (
        f"{args.dataset} / {args.model}, {which} (best of {plural(len(runs), unit)} on validation)"
    )
    plot_history(best["history"], out / "curves.png", title=title)
    save_atomic_text(json.dumps(metrics, indent=2) + "\n", out / "metrics.json")
    tested = {k[5:]: v for k, v in metrics.items() if k.startswith("test_")}
    # one run has no spread to print (a "± 0.0000" would read as a measured one)
    spread = {k[: -len("_std")]: v for k, v in tested.items() if k.endswith("_std")}
    spread = spread if len(runs) > 1 else {}
    print(
        f"{args.dataset} / {args.model}: {task.report_line(tested, spread)} over "
        f"{plural(len(runs), unit)} in {seconds:.1f} s"
    )
    if extra:
        print(
            f"  (Xu et al.'s protocol, best epoch of the mean fold curve: "
            f"{extra['xu_protocol_accuracy']:.4f} ± {extra['xu_protocol_std']:.4f})"
        )
    print(f"  wrote {out}/metrics.json; best.pt, history.csv, curves.png are {which}'s")
    chance = metrics["chance_accuracy"]
    if chance is not None and metrics.get("test_accuracy", 1.0) <= chance + CHANCE_MARGIN:
        print(
            f"  at chance level: always answering the most frequent class scores "
            f"{chance:.4f} on the same test data; this model learnt nothing beyond that"
        )
    return metrics


CHANCE_MARGIN = 0.01  # within a point of the majority class's share reads as chance


def _chance(task: Any, dataset: LoadedDataset, folds: bool) -> float | None:
    """The test accuracy of always answering the most frequent test class (over every
    example, for folds), where the task's main metric is accuracy."""
    if task.metric != "accuracy":
        return None
    labels = task.labels(dataset.dataset if folds else dataset.test, "test")
    if labels is None or labels.numel() == 0:
        return None
    return float(torch.bincount(labels.view(-1)).max()) / labels.numel()
