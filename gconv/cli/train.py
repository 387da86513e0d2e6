"""``gconv train DATASET MODEL``: its steps in order, :func:`load`, :func:`build`,
:func:`train_seeds` or :func:`train_folds`, and :func:`gconv.cli.report.report`."""

from __future__ import annotations

import argparse
import os
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import torch

from gconv._io import run_lock
from gconv.cli._common import UsageError, folder, given
from gconv.cli.recipes import QUICK_LIMIT, RECIPES, TASK_RECIPES, Recipe
from gconv.cli.report import report
from gconv.data import LoadedDataset, load_dataset
from gconv.data.datasets import DATASET_INPUTS
from gconv.data.kinds import KINDS
from gconv.loader import NeighborLoader
from gconv.models import build_model, fits
from gconv.train import (
    CSVLogger,
    EarlyStopping,
    ModelCheckpoint,
    Trainer,
    cross_validate,
    runs,
)

FOLD_DATASETS = ("mutag",)  # datasets whose loader splits into folds


def load(args: argparse.Namespace, recipe: Recipe | None) -> LoadedDataset:
    """Step 1: the dataset (a registered one, or the user's own folder or file, whose
    ``recipe`` is ``None`` until its task is known), shrunk by ``--quick``; with
    ``--folds``, split into them."""
    kwargs: dict[str, Any] = {}
    limit = recipe.quick_limit if recipe is not None else QUICK_LIMIT
    if args.quick and limit is not None:
        kwargs["limit"] = limit
    folds = _folds(args, recipe)
    if folds:
        kwargs.update(folds=folds, seed=args.seed)
    if recipe is None:  # the user's own data: its path, checked by load_dataset
        dataset = load_dataset(args.dataset, **kwargs)
        if args.folds is not None and not dataset.folds:
            raise UsageError(
                f"--folds takes graph classification data ({args.dataset} is "
                f"{dataset.task} classification)"
            )
        return dataset
    if args.root is not None and Path(args.root).exists() and not Path(args.root).is_dir():
        raise UsageError(f"--root must be a folder (got the file {args.root})")
    return load_dataset(args.dataset, root=args.root, **kwargs)


def _folds(args: argparse.Namespace, recipe: Recipe | None) -> int | None:
    folds = given(args.folds, recipe.folds if recipe is not None else None)
    if args.folds is not None and args.folds < 2:
        raise UsageError(f"--folds must be >= 2 (got {args.folds})")
    if folds and recipe is not None and args.dataset not in FOLD_DATASETS:
        raise UsageError(f"--folds takes a dataset of {', '.join(FOLD_DATASETS)} or a graph file")
    if folds and args.quick and args.folds is None:
        return min(folds, 3)  # a smoke test of the recipe's folds; --folds is kept as given
    return folds


def for_model(name: str, dataset: LoadedDataset) -> LoadedDataset:
    """The dataset as the model takes it: images become pixel grid graphs for a model of
    pixel grids (``gconv train mnist_seg grid_fcn``); anything else stays as it is."""
    if fits(name, dataset) or KINDS[dataset.input_kind].as_pixel_grid is None:
        return dataset
    grids = dataset.as_pixel_grid()
    return grids if fits(name, grids) else dataset


def check_fits(name: str, dataset: str) -> None:
    """Step 0: the model takes what the dataset gives, as it is or as pixel grids; said
    from the registries before any file is read."""
    verdict = fits(name, dataset)
    grids = KINDS[DATASET_INPUTS[dataset]].as_pixel_grid
    if not verdict and not (grids and fits(name, grids)):
        raise UsageError(f"cannot train {name} on {dataset}: {verdict.reason}")


def build(name: str, dataset: LoadedDataset) -> torch.nn.Module:
    """Step 2: the variant of a registered model that fits the dataset, or one line why
    none does."""
    verdict = fits(name, dataset)
    if not verdict:
        raise UsageError(f"cannot train {name} on {dataset.name}: {verdict.reason}")
    return build_model(name, dataset)


def _meta(name: str, dataset: LoadedDataset, source: str) -> dict[str, Any]:
    """What a checkpoint keeps beside the model's own ``build_config``: the dataset as
    the command named it (``gconv explain`` reloads it) and the input kind it gave."""
    return {
        "model": name,
        "dataset": source,
        "in_channels": dataset.in_channels,
        "num_classes": dataset.num_classes,
        "input_shape": dataset.input_shape,
        "input_kind": dataset.input_kind,
    }


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
        "max_epochs": given(args.epochs, recipe.quick_epochs if args.quick else recipe.epochs),
        "lr": given(args.lr, recipe.lr),
        "weight_decay": recipe.weight_decay,
        "scheduler": recipe.scheduler,
        "batch_size": given(args.batch_size, SAMPLED_BATCH if args.sampled else recipe.batch_size),
        "device": args.device,
        "progress": not args.no_progress,
    }


def _check_flags(args: argparse.Namespace) -> None:
    if args.seeds < 1:
        raise UsageError(f"--seeds must be >= 1 (got {args.seeds})")
    for flag in ("epochs", "batch_size"):  # named as the user typed them, not as callees do
        value = getattr(args, flag)
        if value is not None and value < 1:
            raise UsageError(f"--{flag.replace('_', '-')} must be >= 1 (got {value})")


def train_seeds(
    args: argparse.Namespace, dataset: LoadedDataset, out: Path, kwargs: dict[str, Any]
) -> list[dict[str, Any]]:
    """Step 3a: one run per seed on the dataset's split."""
    train_data, val_data, test_data = _splits(
        dataset, kwargs["batch_size"], _num_neighbors(args, dataset)
    )
    done = []
    for seed in range(args.seed, args.seed + args.seeds):
        run_dir = runs.run_folder(out, "seed", seed)
        torch.manual_seed(seed)
        model = build(args.model, dataset)
        stopper = EarlyStopping("val_loss", patience=kwargs["max_epochs"])
        meta = _keyed({**_meta(args.model, dataset, args.dataset), **_settings(args, kwargs)})
        callbacks = [
            stopper,
            ModelCheckpoint(run_dir, "val_loss", meta=meta),
            CSVLogger(run_dir / "history.csv"),
        ]
        trainer = Trainer(seed=seed, callbacks=callbacks, **kwargs)
        resume = _resume_point(args, run_dir, meta)
        history = trainer.fit(model, train_data, val_data, resume=resume)
        scores = trainer.evaluate(model, test_data)
        task = trainer.fit_task
        assert task is not None  # set by fit
        run: dict[str, Any] = {
            "seed": seed,
            **task.test_record(scores),
            "epochs": len(history.epochs),
            "best_epoch": stopper.best_epoch,
            "history": history.history,
            "dir": run_dir,
        }
        print(f"seed {seed}: {task.report_line(scores)}, {len(history.epochs)} epochs")
        done.append(run)
    return done


def _settings(args: argparse.Namespace, kwargs: dict[str, Any]) -> dict[str, Any]:
    """What a seed's training depends on, kept in its checkpoints: a rerun resumes only
    under the same settings."""
    keep = ("max_epochs", "lr", "weight_decay", "scheduler", "batch_size")
    settings = {k: kwargs[k] for k in keep}
    settings.update(quick=bool(args.quick), sampled=bool(args.sampled))
    if args.sampled:
        settings["num_neighbors"] = args.num_neighbors
    return {"settings": settings}


def _keyed(meta: dict[str, Any]) -> dict[str, Any]:
    """``meta`` with the key of what a run depends on: its settings, model and data."""
    return {**meta, runs.KEY: runs.settings_key({k: meta[k] for k in KEYED})}


KEYED = ("settings", "model", "dataset")  # a checkpoint resumes only where these agree


def _resume_point(args: argparse.Namespace, run_dir: Path, meta: dict[str, Any]) -> Path | None:
    """The seed's ``last.pt`` when a run of the same settings left one (a killed run
    continues where it stopped; a finished one is not retrained), unless ``--restart``.
    Other settings: one line naming the difference."""
    saved = None if getattr(args, "restart", False) else runs.saved_meta(run_dir)
    if saved is None:
        return None
    differ = runs.differences(saved, meta, KEYED)
    if differ and runs.saved_state(run_dir, meta[runs.KEY]) is None:
        raise UsageError(
            f"{run_dir / 'last.pt'} is from a run with other settings: {'; '.join(differ)}; "
            "pass --restart to start afresh, or another --out"
        )
    return run_dir / "last.pt"


def train_folds(
    args: argparse.Namespace, dataset: LoadedDataset, out: Path, kwargs: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Step 3b: k-fold cross-validation on the dataset's folds."""
    print(
        f"{args.dataset} / {args.model}: {len(dataset.folds)}-fold cross-validation, "
        f"{kwargs['max_epochs']} epochs"
    )
    meta = {**_meta(args.model, dataset, args.dataset), **_settings(args, kwargs)}
    meta["settings"].update(folds=len(dataset.folds), seed=args.seed)  # the same splits
    meta = _keyed(meta)
    result = cross_validate(
        lambda: build(args.model, dataset),
        dataset.dataset,
        folds=dataset.folds,
        seed=args.seed,
        on_fold=print,
        fold_callbacks=lambda i: [ModelCheckpoint(runs.run_folder(out, "fold", i), meta=meta)],
        fold_resume=lambda i: _resume_point(args, runs.run_folder(out, "fold", i), meta),
        **kwargs,
    )
    done = [{**fold, "dir": runs.run_folder(out, "fold", fold["fold"])} for fold in result["folds"]]
    return done, {k: v for k, v in result.items() if k.startswith("xu_protocol")}


def train(args: argparse.Namespace) -> dict[str, Any]:
    """``gconv train SOURCE MODEL``: load, build, train, report. ``SOURCE`` is a
    registered dataset, or the user's own folder of images or ``.pt`` file of graphs."""
    _check_flags(args)  # the flags' mistakes come before the data's
    recipe = RECIPES.get(args.dataset)
    if recipe is not None:
        check_fits(args.model, args.dataset)
    dataset = for_model(args.model, load(args, recipe))
    recipe = recipe or TASK_RECIPES[dataset.task]
    kwargs = _trainer_kwargs(args, recipe)
    build(args.model, dataset)  # says why not before anything is written or trained
    _num_neighbors(args, dataset)  # and so does --sampled
    # a --quick smoke test has its own folder: a full run then starts afresh instead of
    # meeting the smoke test's checkpoints (which it would refuse to resume)
    default = f"runs/{dataset.name}-{args.model}" + ("-quick" if args.quick else "")
    out = folder(args.out or default, "--out")
    main_rank = os.environ.get("RANK", "0") == "0"  # under torchrun, rank 0 holds the lock
    with run_lock(out, "gconv train") if main_rank else nullcontext():
        start = time.perf_counter()
        if dataset.folds and given(args.folds, recipe.folds):
            runs, extra = train_folds(args, dataset, out, kwargs)
        else:
            runs, extra = train_seeds(args, dataset, out, kwargs), {}
        return report(
            args, dataset, out, runs, extra, kwargs["max_epochs"], time.perf_counter() - start
        )
