"""``gconv compare``: a CNN against graph networks on the same images, one budget.

Every model trains on the same MNIST split with the same trainer, optimizer (Adam),
cosine schedule and epoch budget; only what the model sees differs: pixels, the pixel
grid as a graph (with offset-typed weights, or isotropic), or SLIC superpixel graphs.
The learning rate is per family (3e-3 for the convolutional rows, 1e-3 for GCN and GIN)
and recorded with each row.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gconv.data import GridGraphLoader, load_dataset
from gconv.data.root import data_root
from gconv.models import build_model
from gconv.train import Trainer

QUICK_LIMIT = 600


# graph networks on 1-3 features: width 64, no input dropout, a mean readout; a sum
# readout at lr 3e-3 left GIN on superpixels at 0.30 (0.78 with these after 6 epochs)
GRAPH_KWARGS = {"hidden_channels": 64, "readout": "mean"}
GRAPH_LR, GRID_LR = 1e-3, 3e-3


@dataclass
class Row:
    model: str
    input: str
    build: Callable[[], nn.Module]
    data: tuple[Any, Any, Any]  # train, val, test
    lr: float


def _superpixel_splits(mnist: Any, root: Path, quick: bool, progress: bool) -> tuple[Any, Any, Any]:
    from gconv.data.superpixels import superpixel_dataset

    tag = f"-limit{QUICK_LIMIT}" if quick else ""
    folder = root / "MNIST" / "superpixels"
    return tuple(  # type: ignore[return-value]
        superpixel_dataset(split, folder / f"{name}{tag}.pt", progress=progress)
        for name, split in (("train", mnist.train), ("val", mnist.val), ("test", mnist.test))
    )


def _rows(mnist: Any, root: Path, quick: bool, batch_size: int, progress: bool) -> list[Row]:
    def grid(split: Any, shuffle: bool = False, positions: bool = False) -> GridGraphLoader:
        return GridGraphLoader(split, batch_size, shuffle, positions=positions)

    pixels = (mnist.train, mnist.val, mnist.test)
    grids = (grid(mnist.train, True), grid(mnist.val), grid(mnist.test))
    grids_pos = (
        grid(mnist.train, True, True),
        grid(mnist.val, positions=True),
        grid(mnist.test, positions=True),
    )
    shape = mnist.input_shape

    def image_model(name: str) -> Callable[[], nn.Module]:
        return lambda: build_model(name, in_channels=1, num_classes=10, input_shape=shape)

    def graph_model(name: str, channels: int) -> Callable[[], nn.Module]:
        kwargs: dict[str, Any] = dict(GRAPH_KWARGS)
        if name == "gcn":
            kwargs["dropout"] = 0.0
        return lambda: build_model(
            name, in_channels=channels, num_classes=10, input_kind="graphs", **kwargs
        )

    def grid_model() -> nn.Module:
        return build_model("grid_gnn", in_channels=1, num_classes=10, input_shape=shape)

    superpixels = _superpixel_splits(mnist, root, quick, progress)
    return [
        Row("mlp", "pixels", image_model("mlp"), pixels, GRID_LR),
        Row("grid_cnn", "pixels", image_model("grid_cnn"), pixels, GRID_LR),
        Row("grid_gnn", "pixel grid graph", grid_model, grids, GRID_LR),
        Row("gcn", "pixel grid graph", graph_model("gcn", 1), grids, GRAPH_LR),
        Row("gcn", "pixel grid graph + positions", graph_model("gcn", 3), grids_pos, GRAPH_LR),
        Row("gcn", "superpixel graph", graph_model("gcn", 3), superpixels, GRAPH_LR),
        Row("gin", "superpixel graph", graph_model("gin", 3), superpixels, GRAPH_LR),
    ]


def _timed_predict(trainer: Trainer, model: nn.Module, test: Any) -> tuple[torch.Tensor, float]:
    """Test-set logits and the seconds they took."""
    start = time.perf_counter()
    logits = trainer.predict(model, test)
    return logits, time.perf_counter() - start


def run_compare(
    *,
    dataset: str = "mnist",
    epochs: int = 5,
    seed: int = 0,
    quick: bool = False,
    out: str | Path = "runs/compare",
    root: str | None = None,
    batch_size: int = 64,
    progress: bool = True,
) -> dict[str, Any]:
    """Trains every row on the same split and budget; writes ``compare.json``, ``.md``
    and ``.png`` to ``out`` and returns what ``compare.json`` holds."""
    if dataset != "mnist":
        raise ValueError(f"run_compare: dataset must be 'mnist' (got {dataset!r})")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    mnist = load_dataset("mnist", root=root, limit=QUICK_LIMIT if quick else None)
    n_test = len(mnist.test)
    results, models = [], {}
    for row in _rows(mnist, data_root(root), quick, batch_size, progress):
        torch.manual_seed(seed)
        model = row.build()
        trainer = Trainer(
            max_epochs=epochs,
            lr=row.lr,
            scheduler="cosine",
            batch_size=batch_size,
            seed=seed,
            progress=progress,
        )
        train, val, test = row.data
        history = trainer.fit(model, train, val)
        scores = trainer.evaluate(model, test)
        logits, seconds = _timed_predict(trainer, model, test)
        result = {
            "model": row.model,
            "input": row.input,
            "test_accuracy": scores["accuracy"],
            "lr": row.lr,
            "params": sum(p.numel() for p in model.parameters()),
            "train_seconds_per_epoch": statistics.fmean(history.history["seconds"]),
            "inference_images_per_second": n_test / seconds,
        }
        print(
            f"{row.model:9s} {row.input:30s} test accuracy {result['test_accuracy']:.4f} "
            f"{result['train_seconds_per_epoch']:7.1f} s/epoch"
        )
        results.append(result)
        models[(row.model, row.input)] = (model, trainer, logits)
    checks = _same_function_check(models, mnist, batch_size)
    report = {
        "dataset": dataset,
        "epochs": epochs,
        "seed": seed,
        "quick": quick,
        "rows": results,
        "checks": checks,
    }
    (out / "compare.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "compare.md").write_text(to_markdown(report))
    plot_compare(results, out / "compare.png")
    return report


def _same_function_check(models: dict[Any, Any], mnist: Any, batch_size: int) -> dict[str, Any]:
    """``grid_gnn`` with the trained CNN's weights copied in must predict what it predicts."""
    cnn, trainer, cnn_logits = models[("grid_cnn", "pixels")]
    gnn = build_model("grid_gnn", in_channels=1, num_classes=10, input_shape=mnist.input_shape)
    gnn.load_state_dict(cnn.state_dict())
    gnn_logits = trainer.predict(gnn, GridGraphLoader(mnist.test, batch_size))
    same = bool(torch.equal(cnn_logits.argmax(1), gnn_logits.argmax(1)))
    return {
        "grid_gnn_with_cnn_weights_identical_predictions": same,
        "max_abs_logit_difference": float((cnn_logits - gnn_logits).abs().max()),
    }


def to_markdown(report: dict[str, Any]) -> str:
    lines = [
        "| model | input | test accuracy | params | s / epoch | images / s (inference) |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in report["rows"]:
        lines.append(
            f"| `{r['model']}` | {r['input']} | {r['test_accuracy']:.4f} | {r['params']:,d} "
            f"| {r['train_seconds_per_epoch']:.1f} | {r['inference_images_per_second']:,.0f} |"
        )
    check = report["checks"]
    lines.append("")
    lines.append(
        "`grid_gnn` with the trained CNN's weights: identical predictions "
        f"{check['grid_gnn_with_cnn_weights_identical_predictions']}, largest logit "
        f"difference {check['max_abs_logit_difference']:.2e}."
    )
    return "\n".join(lines) + "\n"


def plot_compare(rows: list[dict[str, Any]], path: Path) -> Any:
    from gconv.viz._figure import pyplot, save

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for i, r in enumerate(rows):
        point = (r["train_seconds_per_epoch"], r["test_accuracy"])
        ax.scatter(*point, s=40)
        # staggered labels: the CNN and its graph twin sit on top of each other
        ax.annotate(
            f"{r['model']} ({r['input']})",
            point,
            fontsize=7,
            xytext=(5, (-12, 3, 12)[i % 3]),
            textcoords="offset points",
        )
    ax.set_xscale("log")
    ax.set_xlabel("seconds per training epoch (log)")
    ax.set_ylabel("test accuracy")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return save(fig, path)
