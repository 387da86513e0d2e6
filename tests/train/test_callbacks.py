from types import SimpleNamespace

import pytest
import torch

from gconv.train import EarlyStopping


def _run(stopper: EarlyStopping, values: list[float], monitor: str = "val_loss") -> int | None:
    trainer = SimpleNamespace(should_stop=False)
    model = torch.nn.Linear(1, 1)
    for epoch, value in enumerate(values):
        with torch.no_grad():
            model.weight.fill_(value)  # tag the weights with the epoch's value
        stopper.on_epoch_end(trainer, model, epoch, {monitor: value})
        if trainer.should_stop:
            stopper.on_fit_end(trainer, model)
            return epoch
    stopper.on_fit_end(trainer, model)
    return None


@pytest.mark.parametrize(
    ("losses", "patience", "min_delta", "stop_epoch", "best_epoch"),
    [
        ([1.0, 0.9, 0.8, 0.7, 0.6], 2, 0.0, None, 4),  # always improving: never stops
        ([1.0, 0.5, 0.6, 0.7, 0.4], 2, 0.0, 3, 1),  # two epochs without improvement
        ([1.0, 0.5, 0.6, 0.4, 0.45, 0.5, 0.6], 3, 0.0, 6, 3),  # waiting resets on improvement
        ([1.0, 1.2], 0, 0.0, 1, 0),  # patience 0: the first miss stops
        ([1.0, 0.99, 0.98, 0.97], 2, 0.05, 2, 0),  # improvements below min_delta do not count
        ([1.0, 1.0, 1.0], 1, 0.0, 1, 0),  # equal is not better
    ],
)
def test_early_stopping_table(
    losses: list[float], patience: int, min_delta: float, stop_epoch: int | None, best_epoch: int
) -> None:
    stopper = EarlyStopping("val_loss", patience=patience, min_delta=min_delta)
    assert _run(stopper, losses) == stop_epoch
    assert stopper.best_epoch == best_epoch


def test_mode_auto_maximizes_accuracy_and_restores_best_weights() -> None:
    stopper = EarlyStopping("val_accuracy", patience=1)
    assert stopper.mode == "max"
    trainer = SimpleNamespace(should_stop=False)
    model = torch.nn.Linear(1, 1)
    for epoch, value in enumerate([0.5, 0.8, 0.7]):
        with torch.no_grad():
            model.weight.fill_(value)
        stopper.on_epoch_end(trainer, model, epoch, {"val_accuracy": value})
    assert trainer.should_stop
    stopper.on_fit_end(trainer, model)
    assert model.weight.item() == pytest.approx(0.8)


def test_missing_monitor_is_named() -> None:
    stopper = EarlyStopping("val_loss")
    with pytest.raises(ValueError, match="monitor 'val_loss' is not logged; logged are loss"):
        stopper.on_epoch_end(
            SimpleNamespace(should_stop=False), torch.nn.Linear(1, 1), 0, {"loss": 1.0}
        )


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="EarlyStopping: patience"):
        EarlyStopping(patience=-1)
    with pytest.raises(ValueError, match="EarlyStopping: mode must be one of"):
        EarlyStopping(mode="up")


def test_mode_auto_takes_the_direction_from_the_fit_task(tmp_path) -> None:
    """``val_mean_iou`` rises: a segmentation fit's early stopping and checkpoint keep
    its highest epoch (a name-based guess made it a loss, to be minimized)."""
    from torch.utils.data import TensorDataset

    from gconv.train import ModelCheckpoint, Trainer

    torch.manual_seed(0)
    images = torch.randn(16, 1, 6, 6)
    masks = (images[:, 0] > 0).long()  # a pixel's class is its sign
    data = TensorDataset(images, masks)
    stopper = EarlyStopping("val_mean_iou", patience=10, restore_best_weights=False)
    checkpoint = ModelCheckpoint(tmp_path, monitor="val_mean_iou")
    assert stopper.mode is None  # no task yet: the metric's direction is not known
    model = torch.nn.Conv2d(1, 2, 3, padding=1)
    trainer = Trainer(max_epochs=4, lr=0.05, batch_size=8, callbacks=[stopper, checkpoint])
    history = trainer.fit(model, data, data)
    assert stopper.mode == "max" and checkpoint._monitor.mode == "max"
    ious = history.history["val_mean_iou"]
    assert ious.index(max(ious)) != ious.index(min(ious))  # the two directions differ here
    assert stopper.best == max(ious) and stopper.best_epoch == ious.index(max(ious))
    assert torch.load(tmp_path / "best.pt", weights_only=False)["epoch"] == ious.index(max(ious))


def test_mode_auto_refuses_a_metric_of_unknown_direction() -> None:
    stopper = EarlyStopping("val_top5")
    with pytest.raises(ValueError, match="cannot tell whether 'val_top5' improves"):
        stopper.on_epoch_end(
            SimpleNamespace(should_stop=False), torch.nn.Linear(1, 1), 0, {"val_top5": 1.0}
        )
