"""What ``gconv train`` writes: ``metrics.json`` (the mean and spread of the test scores
over seeds or folds), and the run best on validation as ``best.pt``, ``history.csv`` and
``curves.png``."""

from __future__ import annotations

import argparse
import csv
import io
import json
import statistics
from pathlib import Path
from typing import Any

from gconv._checks import plural
from gconv._io import copy_atomic, save_atomic_text
from gconv.data import LoadedDataset
from gconv.train import distributed
from gconv.viz import plot_history


def _write_history(history: dict[str, list[float]], path: Path) -> None:
    keys = list(history)
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(["epoch", *keys])
    for epoch, row in enumerate(zip(*(history[k] for k in keys), strict=True)):
        writer.writerow([epoch, *row])
    save_atomic_text(text.getvalue(), path)


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
    accuracies = [r["test_accuracy"] for r in runs]
    unit = "fold" if extra else "seed"
    which = f"{unit} {best.get('fold', best.get('seed'))}"  # the run best.pt and curves show
    metrics = {
        "dataset": args.dataset,
        "model": args.model,
        "task": dataset.task,
        "input_kind": dataset.input_kind,
        "test_accuracy": statistics.fmean(accuracies),
        "test_accuracy_std": statistics.pstdev(accuracies),
        "runs": [{k: v for k, v in r.items() if k not in ("history", "dir")} for r in runs],
        "epochs": epochs,
        "seconds": seconds,
        "protocol": f"{len(runs)}-fold cross-validation" if extra else plural(len(runs), "seed"),
        "best_run": which,
        "quick": bool(args.quick),
        "world_size": distributed.world_size(),  # processes under torchrun, else 1
        **extra,
    }
    if "test_mean_iou" in runs[0]:  # segmentation: accuracy above is pixel accuracy
        ious = [r["test_mean_iou"] for r in runs]
        metrics.update(
            test_mean_iou=statistics.fmean(ious), test_mean_iou_std=statistics.pstdev(ious)
        )
        classes = sorted({c for r in runs for c in r["test_iou"]}, key=int)
        names = dataset.class_names or tuple(str(c) for c in range(dataset.num_classes))
        metrics["test_iou"] = {  # per class by name, mean over the runs in which it occurs
            names[int(c)]: statistics.fmean(r["test_iou"][c] for r in runs if c in r["test_iou"])
            for c in classes
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
    if "test_mean_iou" in metrics:
        print(
            f"{args.dataset} / {args.model}: test mean IoU {metrics['test_mean_iou']:.4f} "
            f"± {metrics['test_mean_iou_std']:.4f}, pixel accuracy "
            f"{metrics['test_accuracy']:.4f} over {plural(len(runs), unit)} in {seconds:.1f} s"
        )
    else:
        print(
            f"{args.dataset} / {args.model}: test accuracy {metrics['test_accuracy']:.4f} "
            f"± {metrics['test_accuracy_std']:.4f} over {plural(len(runs), unit)} "
            f"in {seconds:.1f} s"
        )
    if extra:
        print(
            f"  (Xu et al.'s protocol, best epoch of the mean fold curve: "
            f"{extra['xu_protocol_accuracy']:.4f} ± {extra['xu_protocol_std']:.4f})"
        )
    print(f"  wrote {out}/metrics.json; best.pt, history.csv, curves.png are {which}'s")
    return metrics
