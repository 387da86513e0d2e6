"""``gconv compare``: a CNN against graph networks on images, at one parameter budget.

Every row (a model on an input: pixels, the pixel grid as a graph, or SLIC superpixel
graphs) is solved to the same parameter budget and trained with the same protocol over
several seeds; the report has the mean, the spread, every seed, and Dwivedi et al.'s
published figure where one exists, on MNIST by default or on any image classification
data (``Protocol.for_task(dataset=...)``: a registered name or a folder of images).
``Protocol.for_task("segmentation")`` compares an FCN,
its message-passing twin and graph networks on mnist_seg by mean IoU.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gconv._checks import check_positive_int
from gconv.compare.experiments import EXPERIMENTS, Experiment, get_experiment
from gconv.compare.inputs import Inputs
from gconv.compare.protocol import Protocol, get_rows, row_ids, row_width
from gconv.compare.report import plot_compare, to_markdown, write_report
from gconv.compare.rows import EXTRA_ROWS, ROW_IDS, ROWS, SEGMENTATION_ROWS, Row
from gconv.compare.run import same_function_check, summarize_row, train_seed
from gconv.compare.workers import train_parallel

__all__ = [
    "EXPERIMENTS",
    "EXTRA_ROWS",
    "ROWS",
    "ROW_IDS",
    "SEGMENTATION_ROWS",
    "Experiment",
    "Protocol",
    "Row",
    "get_experiment",
    "get_rows",
    "plot_compare",
    "row_ids",
    "row_width",
    "run_compare",
    "to_markdown",
]


def run_compare(
    protocol: Protocol | None = None,
    *,
    rows: list[str] | None = None,
    out: str | Path = "runs/compare",
    root: str | None = None,
    progress: bool = True,
    log: Any = print,
    jobs: int = 1,
) -> dict[str, Any]:
    """Trains every row (or the ``rows`` ids) under ``protocol``, resuming what an
    interrupted run with the same protocol finished; writes ``compare.json``,
    ``compare.md`` and ``compare.png`` to ``out`` and returns the report.

    ``jobs > 1`` trains seeds in that many worker processes of ``cores // jobs``
    threads (see :mod:`gconv.compare.workers`); the report is the same.
    """
    protocol = protocol or Protocol()
    check_positive_int("compare", "jobs", jobs)
    selected = get_rows(rows, protocol.task)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    inputs = Inputs(protocol, root, progress)
    protocol = inputs.protocol = protocol.fitted(inputs.data)  # its shape, classes, digest
    results: dict[tuple[str, int], dict[str, Any]] = {}
    report: dict[str, Any] = {
        "protocol": protocol.as_dict(),
        "split_method": inputs.data.split_method,
        "rows": [],
    }

    def done(row: Row, seed: int, result: dict[str, Any]) -> None:
        results[row.id, seed] = result
        log(
            f"{row.id:22s} seed {seed}: test {protocol.experiment.metric_label} "
            f"{result[protocol.metric]:.4f}, {result['params']:,} params, "
            f"{result['seconds_per_epoch']:.1f} s/epoch"
        )
        finished = [r for r in selected if all((r.id, s) in results for s in seeds)]
        report["rows"] = [
            summarize_row(r, [results[r.id, s] for s in seeds], protocol) for r in finished
        ]
        write_report(report, out)  # after every row: a partial run has a partial report

    seeds = range(protocol.seeds)
    # seed-major: every row's first seed before any row's second, so that a run cut
    # short has one seed of every row (each row's curve) rather than all of a few
    pending = [(row, seed) for seed in seeds for row in selected]
    if jobs == 1:
        for row, seed in pending:
            done(row, seed, train_seed(row, seed, protocol, inputs, out, progress))
    else:
        for row in selected:  # graphs built and cached once, before the workers read them
            row.input.prepare(inputs)
        train_parallel(pending, protocol, out, root, jobs, done)
    twin = protocol.experiment.twin  # the CNN's twin is checked with its trained weights
    if twin is not None and any(row.id == twin[0] for row in selected):
        report["checks"] = same_function_check(out, inputs, protocol, progress)
        write_report(report, out)
    return report
