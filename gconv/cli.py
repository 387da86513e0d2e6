"""The ``gconv`` command: ``gconv train DATASET MODEL``, ``list``, ``summary``, ``compare``,
``explain``.

Each command is a function of the parsed arguments, and ``train`` is its steps in order:
:func:`load`, :func:`build`, :func:`train_seeds` or :func:`train_folds`, :func:`report`.
A mistake on the command line is a :class:`UsageError`, printed as one line.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from gconv._checks import check_folder
from gconv.data import DatasetNotFoundError, LoadedDataset, list_datasets, load_dataset
from gconv.loader import NeighborLoader
from gconv.models import build_model, fits, list_models, summary
from gconv.train import (
    CSVLogger,
    EarlyStopping,
    ModelCheckpoint,
    Trainer,
    cross_validate,
    distributed,
    load_checkpoint,
)
from gconv.viz import (
    conv_layers,
    feature_maps,
    plot_feature_maps,
    plot_filters,
    plot_history,
    plot_image,
)


@dataclass(frozen=True)
class Recipe:
    """Default training settings of a dataset; the command-line flags override them."""

    epochs: int
    lr: float
    batch_size: int
    weight_decay: float = 0.0
    scheduler: str | None = None
    folds: int | None = None
    quick_epochs: int = 2
    quick_limit: int | None = None  # examples kept by --quick


RECIPES = {
    # Kipf and Welling: 200 epochs, lr 0.01, weight decay 5e-4
    "cora": Recipe(epochs=200, lr=0.01, batch_size=1, weight_decay=5e-4, quick_epochs=10),
    # Xu et al.: 10-fold cross-validation, batch 32, lr 0.01; a cosine decay with GIN's
    # width 64 averaged 0.862 over three fold splits (0.851 constant lr at width 32)
    "mutag": Recipe(
        epochs=100, lr=0.01, batch_size=32, scheduler="cosine", folds=10, quick_epochs=3
    ),
    # a cosine decay gets LeNet-5 past 0.99 in 5 epochs (0.9884 at a constant 1e-3)
    "mnist": Recipe(epochs=5, lr=3e-3, batch_size=64, scheduler="cosine", quick_limit=2000),
    "mnist_grid": Recipe(
        epochs=5, lr=3e-3, batch_size=64, scheduler="cosine", quick_limit=1000, quick_epochs=1
    ),
    "digits": Recipe(epochs=30, lr=1e-3, batch_size=32, quick_epochs=3),
}
FOLD_DATASETS = ("mutag",)  # datasets whose loader splits into folds


class UsageError(ValueError):
    """A mistake on the command line: printed as one line, exit status 2."""


def load(args: argparse.Namespace, recipe: Recipe) -> LoadedDataset:
    """Step 1: the dataset, shrunk by ``--quick``; with ``--folds``, split into them."""
    kwargs: dict[str, Any] = {}
    if args.quick and recipe.quick_limit is not None:
        kwargs["limit"] = recipe.quick_limit
    folds = _folds(args, recipe)
    if folds:
        kwargs.update(folds=folds, seed=args.seed)
    return load_dataset(args.dataset, root=args.root, **kwargs)


def _folds(args: argparse.Namespace, recipe: Recipe) -> int | None:
    folds = _given(args.folds, recipe.folds)
    if args.folds is not None and args.folds < 2:
        raise UsageError(f"--folds must be >= 2 (got {args.folds})")
    if folds and args.dataset not in FOLD_DATASETS:
        raise UsageError(f"--folds takes a dataset of {', '.join(FOLD_DATASETS)}")
    return min(folds, 3) if folds and args.quick else folds


def build(name: str, dataset: LoadedDataset) -> torch.nn.Module:
    """Step 2: the variant of a registered model that fits the dataset, or one line why
    none does."""
    verdict = fits(name, dataset)
    if not verdict:
        raise UsageError(f"cannot train {name} on {dataset.name}: {verdict.reason}")
    return build_model(name, dataset)


def _meta(name: str, dataset: LoadedDataset) -> dict[str, Any]:
    """What ``gconv explain`` needs to rebuild the model of a checkpoint."""
    return {
        "model": name,
        "dataset": dataset.name,
        "in_channels": dataset.in_channels,
        "num_classes": dataset.num_classes,
        "input_shape": dataset.input_shape,
        "input_kind": dataset.input_kind,
    }


def _folder(path: str, flag: str) -> Path:
    """The output folder, made; a file in its place is a usage error, not a traceback."""
    folder = check_folder("", flag, path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _given(value: Any, default: Any) -> Any:
    """A flag's value when it was given (0 included, so that it is checked), else the
    default."""
    return default if value is None else value


SAMPLED_BATCH = 64  # seed nodes per batch of --sampled, unless --batch-size says


def _splits(
    dataset: LoadedDataset, batch_size: int, num_neighbors: list[int] | None = None
) -> tuple[Any, Any, Any]:
    """The splits the trainer gets: the dataset's own, or with ``num_neighbors`` (node
    datasets, ``--sampled``) neighbour-sampled mini-batches of each split's seed nodes."""
    if num_neighbors is None:
        return dataset.splits(batch_size)
    graph = dataset.train
    return tuple(  # type: ignore[return-value]
        NeighborLoader(
            graph,
            num_neighbors,
            input_nodes=getattr(graph, f"{split}_mask"),
            batch_size=batch_size,
            shuffle=split == "train",
        )
        for split in ("train", "val", "test")
    )


def _num_neighbors(args: argparse.Namespace, dataset: LoadedDataset) -> list[int] | None:
    if not args.sampled:
        return None
    if dataset.task != "node":
        raise UsageError(
            f"--sampled samples the neighbourhoods of nodes; dataset {dataset.name!r} is "
            f"{dataset.task} classification"
        )
    try:
        fanout = [int(k) for k in args.num_neighbors.split(",")]
    except ValueError:
        raise UsageError(
            f"--num-neighbors must be comma-separated ints like 10,5 (got {args.num_neighbors!r})"
        ) from None
    return fanout


def _trainer_kwargs(args: argparse.Namespace, recipe: Recipe) -> dict[str, Any]:
    return {
        "max_epochs": _given(args.epochs, recipe.quick_epochs if args.quick else recipe.epochs),
        "lr": _given(args.lr, recipe.lr),
        "weight_decay": recipe.weight_decay,
        "scheduler": recipe.scheduler,
        "batch_size": _given(args.batch_size, SAMPLED_BATCH if args.sampled else recipe.batch_size),
        "device": args.device,
        "progress": not args.no_progress,
    }


def train_seeds(
    args: argparse.Namespace, dataset: LoadedDataset, out: Path, kwargs: dict[str, Any]
) -> list[dict[str, Any]]:
    """Step 3a: one run per seed on the dataset's split."""
    train_data, val_data, test_data = _splits(
        dataset, kwargs["batch_size"], _num_neighbors(args, dataset)
    )
    runs = []
    for seed in range(args.seed, args.seed + args.seeds):
        run_dir = out / f"seed-{seed}"
        torch.manual_seed(seed)
        model = build(args.model, dataset)
        stopper = EarlyStopping("val_loss", patience=kwargs["max_epochs"])
        callbacks = [
            stopper,
            ModelCheckpoint(run_dir, "val_loss", meta=_meta(args.model, dataset)),
            CSVLogger(run_dir / "history.csv"),
        ]
        trainer = Trainer(seed=seed, callbacks=callbacks, **kwargs)
        history = trainer.fit(model, train_data, val_data)
        scores = trainer.evaluate(model, test_data)
        print(
            f"seed {seed}: test accuracy {scores['accuracy']:.4f}, "
            f"macro-F1 {scores['macro_f1']:.4f}, {len(history.epochs)} epochs"
        )
        runs.append(
            {
                "seed": seed,
                "test_accuracy": scores["accuracy"],
                "macro_f1": scores["macro_f1"],
                "epochs": len(history.epochs),
                "best_epoch": stopper.best_epoch,
                "history": history.history,
                "dir": run_dir,
            }
        )
    return runs


def train_folds(
    args: argparse.Namespace, dataset: LoadedDataset, out: Path, kwargs: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Step 3b: k-fold cross-validation on the dataset's folds."""
    print(
        f"{args.dataset} / {args.model}: {len(dataset.folds)}-fold cross-validation, "
        f"{kwargs['max_epochs']} epochs"
    )
    result = cross_validate(
        lambda: build(args.model, dataset),
        dataset.dataset,
        folds=dataset.folds,
        seed=args.seed,
        on_fold=print,
        fold_callbacks=lambda i: [
            ModelCheckpoint(out / f"fold-{i}", "val_loss", meta=_meta(args.model, dataset))
        ],
        **kwargs,
    )
    runs = [{**fold, "dir": out / f"fold-{fold['fold']}"} for fold in result["folds"]]
    return runs, {k: v for k, v in result.items() if k.startswith("xu_protocol")}


def _write_history(history: dict[str, list[float]], path: Path) -> None:
    keys = list(history)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["epoch", *keys])
        for epoch, row in enumerate(zip(*(history[k] for k in keys), strict=True)):
            writer.writerow([epoch, *row])


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
    unit = "folds" if extra else "seed(s)"
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
        "protocol": f"{len(runs)}-fold cross-validation" if extra else f"{len(runs)} seed(s)",
        "quick": bool(args.quick),
        "world_size": distributed.world_size(),  # processes under torchrun, else 1
        **extra,
    }
    if not distributed.is_main():  # under torchrun, rank 0 alone writes
        return metrics
    shutil.copyfile(best["dir"] / "best.pt", out / "best.pt")
    _write_history(best["history"], out / "history.csv")
    plot_history(best["history"], out / "curves.png")
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    print(
        f"{args.dataset} / {args.model}: test accuracy {metrics['test_accuracy']:.4f} "
        f"± {metrics['test_accuracy_std']:.4f} over {len(runs)} {unit} in {seconds:.1f} s"
    )
    if extra:
        print(
            f"  (Xu et al.'s protocol, best epoch of the mean fold curve: "
            f"{extra['xu_protocol_accuracy']:.4f} ± {extra['xu_protocol_std']:.4f})"
        )
    print(f"  wrote {out}/metrics.json, history.csv, best.pt, curves.png")
    return metrics


def train(args: argparse.Namespace) -> dict[str, Any]:
    """``gconv train DATASET MODEL``: load, build, train, report."""
    if args.seeds < 1:
        raise UsageError(f"--seeds must be >= 1 (got {args.seeds})")
    recipe = RECIPES[args.dataset]
    dataset = load(args, recipe)
    build(args.model, dataset)  # says why not before anything is written or trained
    _num_neighbors(args, dataset)  # and so does --sampled
    kwargs = _trainer_kwargs(args, recipe)
    out = _folder(args.out or f"runs/{args.dataset}-{args.model}", "--out")
    start = time.perf_counter()
    if dataset.folds and _given(args.folds, recipe.folds):
        runs, extra = train_folds(args, dataset, out, kwargs)
    else:
        runs, extra = train_seeds(args, dataset, out, kwargs), {}
    return report(
        args, dataset, out, runs, extra, kwargs["max_epochs"], time.perf_counter() - start
    )


def summarize(args: argparse.Namespace) -> None:
    """``gconv summary MODEL``: the layer table of an image model."""
    try:
        shape = tuple(int(s) for s in args.input.split(","))
    except ValueError:
        raise UsageError(f"--input must be C,H,W like 1,28,28 (got {args.input!r})") from None
    if len(shape) != 3:
        raise UsageError(f"--input must be C,H,W like 1,28,28 (got {args.input!r})")
    verdict = fits(args.model, "images")
    if not verdict:
        raise UsageError(f"summary takes an image model: {verdict.reason}")
    model = build_model(
        args.model, in_channels=shape[0], num_classes=args.num_classes, input_shape=shape
    )
    print(summary(model, shape, depth=args.depth))


def explain(args: argparse.Namespace) -> None:
    """``gconv explain CHECKPOINT IMAGE_INDEX``: feature maps of one test image."""
    state = load_checkpoint(args.checkpoint)
    meta = state.get("meta") or {}
    if "model" not in meta:
        raise UsageError(
            f"{args.checkpoint} has no model description (meta); "
            "use a best.pt written by 'gconv train'"
        )
    dataset = load_dataset(meta["dataset"], root=args.root)
    if dataset.input_kind != "images":
        raise UsageError(
            f"explain shows feature maps of image models ({meta['dataset']} is not images)"
        )
    model = build_model(meta["model"], dataset)
    model.load_state_dict(state["model"])
    model.eval()
    if not 0 <= args.index < len(dataset.test):
        raise UsageError(f"IMAGE_INDEX must be in [0, {len(dataset.test)}) (got {args.index})")
    image, label = dataset.test[args.index]
    layers = args.layers.split(",") if args.layers else conv_layers(model)[:4]
    out = _folder(args.out, "--out")
    plot_feature_maps(feature_maps(model, image, layers), out)
    plot_filters(model, out / "filters.png")
    with torch.no_grad():
        probs = model(image.unsqueeze(0)).softmax(-1)[0]
    predicted, confidence = int(probs.argmax()), float(probs.max())
    title = f"label {int(label)}, predicted {predicted} ({confidence:.2f})"
    plot_image(image, title, out / "input.png")
    print(f"test image {args.index}: label {int(label)}, predicted {predicted}")
    print(f"wrote {out}/input.png, filters.png and feature maps of {', '.join(layers)}")


def compare(args: argparse.Namespace) -> None:
    """``gconv compare``: a CNN against graph networks on MNIST, one parameter budget."""
    from gconv.compare import ROW_IDS, Protocol, run_compare

    if args.list:
        print("\n".join(ROW_IDS))
        return
    rows = args.rows.split(",") if args.rows else None
    if rows and (unknown := [r for r in rows if r not in ROW_IDS]):
        raise UsageError(f"--rows must be from {', '.join(ROW_IDS)} (got {', '.join(unknown)})")
    defaults = Protocol()
    for flag in ("budget", "epochs", "seeds"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            raise UsageError(f"--{flag} must be >= 1 (got {value})")
    protocol = Protocol(
        budget=_given(args.budget, defaults.budget),
        epochs=_given(args.epochs, 1 if args.quick else defaults.epochs),
        seeds=_given(args.seeds, defaults.seeds),
        quick=args.quick,
    )
    _folder(args.out, "--out")
    run_compare(protocol, rows=rows, out=args.out, root=args.root, progress=not args.no_progress)
    print(f"wrote {args.out}/compare.json, compare.md, compare.png")


def list_all(args: argparse.Namespace) -> None:
    """``gconv list``: datasets and models."""
    print("datasets:", ", ".join(list_datasets()))
    print("models:  ", ", ".join(list_models()))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gconv", description="Grid and graph convolutions.")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train a model on a dataset and report test accuracy")
    t.add_argument("dataset", choices=list_datasets())
    t.add_argument("model", choices=list_models())
    t.add_argument("--epochs", type=int, help="epochs (default: the dataset's recipe)")
    t.add_argument("--lr", type=float, help="learning rate")
    t.add_argument("--batch-size", type=int, help="batch size")
    t.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    t.add_argument("--seeds", type=int, default=1, help="repeat with seeds seed..seed+N-1")
    t.add_argument("--folds", type=int, help="k-fold cross-validation instead of seeds")
    t.add_argument("--device", default="auto", help="auto, cpu, cuda, mps")
    t.add_argument("--out", help="output folder (default runs/DATASET-MODEL)")
    t.add_argument("--root", help="data root (default $GCONV_DATA, else ./datasets)")
    t.add_argument("--quick", action="store_true", help="a smoke test: few epochs, less data")
    t.add_argument("--no-progress", action="store_true", help="no progress bars")
    t.add_argument(
        "--sampled",
        action="store_true",
        help=f"node datasets: mini-batches of sampled neighbourhoods ({SAMPLED_BATCH} seeds)",
    )
    t.add_argument("--num-neighbors", default="10,5", help="fan-out per hop of --sampled")
    sub.add_parser("list", help="list datasets and models")
    s = sub.add_parser("summary", help="layer table of a model: shapes, parameters, FLOPs")
    s.add_argument("model", choices=list_models())
    s.add_argument("--input", default="3,224,224", help="C,H,W of one image (default 3,224,224)")
    s.add_argument("--num-classes", type=int, default=10)
    s.add_argument("--depth", type=int, default=2, help="nesting depth of the rows shown")
    c = sub.add_parser(
        "compare", help="a CNN against graph networks on MNIST images, one parameter budget"
    )
    c.add_argument("--rows", help="comma-separated row ids (default: all; see --list)")
    c.add_argument("--list", action="store_true", help="print the row ids and stop")
    c.add_argument("--budget", type=int, help="parameters per model (default 100,000)")
    c.add_argument("--epochs", type=int, help="epochs for every row (default 1)")
    c.add_argument("--seeds", type=int, help="seeds 0..N-1 for every row (default 2)")
    c.add_argument("--quick", action="store_true", help="600 images: a smoke test of every row")
    c.add_argument("--out", default="runs/compare", help="output folder (resumes what it has)")
    c.add_argument("--root", help="data root (default $GCONV_DATA, else ./datasets)")
    c.add_argument("--no-progress", action="store_true", help="no progress bars")
    e = sub.add_parser("explain", help="feature maps of a trained image model for one test image")
    e.add_argument("checkpoint", help="a best.pt written by 'gconv train'")
    e.add_argument("index", type=int, metavar="IMAGE_INDEX", help="index into the test split")
    e.add_argument("--out", required=True, help="output folder")
    e.add_argument("--layers", help="comma-separated module names (default: first 4 convs)")
    e.add_argument("--root", help="data root (default $GCONV_DATA, else ./datasets)")
    return p


COMMANDS: dict[str, Callable[[argparse.Namespace], Any]] = {
    "train": train,
    "list": list_all,
    "summary": summarize,
    "compare": compare,
    "explain": explain,
}


def _say(err: BaseException) -> None:
    """One line on stderr, never a traceback."""
    print(f"gconv: {' '.join(str(err).split())}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    # the process is ours: torch's deprecation notices about its own internals are noise
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"torch(_geometric)?\b")
    args = parser().parse_args(argv)
    if os.environ.get("RANK", "0") != "0":  # under torchrun, rank 0 alone prints
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
    try:
        COMMANDS[args.command](args)
    except UsageError as err:
        _say(err)
        return 2
    except DatasetNotFoundError as err:
        _say(err)
        return 1
    except (ValueError, TypeError, OSError, FloatingPointError) as err:
        if os.environ.get("GCONV_DEBUG"):  # the full traceback, for reporting a bug
            raise
        _say(err)  # gconv's own checks name the argument, what was expected and what came
        return 2
    except KeyboardInterrupt:
        _say(KeyboardInterrupt("interrupted"))
        return 130
    finally:
        distributed.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
