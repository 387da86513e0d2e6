import csv
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from gconv.loader import GridGraphLoader
from gconv.models import build_model, get_model
from gconv.train import Callback, CSVLogger, ModelCheckpoint, Trainer, load_checkpoint, save_atomic
from gconv.train.infer import infer_task
from gconv.train.scores import macro_f1


def _mlp(digits) -> nn.Module:
    torch.manual_seed(0)
    return get_model("mlp", in_channels=1, num_classes=10, input_shape=(1, 8, 8))


def test_task_inference(digits, cora, mutag) -> None:
    assert infer_task(digits.train).name == "image"
    assert infer_task(DataLoader(digits.train, batch_size=4)).name == "image"
    assert infer_task(cora.train).name == "node"
    assert infer_task(mutag.dataset).name == "graph"
    assert infer_task(mutag.dataset).input_kind == "graphs"
    grids = GridGraphLoader(digits.train, batch_size=4)
    assert infer_task(grids).input_kind == "pixel_grid"
    with pytest.raises(TypeError, match="cannot tell the task"):
        infer_task(42)


def test_fit_checks_that_the_model_fits_before_training(cora, mutag, digits) -> None:
    trainer = Trainer(max_epochs=1, progress=False)
    node_gin = get_model("gin", in_channels=7, num_classes=2, readout=None)
    with pytest.raises(ValueError, match=r"Trainer\.fit: GIN takes the nodes of one graph"):
        trainer.fit(node_gin, mutag.train)
    cnn = get_model("lenet5", in_channels=1, num_classes=10)
    with pytest.raises(ValueError, match=r"Trainer\.fit: LeNet5 takes images"):
        trainer.fit(cnn, cora.train)
    assert trainer.history.epochs == []  # nothing trained


def test_macro_f1_equals_scikit_learn() -> None:
    from sklearn.metrics import f1_score

    generator = torch.Generator().manual_seed(0)
    for classes in (2, 5):
        target = torch.randint(0, classes, (50,), generator=generator)
        predicted = torch.randint(0, classes, (50,), generator=generator)
        predicted[:3] = 0  # some overlap
        expected = f1_score(target.numpy(), predicted.numpy(), average="macro")
        assert macro_f1(predicted, target, classes + 2) == pytest.approx(expected)


def test_image_task_end_to_end(digits) -> None:
    model = _mlp(digits)
    trainer = Trainer(max_epochs=8, lr=3e-3, batch_size=32, seed=0, progress=False)
    history = trainer.fit(model, digits.train, digits.val)
    assert set(history.history) >= {"loss", "accuracy", "val_loss", "val_accuracy", "seconds"}
    assert len(history.history["loss"]) == 8
    assert history.history["loss"][-1] < history.history["loss"][0]
    scores = trainer.evaluate(model, digits.test)
    assert set(scores) == {"loss", "accuracy", "macro_f1"}
    assert scores["accuracy"] > 0.9  # 8x8 digits: an MLP gets ~0.95
    assert trainer.predict(model, digits.test).shape == (len(digits.test), 10)


def test_node_task_end_to_end_on_cora(cora) -> None:
    torch.manual_seed(0)
    model = get_model("gcn", in_channels=cora.in_channels, num_classes=cora.num_classes)
    trainer = Trainer(max_epochs=60, lr=0.01, weight_decay=5e-4, seed=0, progress=False)
    history = trainer.fit(model, cora.train)  # validates on val_mask by itself
    assert "val_accuracy" in history.history
    scores = trainer.evaluate(model, cora.test)
    assert scores["accuracy"] > 0.7  # chance is ~0.3; 200 epochs reach ~0.81
    assert trainer.predict(model, cora.test).shape == (2708, 7)


def test_graph_task_end_to_end_on_mutag(mutag) -> None:
    torch.manual_seed(0)
    model = build_model("gin", mutag)
    trainer = Trainer(max_epochs=30, lr=0.01, batch_size=32, seed=0, progress=False)
    history = trainer.fit(model, mutag.train, mutag.val)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert trainer.evaluate(model, mutag.test)["accuracy"] >= 0.75  # majority class: 0.66


def test_metrics_are_weighted_by_count() -> None:
    # 10 examples in batches of 4, 4 and 2, a frozen model: the epoch loss must equal the
    # loss over all 10 examples, not the mean of the three batch means
    x = torch.randn(10, 3)
    y = torch.tensor([0, 1, 1, 0, 1, 0, 0, 1, 1, 1])
    model = nn.Linear(3, 2)
    frozen = Trainer(
        max_epochs=1,
        optimizer=lambda params: torch.optim.SGD(params, lr=0.0),
        batch_size=4,
        progress=False,
        task="image",
    )
    history = frozen.fit(model, TensorDataset(x, y))
    logits = model(x)
    expected_loss = nn.functional.cross_entropy(logits, y).item()
    expected_acc = (logits.argmax(1) == y).float().mean().item()
    assert history.history["loss"][0] == pytest.approx(expected_loss, rel=1e-5)
    assert history.history["accuracy"][0] == pytest.approx(expected_acc)


def test_same_seed_same_weights(digits) -> None:
    weights = []
    for _ in range(2):
        model = _mlp(digits)
        Trainer(max_epochs=2, seed=3, progress=False).fit(model, digits.train)
        weights.append(model.state_dict())
    for key in weights[0]:
        assert torch.equal(weights[0][key], weights[1][key])


class _Crash(Callback):
    """Kills the run after an epoch, as a power cut would (after the checkpoint)."""

    def __init__(self, after_epoch: int | None) -> None:
        self.after_epoch = after_epoch

    def on_epoch_end(self, trainer, model, epoch, logs) -> None:
        if epoch == self.after_epoch:
            raise KeyboardInterrupt


def test_resumed_run_ends_with_the_same_weights(digits, tmp_path: Path) -> None:
    def trainer(folder: Path, crash: int | None = None) -> Trainer:
        callbacks = [
            ModelCheckpoint(folder, monitor="val_loss"),
            CSVLogger(folder / "log.csv"),
            _Crash(crash),
        ]
        return Trainer(
            max_epochs=5,
            lr=3e-3,
            scheduler="cosine",  # its state must come back too
            seed=0,
            progress=False,
            callbacks=callbacks,
        )

    straight = _mlp(digits)  # the MLP has dropout: the random state matters
    trainer(tmp_path / "a").fit(straight, digits.train, digits.val)

    with pytest.raises(KeyboardInterrupt):
        trainer(tmp_path / "b", crash=1).fit(_mlp(digits), digits.train, digits.val)
    assert load_checkpoint(tmp_path / "b" / "last.pt")["epoch"] == 1
    resumed = _mlp(digits)
    history = trainer(tmp_path / "b").fit(
        resumed, digits.train, digits.val, resume=tmp_path / "b" / "last.pt"
    )
    assert history.epochs == [0, 1, 2, 3, 4]
    for key, value in straight.state_dict().items():
        assert torch.equal(value, resumed.state_dict()[key]), key
    assert len((tmp_path / "b" / "log.csv").read_text().splitlines()) == 1 + 5
    assert load_checkpoint(tmp_path / "b" / "best.pt")["epoch"] <= 4


def test_a_kill_between_the_checkpoint_and_the_log_loses_no_row(digits, tmp_path: Path) -> None:
    def fit(folder: Path, crash: int | None = None, resume: Path | None = None) -> None:
        callbacks = [  # the crash falls after the checkpoint, before the log's write
            ModelCheckpoint(folder, monitor="val_loss"),
            _Crash(crash),
            CSVLogger(folder / "log.csv"),
        ]
        trainer = Trainer(max_epochs=4, seed=0, progress=False, callbacks=callbacks)
        trainer.fit(_mlp(digits), digits.train, digits.val, resume=resume)

    def rows(folder: Path) -> list[dict[str, str]]:
        with (folder / "log.csv").open() as f:
            return [{k: v for k, v in r.items() if k != "seconds"} for r in csv.DictReader(f)]

    fit(tmp_path / "a")
    with pytest.raises(KeyboardInterrupt):
        fit(tmp_path / "b", crash=1)
    assert [r["epoch"] for r in rows(tmp_path / "b")] == ["0"]  # epoch 1 checkpointed only
    fit(tmp_path / "b", resume=tmp_path / "b" / "last.pt")
    assert rows(tmp_path / "b") == rows(tmp_path / "a")


def test_cosine_schedule_decays_to_zero_over_all_steps(digits) -> None:
    seen: list[float] = []

    class Recording(torch.optim.SGD):
        def step(self, closure=None):
            seen.append(self.param_groups[0]["lr"])
            return super().step(closure)

    def record(params):
        return Recording(params, lr=0.1)

    trainer = Trainer(
        max_epochs=2, optimizer=record, scheduler="cosine", batch_size=256, progress=False
    )
    trainer.fit(_mlp(digits), digits.train)
    steps = 2 * -(-len(digits.train) // 256)
    assert len(seen) == steps and seen[0] == pytest.approx(0.1)
    assert seen == sorted(seen, reverse=True) and seen[-1] < 0.01


def test_checkpoint_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "last.pt"
    save_atomic({"model": {"w": torch.ones(2)}}, path)

    def broken_save(obj, f) -> None:
        f.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_atomic({"model": {"w": torch.zeros(2)}}, path)
    monkeypatch.undo()
    assert torch.equal(load_checkpoint(path)["model"]["w"], torch.ones(2))
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]  # no temporary left behind


def test_non_finite_loss_names_epoch_and_step(digits) -> None:
    class Exploding(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = nn.Linear(64, 10)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.linear(x.flatten(1)) * float("nan")

    with pytest.raises(FloatingPointError, match="at epoch 1, step 1"):
        Trainer(max_epochs=2, progress=False).fit(Exploding(), digits.train)


def test_resume_needs_the_same_callbacks(digits, tmp_path: Path) -> None:
    Trainer(max_epochs=1, progress=False, callbacks=[ModelCheckpoint(tmp_path, "loss")]).fit(
        _mlp(digits), digits.train
    )
    with pytest.raises(ValueError, match="resume with the same callbacks"):
        Trainer(max_epochs=2, progress=False).fit(
            _mlp(digits), digits.train, resume=tmp_path / "last.pt"
        )


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"max_epochs": 0}, ValueError, "Trainer: max_epochs must be >= 1"),
        ({"max_epochs": 1, "optimizer": "rmsprop"}, ValueError, "optimizer must be one of"),
        ({"max_epochs": 1, "lr": 0}, ValueError, "lr must be a finite number > 0"),
        ({"max_epochs": 1, "lr": float("inf")}, ValueError, r"lr must be .* \(got inf\)"),
        ({"max_epochs": 1, "lr": float("nan")}, ValueError, r"lr must be .* \(got nan\)"),
        ({"max_epochs": 1, "weight_decay": -1}, ValueError, "weight_decay must be a finite"),
        ({"max_epochs": 1, "grad_clip": 0}, ValueError, "grad_clip must be a finite number > 0"),
        ({"max_epochs": 1, "optimizer": 3}, TypeError, "optimizer must be one of"),
        pytest.param(
            {"max_epochs": 1, "device": "cuda"},
            ValueError,
            "no CUDA device is available",
            marks=pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is here"),
        ),
        ({"max_epochs": 1, "task": "video"}, ValueError, "task must be one of"),
        ({"max_epochs": 1, "scheduler": "step"}, ValueError, "scheduler must be one of"),
        ({"max_epochs": 1, "device": "toaster"}, ValueError, "device must be"),
        ({"max_epochs": 1, "callbacks": [print]}, TypeError, "Callback objects"),
    ],
)
def test_bad_arguments(kwargs: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        Trainer(**kwargs)


def test_device_auto_is_cpu_here() -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert Trainer(max_epochs=1).device.type in (expected, "mps")
