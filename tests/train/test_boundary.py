"""Every mistake at the trainer's boundary ends in gconv's own error, named, before
training where it can be known before training."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import gconv
from gconv.models import build_model, get_model
from gconv.train import Callback, EarlyStopping, ModelCheckpoint, Trainer, _setup, load_checkpoint


def _images(n: int = 16, label: int = 0, dtype=torch.float32) -> TensorDataset:
    x = (
        torch.randn(n, 1, 12, 12).to(dtype)
        if dtype.is_floating_point
        else torch.zeros(n, 1, 12, 12, dtype=dtype)
    )
    return TensorDataset(x, torch.full((n,), label))


def _model():
    return get_model("lenet5", in_channels=1, num_classes=3, input_shape=(1, 12, 12))


def _trainer(**kwargs) -> Trainer:
    kwargs.setdefault("max_epochs", 1)
    return Trainer(progress=False, batch_size=8, **kwargs)


class CountEpochs(Callback):
    def __init__(self) -> None:
        self.epochs = 0

    def on_epoch_end(self, trainer, model, epoch, logs) -> None:
        self.epochs += 1


@pytest.mark.parametrize(
    ("label", "message"),
    [
        (5, r"train labels must be < num_classes = 3, the model's outputs \(got 5\)"),
        (-1, r">= 0 \(got -1\)"),
    ],
)
def test_labels_out_of_range_are_refused_before_training(label: int, message: str) -> None:
    counter = CountEpochs()
    with pytest.raises(ValueError, match=message):
        _trainer(callbacks=[counter]).fit(_model(), _images(label=label))
    assert counter.epochs == 0


def test_labels_of_a_plain_iterable_are_checked_on_the_first_batch() -> None:
    batches = [(torch.randn(4, 1, 12, 12), torch.tensor([0, 1, 2, 7]))]
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\)"):
        _trainer().fit(_model(), batches)


def test_validation_labels_are_checked_too() -> None:
    with pytest.raises(ValueError, match="val labels must be < num_classes"):
        _trainer().fit(_model(), _images(), _images(label=3))


def test_float_labels_are_refused() -> None:
    data = TensorDataset(torch.randn(4, 1, 12, 12), torch.zeros(4))
    with pytest.raises(TypeError, match="train labels must be integer class ids"):
        _trainer().fit(_model(), data)


def test_label_check_is_paid_once_per_label_tensor(monkeypatch) -> None:
    from gconv.train import _validate

    data, calls = _images(), []
    original = torch.Tensor.aminmax
    monkeypatch.setattr(
        torch.Tensor, "aminmax", lambda self, *a, **k: calls.append(1) or original(self, *a, **k)
    )
    _trainer().fit(_model(), data)
    first = len(calls)
    _trainer().fit(_model(), data)  # the same labels: the verdict is remembered
    assert len(calls) - first == first - 1  # only the first-batch check runs again
    data.tensors[1][0] = 9  # an in-place edit is seen
    with pytest.raises(ValueError, match="got 9"):
        _trainer().fit(_model(), data)
    assert _validate  # imported for its cache


@pytest.mark.parametrize(
    ("data", "error", "message"),
    [
        (
            _images(dtype=torch.uint8),
            TypeError,
            r"LeNet5: images must be floating point \(got dtype torch.uint8\)",
        ),
        (
            TensorDataset(torch.randn(8, 3, 12, 12), torch.zeros(8, dtype=torch.long)),
            ValueError,
            "LeNet5: images must have 1 channels",
        ),
        (
            TensorDataset(torch.randn(8, 1, 8, 8), torch.zeros(8, dtype=torch.long)),
            ValueError,
            "LeNet5: images must be at least 12x12",
        ),
        (
            TensorDataset(torch.randn(0, 1, 12, 12), torch.zeros(0, dtype=torch.long)),
            ValueError,
            "train data must hold at least one example",
        ),
        (
            DataLoader(TensorDataset(torch.randn(0, 1, 12, 12), torch.zeros(0, dtype=torch.long))),
            ValueError,
            "train data must hold at least one example",
        ),
    ],
    ids=["uint8", "channels", "too-small", "empty-dataset", "empty-loader"],
)
def test_bad_images(data, error, message: str) -> None:
    with pytest.raises(error, match=message):
        _trainer().fit(_model(), data)


def test_empty_validation_data_is_refused() -> None:
    with pytest.raises(ValueError, match="val data must hold at least one example"):
        _trainer().fit(_model(), _images(), _images(n=0))


@pytest.mark.parametrize(
    "callback", [lambda d: ModelCheckpoint(d), lambda d: EarlyStopping("val_loss")]
)
def test_monitor_without_validation_data_fails_before_the_first_epoch(
    tmp_path: Path, callback
) -> None:
    counter = CountEpochs()
    with pytest.raises(
        ValueError, match=r"monitor 'val_loss' is not logged by this fit.*need val data"
    ):
        _trainer(callbacks=[counter, callback(tmp_path / "ckpt")]).fit(_model(), _images())
    assert counter.epochs == 0


def test_checkpoint_folder_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="ModelCheckpoint: dirpath must be a folder"):
        ModelCheckpoint(tmp_path / "file")
    with pytest.raises(ValueError, match="ModelCheckpoint: dirpath must be a folder"):
        ModelCheckpoint(tmp_path / "file" / "below")


def test_corrupt_checkpoint(tmp_path: Path) -> None:
    bad = tmp_path / "last.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="is not a readable checkpoint, corrupt or truncated"):
        _trainer().fit(_model(), _images(), resume=bad)
    with pytest.raises(FileNotFoundError, match="no checkpoint file at"):
        load_checkpoint(tmp_path / "missing.pt")
    with pytest.raises(FileNotFoundError, match="found a folder"):
        load_checkpoint(tmp_path)


def test_truncated_checkpoint(tmp_path: Path) -> None:
    _trainer(callbacks=[ModelCheckpoint(tmp_path, "loss")]).fit(_model(), _images())
    last = tmp_path / "last.pt"
    last.write_bytes(last.read_bytes()[:1000])
    with pytest.raises(ValueError, match="corrupt or truncated"):
        _trainer(callbacks=[ModelCheckpoint(tmp_path, "loss")]).fit(
            _model(), _images(), resume=last
        )


def test_checkpoint_of_another_model(tmp_path: Path) -> None:
    other = get_model("mlp", in_channels=1, num_classes=3, input_shape=(1, 12, 12))
    _trainer(callbacks=[ModelCheckpoint(tmp_path, "loss")]).fit(other, _images())
    with pytest.raises(
        ValueError, match=r"resume=.*holds the weights of another model \(LeNet5 has missing"
    ):
        _trainer(callbacks=[ModelCheckpoint(tmp_path, "loss")]).fit(
            _model(), _images(), resume=tmp_path / "last.pt"
        )
    wider = get_model("lenet5", in_channels=1, num_classes=5, input_shape=(1, 12, 12))
    with pytest.raises(ValueError, match=r"other shapes head\.weight"):
        from gconv.train.checkpoint import load_weights

        load_weights(wider, _model().state_dict(), "test")


def test_weights_only_file_is_not_a_resume_point(tmp_path: Path) -> None:
    torch.save({"model": _model().state_dict()}, tmp_path / "weights.pt")
    with pytest.raises(ValueError, match="holds weights only"):
        _trainer().fit(_model(), _images(), resume=tmp_path / "weights.pt")


def test_non_finite_loss_stops_with_epoch_and_step() -> None:
    x = torch.randn(16, 1, 12, 12)
    x[9] = float("nan")  # the second batch of 8
    data = TensorDataset(x, torch.zeros(16, dtype=torch.long))
    cause = "batch 2 holds 144 non-finite values in 'x'"
    with pytest.raises(FloatingPointError, match=f"not finite at epoch 1, step 2; .*{cause}"):
        Trainer(max_epochs=1, progress=False, batch_size=8, seed=0).fit(
            _model(), DataLoader(data, batch_size=8)
        )


def test_a_node_model_given_graph_classification_fails_at_fit() -> None:
    cora, mutag = gconv.data.load_dataset("cora"), gconv.data.load_dataset("mutag")
    with pytest.raises(ValueError, match="takes the nodes of one graph"):
        _trainer().fit(build_model("gcn", cora), mutag.train)


def test_integer_node_features_are_named() -> None:
    cora = gconv.data.load_dataset("cora")
    data = cora.train.clone()
    data.x = (data.x > 0).long()
    with pytest.raises(TypeError, match="node features x must be floating point"):
        _trainer().fit(build_model("gcn", cora), data)


def test_early_stopping_reused_across_fits_starts_clean() -> None:
    stop = EarlyStopping("val_loss", patience=1)
    trainer = _trainer(max_epochs=3, callbacks=[stop])
    trainer.fit(_model(), _images(), _images())
    stop.wait, stop._monitor.best = 99, -1.0  # as if a previous seed left it spent
    history = trainer.fit(_model(), _images(), _images())
    assert len(history.epochs) >= 1 and stop.best > -1.0
    assert stop.best_epoch is not None and stop.best_epoch < len(history.epochs)


def test_fit_and_evaluate_take_what_load_dataset_returns() -> None:
    cora = gconv.data.load_dataset("cora")
    model = build_model("gcn", cora)
    trainer = Trainer(max_epochs=3, progress=False, lr=0.01, seed=0)
    history = trainer.fit(model, cora)
    assert "val_loss" in history.history  # validated on val_mask
    assert 0.0 <= trainer.evaluate(model, cora)["accuracy"] <= 1.0


@pytest.mark.parametrize("name", ["lenet5", "gcn"])
def test_amp_on_the_cpu_runs_in_bfloat16(name: str) -> None:
    if name == "gcn":
        cora = gconv.data.load_dataset("cora")
        model, train, first = build_model(name, cora), cora.train, "head"  # conv1 is sparse
    else:
        model, train, first = _model(), _images(64), "conv.0"
    seen = []
    model.get_submodule(first).register_forward_hook(lambda m, i, o: seen.append(o.dtype))
    trainer = Trainer(max_epochs=3, amp=True, device="cpu", progress=False, lr=0.01, seed=0)
    history = trainer.fit(model, train)
    assert torch.bfloat16 in seen
    losses = history.history["loss"]
    assert all(torch.isfinite(torch.tensor(losses))) and losses[-1] < losses[0]
    assert next(model.parameters()).dtype == torch.float32  # the weights stay float32


@pytest.mark.parametrize("native", [True, False])
def test_amp_warns_where_the_cpu_emulates_bfloat16(monkeypatch, native: bool) -> None:
    monkeypatch.setattr(_setup, "native_cpu_bfloat16", lambda: native)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert Trainer(max_epochs=1, amp=True, device="cpu", progress=False).amp
        assert not Trainer(max_epochs=1, amp=False, device="cpu", progress=False).amp
    slow = [w for w in caught if "bfloat16 products are emulated" in str(w.message)]
    assert len(slow) == (0 if native else 1)
    assert all(w.filename == __file__ for w in slow)  # it points at the user's line


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"amp": "yes"}, TypeError, "Trainer: amp must be a bool"),
        ({"progress": 1}, TypeError, "Trainer: progress must be a bool"),
        ({"seed": -1}, ValueError, r"Trainer: seed must be an int >= 0 or None \(got -1\)"),
        ({"seed": 1.5}, ValueError, "Trainer: seed must be an int"),
    ],
)
def test_flags_and_seed_are_checked_when_the_trainer_is_made(kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        Trainer(max_epochs=1, **kwargs)


def test_a_numpy_seed_is_a_seed() -> None:
    import numpy as np

    assert Trainer(max_epochs=1, seed=np.int64(3)).seed == 3
