"""The comparison's report: ``compare.json``, the ``compare.md`` table, ``compare.png``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gconv._io import save_atomic_text


def write_report(report: dict[str, Any], out: Path) -> None:
    save_atomic_text(json.dumps(report, indent=2) + "\n", out / "compare.json")
    save_atomic_text(to_markdown(report), out / "compare.md")
    plot_compare(report["rows"], out / "compare.png")


def _percent(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.2f}"


def to_markdown(report: dict[str, Any]) -> str:
    p = report["protocol"]
    lines = [
        "| row | params | test accuracy % (mean ± std) | per seed | published % "
        "| s / epoch | graphs / s (training) |",
        "| --- | ---: | ---: | --- | ---: | ---: | ---: |",
    ]
    for r in report["rows"]:
        seeds = ", ".join(f"{100 * a:.2f}" for a in r["accuracies"])
        lines.append(
            f"| `{r['id']}` | {r['params']:,d} | {100 * r['accuracy']:.2f} ± "
            f"{100 * r['accuracy_std']:.2f} | {seeds} | {_percent(r['published'])} "
            f"| {r['seconds_per_epoch']:.1f} | {r['graphs_per_second']:,.0f} |"
        )
    lines += [
        "",
        f"{p['epochs']} epochs, {p['seeds']} seeds, {p['budget']:,} parameters (±10%), "
        f"{p['layers']} layers, {p['optimizer']} at lr {p['lr']} with a {p['schedule']} "
        f"schedule, batch {p['batch_size']}; published: Dwivedi et al., MNIST superpixels.",
    ]
    check = report.get("checks")
    if check:
        lines.append(
            "`grid_gnn` with the trained CNN's weights: identical predictions "
            f"{check['grid_gnn_with_cnn_weights_identical_predictions']} on "
            f"{check['test_images']:,} test images, largest logit difference "
            f"{check['max_abs_logit_difference']:.2e}."
        )
    return "\n".join(lines) + "\n"


def plot_compare(rows: list[dict[str, Any]], path: Path) -> Any:
    """Test accuracy against epoch and against training seconds for every row, and the
    final accuracy of each row with its spread over seeds."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(16, 5))
    by_epoch, by_time, bars = fig.subplots(1, 3)
    for r in rows:
        h = r["history"]
        by_epoch.plot(h["epoch"], h["test_accuracy"], marker="o", label=r["id"])
        by_time.plot(h["train_seconds"], h["test_accuracy"], marker="o", label=r["id"])
    by_epoch.set(xlabel="epoch", ylabel="test accuracy (mean over seeds)")
    by_time.set(xlabel="training seconds (log)", ylabel="test accuracy", xscale="log")
    positions = range(len(rows))
    bars.barh(
        list(positions),
        [r["accuracy"] for r in rows],
        xerr=[r["accuracy_std"] for r in rows],
        capsize=3,
    )
    bars.set_yticks(list(positions), [r["id"] for r in rows], fontsize=7)
    bars.invert_yaxis()
    bars.set(xlabel="test accuracy (mean ± std over seeds)", xlim=(0, 1))
    for ax in (by_epoch, by_time, bars):
        ax.grid(alpha=0.3)
    by_epoch.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return fig
