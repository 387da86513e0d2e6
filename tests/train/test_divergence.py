"""Divergence never reaches a checkpoint: a non-finite weight or validation loss stops
``fit`` before ``ModelCheckpoint`` writes, a finite ``last.pt`` stays as it was, and the
error names the likely cause (the data, an empty mask, the learning rate)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset
from torch_geometric.data import Data
from torch_geometric.nn import GCNConv, global_mean_pool

from gconv.models import get_model
from gconv.train import Callback, ModelCheckpoint, Trainer, load_checkpoint


class TwoLayerGCN(nn.Module):
    def __init__(self, features: int, classes: int) -> None:
        super().__init__()
        self.conv1, self.conv2 = GCNConv(features, 8), GCNConv(8, classes)

    def forward(self, data: Data) -> torch.Tensor:
        return self.conv2(self.conv1(data.x, data.edge_index).relu(), data.edge_index)


def _ring(lo: int, n: int) -> torch.Tensor:
    return torch.stack([torch.arange(lo, lo + n), (torch.arange(n) + 1) % n + lo])


def _graph() -> Data:
    """Two components: nodes 0-19 (train, val) and 20-29 (test only, no edge to the rest)."""
    torch.manual_seed(0)
    edges = torch.cat([_ring(0, 20), _ring(20, 10)], 1)
    masks = [torch.zeros(30, dtype=torch.bool) for _ in range(3)]
    masks[0][:14], masks[1][14:20], masks[2][20:] = True, True, True
    return Data(
        x=torch.randn(30, 5),
        edge_index=torch.cat([edges, edges.flip(0)], 1),
        y=torch.randint(0, 3, (30,)),
        train_mask=masks[0],
        val_mask=masks[1],
        test_mask=masks[2],
    )


class PoisonAfter(Callback):
    """After the first epoch, a NaN feature in a test-only node: no loss sees it, but
    its gradient turns the first layer's weights into NaN."""

    def __init__(self, data: Data) -> None:
        self.data = data

    def on_epoch_end(self, trainer, model, epoch, logs) -> None:
        if epoch == 0:
            self.data.x[25, 0] = float("nan")


def test_nan_in_a_test_node_stops_before_the_checkpoint(tmp_path: Path) -> None:
    data = _graph()
    model = TwoLayerGCN(5, 3)
    checkpoint = ModelCheckpoint(tmp_path, "val_loss")
    trainer = Trainer(
        max_epochs=5, lr=0.01, progress=False, seed=0, callbacks=[PoisonAfter(data), checkpoint]
    )
    with pytest.raises(FloatingPointError) as caught:
        trainer.fit(model, data)
    message = str(caught.value)
    assert "weight 'conv1.lin.weight' is not finite after epoch 2" in message
    assert "the data is not finite (batch 1 holds 1 non-finite values in 'x')" in message
    for name in ("last.pt", "best.pt"):  # epoch 1's, finite, as they were
        state = load_checkpoint(tmp_path / name)
        assert state["epoch"] == 0
        assert all(
            torch.isfinite(v).all() for v in state["model"].values() if v.is_floating_point()
        )


def test_a_huge_learning_rate_is_named() -> None:
    torch.manual_seed(0)
    data = TensorDataset(torch.randn(32, 1, 12, 12), torch.randint(0, 3, (32,)))
    model = get_model("lenet5", in_channels=1, num_classes=3, input_shape=(1, 12, 12))
    trainer = Trainer(max_epochs=3, optimizer="sgd", lr=1e30, batch_size=8, progress=False)
    with pytest.raises(FloatingPointError, match=r"no input is non-finite, so lr=1e\+30 is likely"):
        trainer.fit(model, data)


def test_non_finite_validation_data_is_named() -> None:
    torch.manual_seed(0)
    train = TensorDataset(torch.randn(16, 1, 12, 12), torch.randint(0, 3, (16,)))
    x = torch.randn(8, 1, 12, 12)
    x[3, 0, 5, 5] = float("inf")
    val = TensorDataset(x, torch.randint(0, 3, (8,)))
    model = get_model("lenet5", in_channels=1, num_classes=3, input_shape=(1, 12, 12))
    trainer = Trainer(max_epochs=2, batch_size=8, progress=False)
    with pytest.raises(
        FloatingPointError,
        match=r"validation loss is not finite at epoch 1; "
        r"the data is not finite \(batch 1 holds 1 non-finite values",
    ):
        trainer.fit(model, train, val)


def test_an_empty_train_mask_is_refused_before_training() -> None:
    data = _graph()
    data.train_mask[:] = False
    with pytest.raises(ValueError, match="the train data selects no labelled examples"):
        Trainer(max_epochs=1, progress=False).fit(TwoLayerGCN(5, 3), data)


class NodeNormNet(nn.Module):
    """A graph classifier with BatchNorm over nodes, as GIN has."""

    def __init__(self) -> None:
        super().__init__()
        self.lin, self.norm, self.head = nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Linear(8, 2)

    def forward(self, batch) -> torch.Tensor:
        h = self.norm(self.lin(batch.x)).relu()
        return self.head(global_mean_pool(h, batch.batch))


def test_one_node_graph_at_batch_size_one_is_named() -> None:
    graphs = [
        Data(
            x=torch.randn(n, 4),
            edge_index=torch.empty(2, 0, dtype=torch.long),
            y=torch.tensor([n % 2]),
        )
        for n in (3, 1, 2)
    ]
    trainer = Trainer(max_epochs=1, batch_size=1, progress=False, seed=0)
    with pytest.raises(ValueError, match="gives a BatchNorm one value per channel"):
        trainer.fit(NodeNormNet(), graphs)
