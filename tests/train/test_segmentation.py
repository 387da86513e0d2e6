"""Segmentation in the trainer: per-pixel loss with an ignore index, pixel accuracy and
IoU from a confusion matrix (against scikit-learn), on images and on pixel grids."""

import pytest
import torch
import torch.nn.functional as F
from sklearn.metrics import confusion_matrix as sk_confusion
from sklearn.metrics import jaccard_score
from torch.testing import assert_close
from torch.utils.data import DataLoader, TensorDataset

from gconv.convert import images_to_graphs
from gconv.loader import GridGraphLoader
from gconv.models import get_model
from gconv.train import (
    SegmentationTask,
    Trainer,
    confusion_matrix,
    infer_task,
    segmentation_scores,
)


def _masks(n: int = 24, size: int = 12) -> TensorDataset:
    """Images whose mask is learnable from the pixels: class 1 where bright, 2 where
    dark, 0 elsewhere, and a few ignored pixels."""
    x = torch.randn(n, 1, size, size)
    y = torch.zeros(n, size, size, dtype=torch.long)
    y[x[:, 0] > 0.5] = 1
    y[x[:, 0] < -0.5] = 2
    y[:, 0, :3] = 255
    return TensorDataset(x, y)


def test_scores_equal_scikit_learn() -> None:
    torch.manual_seed(0)
    target = torch.randint(0, 4, (2, 9, 7))
    target[0, 0] = 255
    predicted = torch.randint(0, 4, (2, 9, 7))
    predicted[target == 2] = 2  # one class right everywhere
    counts = confusion_matrix(predicted, target, 4, ignore_index=255)
    keep = target.reshape(-1) != 255
    t, p = target.reshape(-1)[keep].numpy(), predicted.reshape(-1)[keep].numpy()
    assert (counts.numpy() == sk_confusion(t, p, labels=range(4))).all()
    scores = segmentation_scores(counts)
    ious = jaccard_score(t, p, average=None, labels=range(4))
    assert scores["mean_iou"] == pytest.approx(ious.mean())
    assert [scores[f"iou_{c}"] for c in range(4)] == pytest.approx(list(ious))
    assert scores["accuracy"] == pytest.approx((t == p).mean())
    assert scores["iou_2"] == pytest.approx(sum(p[t == 2] == 2) / sum((t == 2) | (p == 2)))


def test_loss_leaves_ignored_pixels_out() -> None:
    task = SegmentationTask()
    logits = torch.randn(2, 3, 4, 5)
    target = torch.randint(0, 3, (2, 4, 5))
    target[0, :2] = 255
    keep = target != 255
    expected = F.cross_entropy(logits.permute(0, 2, 3, 1)[keep], target[keep])
    assert_close(task.loss(logits, target), expected)
    hits, counted = task.tally(logits, target)
    assert int(counted) == int(keep.sum())
    assert int(hits) == int(((logits.argmax(1) == target) & keep).sum())


def test_streamed_scores_equal_scores_of_the_whole_split() -> None:
    task = SegmentationTask()
    logits, target = torch.randn(6, 3, 5, 5), torch.randint(0, 3, (6, 5, 5))
    target[1, 2] = 255
    streamed = task.scores()
    for i in range(0, 6, 4):
        streamed.update(logits[i : i + 4], target[i : i + 4])
    whole = task.metrics(logits, target)
    assert streamed.compute() == pytest.approx(whole)
    keep = target != 255
    loss = F.cross_entropy(logits.permute(0, 2, 3, 1)[keep], target[keep])
    assert whole["loss"] == pytest.approx(float(loss))


def test_task_is_inferred_from_masks() -> None:
    data = _masks()
    assert repr(infer_task(data)) == "SegmentationTask('images_dense')"
    assert repr(infer_task(DataLoader(data, batch_size=4))) == "SegmentationTask('images_dense')"
    assert repr(infer_task(GridGraphLoader(data, 4))) == "SegmentationTask('pixel_grid_dense')"
    labels = TensorDataset(torch.randn(4, 1, 6, 6), torch.arange(4))
    assert infer_task(GridGraphLoader(labels, 2)).name == "graph"


@pytest.mark.parametrize("model_name", ["fcn", "grid_fcn"])
def test_trainer_learns_masks_on_images_and_pixel_grids(model_name) -> None:
    train, val = _masks(48), _masks(16)
    if model_name == "grid_fcn":
        train, val = GridGraphLoader(train, 8, shuffle=True), GridGraphLoader(val, 8)
    model = get_model(model_name, in_channels=1, num_classes=3, hidden_channels=(8, 16))
    trainer = Trainer(max_epochs=6, lr=1e-2, batch_size=8, seed=0, progress=False)
    history = trainer.fit(model, train, val)
    assert {"val_loss", "val_accuracy", "val_mean_iou"} <= set(history.history)
    assert "val_mean_iou" in trainer.logged_metrics
    assert history.history["val_mean_iou"][-1] > max(history.history["val_mean_iou"][0], 0.6)
    scores = trainer.evaluate(model, val)
    assert {"loss", "accuracy", "mean_iou", "macro_f1", "iou_0", "iou_1", "iou_2"} <= set(scores)
    assert scores["mean_iou"] == pytest.approx(history.history["val_mean_iou"][-1])


def test_labels_past_the_classes_are_named_but_ignored_ones_pass() -> None:
    data = _masks(8)
    model = get_model("fcn", in_channels=1, num_classes=2, hidden_channels=(4,))
    with pytest.raises(ValueError, match="train labels must be < num_classes = 2"):
        Trainer(max_epochs=1, progress=False).fit(model, data)
    x, y = data.tensors
    y = y.clamp(max=1)
    y[:, 0] = 255  # ignored: no error
    Trainer(max_epochs=1, progress=False).fit(model, TensorDataset(x, y))


def test_pixel_grid_segmentation_with_a_node_level_gcn() -> None:
    """A node-level graph network classifies every pixel node of the grids."""
    from gconv.models import build_model

    data = _masks(16)
    model = build_model("gcn", in_channels=1, num_classes=3, input_kind="pixel_grid_dense")
    assert model.input_kind == "nodes"
    trainer = Trainer(max_epochs=2, lr=1e-2, batch_size=8, seed=0, progress=False)
    trainer.fit(model, GridGraphLoader(data, 8, shuffle=True))
    batch = images_to_graphs(*data.tensors)
    assert trainer.predict(model, GridGraphLoader(data, 8)).shape == (batch.num_nodes, 3)
