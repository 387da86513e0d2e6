"""The comparison's report: ``compare.json``, the ``compare.md`` table, ``compare.png``."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from gconv._checks import plural
from gconv._io import save_atomic_text, save_figure
from gconv.compare.experiments import Experiment, get_experiment


def write_report(report: dict[str, Any], out: Path) -> None:
    save_atomic_text(json.dumps(report, indent=2) + "\n", out / "compare.json")
    save_atomic_text(to_markdown(report), out / "compare.md")
    experiment = _experiment(report)
    plot_compare(report["rows"], out / "compare.png", experiment.metric, experiment.metric_label)


def _experiment(report: dict[str, Any]) -> Experiment:
    return get_experiment(report["protocol"].get("task", "classification"))  # v1 had none


def _published(value: float | None) -> str:
    """As the paper gives it, to three decimals (90.705): rounding to two would put a
    float's 90.70499... under its 90.71."""
    return "" if value is None else f"{100 * value:.3f}"


def _rate(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def to_markdown(report: dict[str, Any]) -> str:
    """``compare.md``: a row per model with its mean, spread and seeds of the
    experiment's metric (at the last epoch, and at the best validation epoch), its
    published figure where the experiment has them, and its speed; then the protocol."""
    p, experiment = report["protocol"], _experiment(report)
    metric, label = experiment.metric, experiment.metric_label
    whose = experiment.published.get(p.get("dataset", "mnist"))  # v2 reports: MNIST
    published = whose is not None
    lines = [
        f"| row | params | test {label} % (mean ± std) | per seed "
        "| at the best validation epoch % "
        + ("| published % " if published else "")
        + f"| s / epoch | {experiment.unit} / s (training) |",
        "| --- | ---: | ---: | --- | ---: | " + ("---: | " if published else "") + "---: | ---: |",
    ]
    for r in report["rows"]:
        seeds = ", ".join(f"{100 * a:.2f}" for a in r[experiment.per_seed])
        best = r.get(f"{metric}_at_best_val")
        at_best = (
            "" if best is None else f"{100 * best:.2f} ± {100 * r[f'{metric}_at_best_val_std']:.2f}"
        )
        lines.append(
            f"| `{r['id']}` | {r['params']:,d} | {100 * r[metric]:.2f} ± "
            f"{100 * r[f'{metric}_std']:.2f} | {seeds} | {at_best} | "
            + (f"{_published(r['published'])} | " if published else "")
            + f"{r['seconds_per_epoch']:.1f} | {_rate(r['graphs_per_second'])} |"
        )
    source = f"published: {whose}" if published else "no published figures exist for these data"
    epochs = plural(p["epochs"], "epoch")
    if p.get("patience") is not None:  # other data than MNIST's: until validation stalls
        trained = sorted({e for r in report["rows"] for e in r.get("epochs_per_seed", [])})
        spans = f"{trained[0]} to {trained[-1]}" if trained else "no"
        epochs = (
            f"every row trained until its validation {label} had not improved for "
            f"{p['patience']} epochs (at most {p['epochs']}; the seeds trained {spans} "
            "epochs)"
        )
    lines += [
        "",
        f"{experiment.data(p)}; {epochs}, {plural(p['seeds'], 'seed')}, "
        f"{p['budget']:,} parameters (±10%), {p['layers']} layers, {p['optimizer']} at lr "
        f"{p['lr']} with a {p['schedule']} schedule, batch {p['batch_size']}, bfloat16 "
        f"autocast {'on' if p.get('amp') else 'off'}; the last epoch's model on test (and, "
        f"labelled, the model of the best validation epoch); {source}.",
    ]
    if report.get("split_method"):
        lines.append(f"Splits: {report['split_method']}.")
    if p["epochs"] in experiment.epochs_basis and p.get("patience") is None:
        lines.append(experiment.epochs_basis[p["epochs"]] + ".")
    return "\n".join(lines + _check_lines(report) + _start_lines(report, metric)) + "\n"


def _check_lines(report: dict[str, Any]) -> list[str]:
    check = report.get("checks")
    if not check:
        return []
    twin = next(k for k in check if k.endswith("_identical_predictions"))
    return [
        f"`{twin.split('_with_')[0]}` with the trained CNN's weights: identical "
        f"predictions {check[twin]} on {check['test_images']:,} test images, largest "
        f"logit difference {check['max_abs_logit_difference']:.2e}"
        + (
            f", through {check['path']} ({check['propagate_calls']:,} calls)"
            if "path" in check
            else ""
        )
        + (f"; weights: {check['weights']}." if "weights" in check else ".")
    ]


def _start_lines(report: dict[str, Any], metric: str) -> list[str]:
    """Each row that starts from another row's trained weights: what they scored as
    converted, before any training on this row's input, and after it, beside the rows
    it is read against."""
    rows = {r["id"]: r for r in report["rows"]}
    lines = []
    for r in report["rows"]:
        before = r.get(f"{metric}_before_training")
        if before is None:
            continue
        seeds = ", ".join(f"{100 * a:.2f}" for a in r[f"{metric}_before_training_per_seed"])
        source = rows.get(r["start"])
        trained = (
            f"; `{r['start']}` itself: {_figure(source, metric)}" if source is not None else ""
        )
        lines += [
            "",
            f"`{r['id']}` starts from the trained weights of `{r['start']}` (the same seed), "
            f"converted by `gconv.convert.cnn_to_gnn`: test {metric} as converted, before "
            f"any training on its input, {100 * before:.2f} ± "
            f"{100 * r[f'{metric}_before_training_std']:.2f} (seeds: {seeds}); after "
            f"{plural(r['epochs'], 'epoch')} of training under the protocol, "
            f"{_figure(r, metric)}{trained}.",
        ]
    return lines


def _figure(row: dict[str, Any], metric: str) -> str:
    return f"{100 * row[metric]:.2f} ± {100 * row[f'{metric}_std']:.2f}"


def plot_compare(
    rows: list[dict[str, Any]], path: Path, metric: str = "accuracy", name: str | None = None
) -> Any:
    """Validation accuracy (or ``metric``, called ``name`` on the axes) against epoch
    (the curves the epoch count is read from), test accuracy against training seconds
    for every row, and the final test figure of each row with its spread over seeds
    beside the published figure."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    label = f"test {name or metric}"
    fig = Figure(figsize=(16, 5))
    by_epoch, by_time, bars = fig.subplots(1, 3)
    for r in rows:
        h = r["history"]
        test = h[f"test_{metric}"]
        val = h.get(f"val_{metric}", test)  # reports before v2 had no val curve
        marker = "o" if len(h["epoch"]) <= 12 else None  # markers only where lines are short
        by_epoch.plot(h["epoch"], val, marker=marker, label=r["id"])
        by_time.plot(h["train_seconds"], test, marker=marker, label=r["id"])
    by_epoch.set(xlabel="epoch", ylabel=f"{label.replace('test', 'validation')} (mean over seeds)")
    by_epoch.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole
    by_time.set(xlabel="training seconds (log)", ylabel=label, xscale="log")
    positions = range(len(rows))
    # points, not bars: the axis starts near the lowest figure, and a cut bar would mislead
    bars.errorbar(
        [r[metric] for r in rows],
        list(positions),
        xerr=[r[f"{metric}_std"] for r in rows],
        fmt="o",
        capsize=3,
        label="ours",
    )
    published = [(i, r["published"]) for i, r in enumerate(rows) if r.get("published")]
    if published:
        bars.scatter(
            [p for _, p in published],
            [i for i, _ in published],
            marker="x",
            color="black",
            zorder=3,
            label="published",
        )
    for i, r in enumerate(rows):
        bars.annotate(
            f"{100 * r[metric]:.2f}",
            (r[metric], i),
            xytext=(4, 6),
            textcoords="offset points",
            fontsize=7,
        )
    # above the axes: inside, it hid the points of the rows at the right of the scale
    bars.legend(fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)
    bars.set_yticks(list(positions), [r["id"] for r in rows], fontsize=8)
    bars.invert_yaxis()
    bars.set(xlabel=f"{label} (mean ± std over seeds)", xlim=_bar_limits(rows, metric))
    for ax in (by_epoch, by_time, bars):
        ax.grid(alpha=0.3)
    if rows:
        by_epoch.legend(fontsize=6)
    fig.tight_layout()
    save_figure(fig, path, dpi=100)
    return fig


def _bar_limits(rows: list[dict[str, Any]], metric: str) -> tuple[float, float]:
    """The bar axis from a little under the lowest figure (published ones included) to 1,
    in steps of 5 points, so rows a point apart do not look the same."""
    lows = [r[metric] - r[f"{metric}_std"] for r in rows]
    lows += [r["published"] for r in rows if r.get("published")]
    if not lows:
        return (0.0, 1.0)
    return (max(0.0, math.floor(20 * min(lows) - 0.5) / 20), 1.0)
