import pytest

from gconv.models import get_model
from gconv.train import cross_validate


def test_cross_validate_on_mutag(mutag) -> None:
    result = cross_validate(
        lambda: get_model("gin", in_channels=7, num_classes=2, hidden_channels=16, readout="sum"),
        mutag.dataset,
        folds=3,
        max_epochs=4,
        lr=0.01,
        batch_size=32,
        progress=False,
    )
    assert [f["fold"] for f in result["folds"]] == [0, 1, 2]
    accuracies = [f["test_accuracy"] for f in result["folds"]]
    assert result["test_accuracy"] == pytest.approx(sum(accuracies) / 3)
    assert 0 <= result["xu_protocol_epoch"] < 4
    assert all(0 <= f["best_epoch"] < 4 for f in result["folds"])


def test_bad_folds(mutag) -> None:
    with pytest.raises(ValueError, match="stratified_folds: folds must be >= 2"):
        cross_validate(lambda: None, mutag.dataset, folds=1, max_epochs=1)
    with pytest.raises(ValueError, match="cross_validate: folds must be >= 2"):
        cross_validate(lambda: None, mutag.dataset, folds=mutag.folds[:1], max_epochs=1)


def test_cross_validate_on_images_with_given_folds(digits) -> None:
    from torch.utils.data import ConcatDataset

    from gconv.data import labels_of, stratified_folds

    images = ConcatDataset([digits.train, digits.val])
    splits = stratified_folds(labels_of(images).numpy(), 3, seed=1)
    result = cross_validate(
        lambda: get_model("mlp", in_channels=1, num_classes=10, input_shape=(1, 8, 8)),
        images,
        folds=splits,
        max_epochs=3,
        lr=3e-3,
        batch_size=64,
        progress=False,
    )
    assert len(result["folds"]) == 3
    assert result["test_accuracy"] > 0.8  # 8x8 digits after 3 epochs; chance is 0.1
