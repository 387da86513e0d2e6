"""The experiment is the one carrier of what a task changes in the comparison."""

from __future__ import annotations

from typing import Any

import pytest

from gconv.compare import EXPERIMENTS, Experiment, Protocol, get_rows, row_ids, to_markdown
from gconv.compare.rows import ROWS
from gconv.train import ImageTask, SegmentationTask


def test_each_experiment_reports_its_training_tasks_main_metric() -> None:
    assert Protocol().metric == ImageTask.metric == "accuracy"
    segmentation = Protocol.for_task("segmentation")
    assert segmentation.metric == SegmentationTask.metric == "mean_iou"
    assert segmentation.experiment.metric_label == "mean IoU"
    assert (segmentation.epochs, segmentation.batch_size, segmentation.version) == (80, 8, 3)
    assert segmentation.canvases == (6000, 1000, 2000)  # mnist_seg's own split
    assert Protocol.for_task("segmentation", quick=True).canvases == (100, 20, 50)
    assert Protocol().version == 2  # segmentation's version 3 leaves classification's seeds
    for name, experiment in EXPERIMENTS.items():
        assert row_ids(name) == [r.id for r in experiment.rows]
        if experiment.twin is not None:  # both rows of the check are runnable
            assert [r.id for r in get_rows(list(experiment.twin), name)] == list(experiment.twin)


def test_the_default_protocols_are_the_ones_the_committed_seeds_were_trained_under() -> None:
    # results/compare's seeds carry this key; a change to a row's network or data must
    # bump Protocol.version deliberately (and retrain), never happen by a refactor
    assert Protocol().key() == "cf469c8d459c"
    assert Protocol.for_task("segmentation").key() == "6b56b9ff57fc"  # 80 epochs


def test_an_unknown_task_names_the_experiments() -> None:
    with pytest.raises(ValueError, match=r"task must be one of.*classification.*segmentation"):
        Protocol(task="detection")


class _TopOne(ImageTask):
    name = "top_one"
    report_metrics = (("accuracy", "top-1"),)


def _report(task: str) -> dict[str, Any]:
    row = {
        "id": "mlp/pixels",
        "params": 99_775,
        "accuracy": 0.5,
        "accuracy_std": 0.01,
        "accuracies": [0.49, 0.51],
        "published": None,
        "seconds_per_epoch": 2.0,
        "graphs_per_second": 500.0,
    }
    return {"protocol": Protocol.for_task(task, seeds=2).as_dict(), "rows": [row]}


def test_a_registered_experiment_is_reported_in_its_own_terms(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    experiment = Experiment(
        name="top_one",
        help="an MLP, named in top-1 terms",
        task=_TopOne,
        rows=(ROWS[0],),
        extra_rows=(),
        load=lambda protocol, root: None,  # type: ignore[arg-type,return-value]
        data=lambda p: "random images",
        per_seed="accuracies",
        unit="images",
    )
    monkeypatch.setitem(EXPERIMENTS, "top_one", experiment)
    text = to_markdown(_report("top_one"))
    assert "| test top-1 % (mean ± std) |" in text and "| images / s (training) |" in text
    assert "published %" not in text  # it has no published figures
    assert "| `mlp/pixels` | 99,775 | 50.00 ± 1.00 | 49.00, 51.00 |" in text
    assert "random images; 48 epochs, 2 seeds" in text
    classic = to_markdown(_report("classification"))
    assert "| test accuracy % (mean ± std) |" in classic and "| published % |" in classic


def test_a_published_figure_is_shown_as_published() -> None:
    report = _report("classification")
    report["rows"][0]["published"] = 0.90705  # Dwivedi et al.'s GCN: 90.705
    assert "| 90.705 |" in to_markdown(report)  # not 90.70, a float's rounding down


def test_the_report_says_what_its_epoch_count_rests_on() -> None:
    chosen = to_markdown(_report("classification"))
    assert "48 epochs were chosen on validation data" in chosen
    report = _report("segmentation")
    report["rows"][0] |= {"mean_iou": 0.5, "mean_iou_std": 0.01, "mean_ious": [0.49, 0.51]}
    assert "80 epochs are this machine's budget, not the validation rule" in to_markdown(report)
    report["protocol"]["epochs"] = 5  # a count the default's reasons do not cover
    assert "budget" not in to_markdown(report) and "validation rule" not in to_markdown(report)
