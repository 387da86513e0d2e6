"""The comparison's report: ``compare.json``, the ``compare.md`` table, ``compare.png``."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from gconv._checks import plural
from gconv._io import save_atomic_text, save_figure


def write_report(report: dict[str, Any], out: Path) -> None:
    save_atomic_text(json.dumps(report, indent=2) + "\n", out / "compare.json")
    save_atomic_text(to_markdown(report), out / "compare.md")
    metric = "mean_iou" if report["protocol"].get("task") == "segmentation" else "accuracy"
    plot_compare(report["rows"], out / "compare.png", metric)


def _percent(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.2f}"


def to_markdown(report: dict[str, Any]) -> str:
    p = report["protocol"]
    if p.get("task") == "segmentation":
        return _segmentation_markdown(report)
    lines = [
        "| row | params | test accuracy % (mean ± std) | per seed "
        "| at the best validation epoch % | published % | s / epoch | graphs / s (training) |",
        "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in report["rows"]:
        seeds = ", ".join(f"{100 * a:.2f}" for a in r["accuracies"])
        best = r.get("accuracy_at_best_val")
        at_best = (
            "" if best is None else f"{100 * best:.2f} ± {100 * r['accuracy_at_best_val_std']:.2f}"
        )
        lines.append(
            f"| `{r['id']}` | {r['params']:,d} | {100 * r['accuracy']:.2f} ± "
            f"{100 * r['accuracy_std']:.2f} | {seeds} | {at_best} | {_percent(r['published'])} "
            f"| {r['seconds_per_epoch']:.1f} | {r['graphs_per_second']:,.0f} |"
        )
    lines += [
        "",
        f"{plural(p['epochs'], 'epoch')}, {plural(p['seeds'], 'seed')}, {p['budget']:,} "
        "parameters (±10%), "
        f"{p['layers']} layers, {p['optimizer']} at lr {p['lr']} with a {p['schedule']} "
        f"schedule, batch {p['batch_size']}, bfloat16 autocast {'on' if p.get('amp') else 'off'}; "
        "the last epoch's model on test (and, labelled, the model of the best validation "
        "epoch); published: Dwivedi et al., MNIST superpixels.",
    ]
    return "\n".join(lines + _check_lines(report)) + "\n"


def _segmentation_markdown(report: dict[str, Any]) -> str:
    p = report["protocol"]
    lines = [
        "| row | params | test mean IoU % (mean ± std) | per seed | s / epoch "
        "| canvases / s (training) |",
        "| --- | ---: | ---: | --- | ---: | ---: |",
    ]
    for r in report["rows"]:
        seeds = ", ".join(f"{100 * a:.2f}" for a in r["mean_ious"])
        lines.append(
            f"| `{r['id']}` | {r['params']:,d} | {100 * r['mean_iou']:.2f} ± "
            f"{100 * r['mean_iou_std']:.2f} | {seeds} | {r['seconds_per_epoch']:.1f} "
            f"| {r['graphs_per_second']:,.1f} |"
        )
    train, val, test = p["canvases"]
    lines += [
        "",
        f"mnist_seg, {train:,} training, {val:,} validation and {test:,} test canvases of "
        f"64x64, 11 classes; {plural(p['epochs'], 'epoch')}, {plural(p['seeds'], 'seed')}, "
        f"{p['budget']:,} "
        f"parameters (±10%), {p['layers']} layers, {p['optimizer']} at lr {p['lr']} with a "
        f"{p['schedule']} schedule, batch {p['batch_size']}; no published figures exist "
        "for these canvases.",
    ]
    return "\n".join(lines + _check_lines(report)) + "\n"


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
            f", through {check['path']} ({check['propagate_calls']:,} calls)."
            if "path" in check
            else "."
        )
    ]


def plot_compare(rows: list[dict[str, Any]], path: Path, metric: str = "accuracy") -> Any:
    """Validation accuracy (or ``metric``) against epoch (the curves the epoch count is
    read from), test accuracy against training seconds for every row, and the final test
    figure of each row with its spread over seeds beside the published figure."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    label = {"accuracy": "test accuracy", "mean_iou": "test mean IoU"}[metric]
    fig = Figure(figsize=(16, 5))
    by_epoch, by_time, bars = fig.subplots(1, 3)
    for r in rows:
        h = r["history"]
        val = h.get("val_accuracy", h["test_accuracy"])  # reports before v2 had no val curve
        marker = "o" if len(h["epoch"]) <= 12 else None  # markers only where lines are short
        by_epoch.plot(h["epoch"], val, marker=marker, label=r["id"])
        by_time.plot(h["train_seconds"], h["test_accuracy"], marker=marker, label=r["id"])
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
    bars.legend(fontsize=7, loc="lower right")
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
