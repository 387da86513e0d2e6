import pytest

from gconv.models import get_model
from gconv.train import cross_validate


def test_cross_validate_on_mutag(mutag) -> None:
    result = cross_validate(
        lambda: get_model("gin", in_channels=7, num_classes=2, hidden_channels=16),
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
    with pytest.raises(ValueError, match="cross_validate: folds must be >= 2"):
        cross_validate(lambda: None, mutag.dataset, folds=1, max_epochs=1)
