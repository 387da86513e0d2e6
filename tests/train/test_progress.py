"""Progress off a terminal (a log file, a pipe): a line per epoch, a line a minute
within a long epoch, and a long fit announced from the time of its first batches."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import TensorDataset

from gconv.models import get_model
from gconv.train import Trainer, _progress


def _fit(capfd: pytest.CaptureFixture[str], **kwargs) -> str:
    torch.manual_seed(0)
    data = TensorDataset(torch.randn(256, 1, 12, 12), torch.randint(0, 3, (256,)))
    model = get_model("lenet5", in_channels=1, num_classes=3, input_shape=(1, 12, 12))
    Trainer(max_epochs=2, batch_size=8, seed=0, **kwargs).fit(model, data, data)
    return capfd.readouterr().err


def test_a_line_per_epoch_when_not_on_a_terminal(capfd: pytest.CaptureFixture[str]) -> None:
    lines = _fit(capfd).strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["epoch 1/2", "epoch 2/2"]
    assert "val_accuracy" in lines[0] and lines[0].endswith(" s")
    assert "this fit will take" not in "".join(lines)  # a short fit is not announced


def test_nothing_without_progress(capfd: pytest.CaptureFixture[str]) -> None:
    assert _fit(capfd, progress=False) == ""


def test_a_long_fit_is_announced_once(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_progress, "LONG_RUN", 0.0)  # every fit is "long"
    monkeypatch.setattr(_progress, "LINE_EVERY", 0.0)  # and a line after every batch
    err = _fit(capfd)
    (announced,) = [line for line in err.splitlines() if "this fit will take about" in line]
    assert announced.startswith("gconv: ") and "(2 epochs of about" in announced
    assert "epoch 1/2: 5/32 batches" in err and "min left" in err


@pytest.mark.parametrize("terminal", [True, False])
def test_progress_does_not_change_what_is_trained(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, terminal: bool
) -> None:
    """A bar, lines or nothing: the same batches in the same order, the same weights.
    (tqdm.auto's bar calls ``iter`` on what it is given when it is built: a DataLoader
    then starts an iterator it throws away, drawing a seed from torch's generator.)"""
    monkeypatch.setattr(_progress, "on_terminal", lambda: terminal)

    def weights(progress: bool) -> list[torch.Tensor]:
        torch.manual_seed(0)
        data = TensorDataset(torch.randn(64, 1, 12, 12), torch.randint(0, 3, (64,)))
        model = get_model("lenet5", in_channels=1, num_classes=3, input_shape=(1, 12, 12))
        Trainer(max_epochs=2, batch_size=8, seed=0, progress=progress).fit(model, data)
        return [p.detach().clone() for p in model.parameters()]

    shown, silent = weights(True), weights(False)
    capfd.readouterr()
    assert all(torch.equal(a, b) for a, b in zip(shown, silent, strict=True))
