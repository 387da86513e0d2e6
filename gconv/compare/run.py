"""Running the comparison: one resumable training per row and seed.

Each (row, seed) trains in its own folder under ``out/runs/``. ``last.pt`` is written
after every epoch (after the epoch's test pass, so it holds the whole curve and the
random state that the next epoch starts from) and ``result.json`` when the seed is done,
both tagged with the protocol's key: the same command after an interruption, a kill
included, skips finished seeds, resumes an unfinished one from its last epoch exactly
as if it had not stopped, and never reuses results of another protocol.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

import torch
from torch_geometric.nn import MessagePassing

from gconv.compare.inputs import Inputs
from gconv.compare.protocol import (
    Protocol,
    Row,
    count_parameters,
    get_rows,
    row_model,
    row_width,
)
from gconv.convert import cnn_to_gnn
from gconv.errors import GconvValueError
from gconv.train import EarlyStopping, ModelCheckpoint, TestCurve, Trainer, load_checkpoint, runs


def run_dir(out: Path, row: Row, seed: int) -> Path:
    """Where one seed of one row keeps its checkpoints and ``result.json``."""
    return runs.run_folder(out / "runs" / row.id.replace("/", "-"), "seed", seed)


def train_seed(
    row: Row, seed: int, protocol: Protocol, inputs: Inputs, out: Path, progress: bool
) -> dict[str, Any]:
    """One seed of one row: read if finished under this protocol, else trained (resumed
    from its last epoch if one was saved under this protocol)."""
    directory = run_dir(out, row, seed)
    key = protocol.key()
    result = finished_result(directory, protocol)
    if result is not None:
        return result
    source = get_rows([row.start], protocol.task)[0] if row.start else None
    width = row_width(source or row, protocol)  # a row that starts from another: its width
    train, val, test = inputs.splits(row)
    torch.manual_seed(seed)
    model = row_model(row, width, protocol)
    before: dict[str, Any] = {}
    if source is not None:  # the source row's trained weights, and what they score as is
        start, weights = trained_weights(source, seed, protocol, inputs, out, progress)
        model.load_state_dict(load_checkpoint(start)["model"])
        judge = Trainer(max_epochs=1, batch_size=protocol.batch_size, progress=False)
        metric = protocol.metric
        before = {
            f"{metric}_before_training": judge.evaluate(model, test)[metric],
            f"val_{metric}_before_training": judge.evaluate(model, val)[metric],
            "started_from": f"{source.id} {weights}",
        }
    curve = TestCurve(test, protocol.metric)
    checkpoint = ModelCheckpoint(directory, "val_loss", meta={runs.KEY: key, "row": row.id})
    callbacks: list[Any] = [curve, checkpoint]  # the curve first: see TestCurve
    if protocol.patience is not None:  # until validation stops improving
        callbacks.append(EarlyStopping(f"val_{protocol.metric}", patience=protocol.patience))
    trainer = Trainer(
        max_epochs=protocol.epochs,
        optimizer=protocol.optimizer,
        lr=protocol.lr,
        scheduler=protocol.schedule,
        batch_size=protocol.batch_size,
        seed=seed,
        progress=progress,
        amp=protocol.amp,
        callbacks=callbacks,
    )
    resume = directory / "last.pt" if saved_state(directory, protocol) is not None else None
    history = trainer.fit(model, train, val, resume=resume)
    n_train = len(inputs.data.train)
    seconds = statistics.fmean(history.history["seconds"])
    val_curve = history.history[f"val_{protocol.metric}"]
    best = max(range(len(val_curve)), key=val_curve.__getitem__)  # the first best epoch
    result = {
        "row": row.id,
        "seed": seed,
        runs.KEY: key,
        "width": width,
        "params": count_parameters(model),
        protocol.metric: curve.accuracy[-1],  # the last epoch's model, on test
        f"{protocol.metric}_at_best_val": curve.accuracy[best],
        "best_val_epoch": best + 1,
        "stopped_early": len(history.epochs) < protocol.epochs,
        "seconds_per_epoch": seconds,
        "graphs_per_second": n_train / seconds,
        "threads": torch.get_num_threads(),
        **before,
        "history": {
            "epoch": [e + 1 for e in history.epochs],
            f"test_{protocol.metric}": curve.accuracy,
            "train_seconds": curve.seconds,
            "loss": history.history["loss"],
            f"val_{protocol.metric}": val_curve,
        },
    }
    runs.save_result(directory, result)
    return result


def finished_result(directory: Path, protocol: Protocol) -> dict[str, Any] | None:
    """The seed's ``result.json`` in ``directory`` if it finished under ``protocol``."""
    return runs.finished_result(directory, protocol.key(), lambda r: finished(r, protocol))


def saved_state(directory: Path, protocol: Protocol) -> dict[str, Any] | None:
    """The seed's ``last.pt`` in ``directory`` if it was saved under ``protocol``."""
    return runs.saved_state(directory, protocol.key())


def finished(result: dict[str, Any], protocol: Protocol) -> bool:
    """A result of every epoch, or of every epoch until validation stopped improving
    (``patience``): anything shorter is retrained, never averaged."""
    history = result.get("history", {})
    lengths = {
        len(history.get(key, ()))
        for key in ("epoch", f"test_{protocol.metric}", "train_seconds", f"val_{protocol.metric}")
    }
    if len(lengths) != 1:
        return False
    (length,) = lengths
    stopped = protocol.patience is not None and bool(result.get("stopped_early"))
    return length == protocol.epochs or (stopped and 0 < length < protocol.epochs)


def trained_weights(
    row: Row, seed: int, protocol: Protocol, inputs: Inputs, out: Path, progress: bool
) -> tuple[Path, str]:
    """The ``last.pt`` of one seed of ``row`` (trained first if it is not finished),
    and where it came from. The repository keeps each seed's ``result.json``, not its
    checkpoint: where a finished seed's ``last.pt`` is not on this machine, the seed is
    trained again under the same protocol into ``out/twin/``, and the answer says so."""
    checkpoint = run_dir(out, row, seed) / "last.pt"
    if finished_result(run_dir(out, row, seed), protocol) is None:
        train_seed(row, seed, protocol, inputs, out, progress)
    if checkpoint.is_file():
        return checkpoint, f"seed {seed}"
    checkpoint = run_dir(out / "twin", row, seed) / "last.pt"
    if not checkpoint.is_file():  # a result without its weights is of no use here
        (checkpoint.parent / "result.json").unlink(missing_ok=True)
    retrained = train_seed(row, seed, protocol, inputs, out / "twin", progress)
    metric = protocol.metric
    return checkpoint, (
        f"seed {seed} trained again ({metric} {retrained[metric]:.4f}): its checkpoint was "
        "not on this machine"
    )


def summarize_row(row: Row, seeds: list[dict[str, Any]], protocol: Protocol) -> dict[str, Any]:
    """One row of ``compare.json``: mean and spread over seeds, and each seed (of test
    accuracy, or of mean IoU for segmentation)."""
    metric = protocol.metric
    accuracies = [s[metric] for s in seeds]
    best = f"{metric}_at_best_val"
    spread = runs.mean_and_spread(
        [{**s, best: s.get(best, s[metric])} for s in seeds], [metric, best]
    )
    lengths = [len(s["history"]["epoch"]) for s in seeds]
    epochs = max(lengths)
    if protocol.patience is None and set(lengths) != {protocol.epochs}:
        raise GconvValueError(
            f"compare: {row.id} has seeds of {sorted(set(lengths))} epochs; the protocol "
            f"trains {protocol.epochs}"
        )
    # a seed stopped early keeps its last figures for the epochs it did not train
    per_epoch = {
        key: [
            statistics.fmean(s["history"][key][min(e, len(s["history"][key]) - 1)] for s in seeds)
            for e in range(epochs)
        ]
        for key in (f"test_{metric}", f"val_{metric}", "train_seconds")
    }
    return {
        "id": row.id,
        "model": row.model,
        "input": row.input.name,
        "width": seeds[0]["width"],
        "params": seeds[0]["params"],
        metric: spread[metric],
        f"{metric}_std": spread[f"{metric}_std"],
        protocol.experiment.per_seed: accuracies,
        best: spread[best],
        f"{best}_std": spread[f"{best}_std"],
        "published": row.published.get(protocol.dataset),
        "epochs": epochs,
        "epochs_per_seed": lengths,
        "seconds_per_epoch": statistics.fmean(s["seconds_per_epoch"] for s in seeds),
        "graphs_per_second": statistics.fmean(s["graphs_per_second"] for s in seeds),
        **_before_training(row, seeds, metric),
        "history": {"epoch": list(range(1, epochs + 1)), **per_epoch},
    }


def _before_training(row: Row, seeds: list[dict[str, Any]], metric: str) -> dict[str, Any]:
    """A row that starts from another's weights: that row, and what the weights scored
    before this row's training, mean and spread over seeds, and each seed."""
    key = f"{metric}_before_training"
    if row.start is None or not all(key in s for s in seeds):
        return {}
    spread = runs.mean_and_spread(seeds, [key])
    per_seed = [s[key] for s in seeds]
    return {
        "start": row.start,
        key: spread[key],
        f"{key}_std": spread[f"{key}_std"],
        f"{key}_per_seed": per_seed,
    }


def same_function_check(
    out: Path, inputs: Inputs, protocol: Protocol, progress: bool = False
) -> dict[str, Any]:
    """The trained CNN (seed 0) converted by :func:`gconv.convert.cnn_to_gnn` must
    predict what the CNN predicts on every test image of the twin row's input (pixel
    grids): ``grid_gnn`` for ``grid_cnn``, and for segmentation ``grid_fcn`` for
    ``fcn``, on every pixel. It runs as message passing: every convolution and pool
    through PyG's ``propagate`` (counted), never a stencil on the image view.

    The repository keeps each seed's ``result.json``, not its checkpoint: where seed 0's
    ``last.pt`` is not on this machine, seed 0 of the CNN is trained again under the same
    protocol into ``out/twin/`` and the check says so (``weights``)."""
    twin = protocol.experiment.twin
    if twin is None:
        raise GconvValueError(f"compare: experiment {protocol.task!r} has no twin to check")
    rows = {r.id: r for r in get_rows(list(twin), protocol.task)}
    cnn_row, gnn_row = rows[twin[0]], rows[twin[1]]
    checkpoint, weights = trained_weights(cnn_row, 0, protocol, inputs, out, progress)
    state = load_checkpoint(checkpoint)["model"]
    cnn = row_model(cnn_row, row_width(cnn_row, protocol), protocol)
    cnn.load_state_dict(state)
    gnn = cnn_to_gnn(cnn, path="message_passing")  # every message through propagate
    calls = [0]

    def count(*_: Any) -> None:
        calls[0] += 1

    hooks = [
        m.register_propagate_forward_hook(count)
        for m in gnn.modules()
        if isinstance(m, MessagePassing)
    ]
    trainer = Trainer(max_epochs=1, batch_size=protocol.batch_size, progress=False)
    test = inputs.data.test
    start = time.perf_counter()
    cnn_logits = trainer.predict(cnn, test)
    cnn_seconds = time.perf_counter() - start
    start = time.perf_counter()
    gnn_logits = trainer.predict(gnn, inputs.splits(gnn_row)[2])
    gnn_seconds = time.perf_counter() - start
    for hook in hooks:
        hook.remove()
    if cnn_logits.dim() == 4:  # [B, K, H, W]: as the grid's nodes, [B*H*W, K]
        cnn_logits = cnn_logits.permute(0, 2, 3, 1).reshape(-1, cnn_logits.size(1))
    name = gnn_row.model
    return {
        f"{name}_with_cnn_weights_identical_predictions": bool(
            torch.equal(cnn_logits.argmax(1), gnn_logits.argmax(1))
        ),
        "path": "message passing (propagate)",
        "weights": weights,
        "propagate_calls": calls[0],
        "max_abs_logit_difference": float((cnn_logits - gnn_logits).abs().max()),
        "test_images": len(test),
        "predictions": len(cnn_logits),
        "cnn_graphs_per_second": len(test) / cnn_seconds,
        f"{name}_graphs_per_second": len(test) / gnn_seconds,
        "seconds": cnn_seconds + gnn_seconds,
    }
