"""gconv's Cora GCN run against PyG's ``examples/gcn.py`` loop, time and accuracy.

Both train Kipf and Welling's two-layer GCN (hidden 16, dropout 0.5, Adam lr 0.01,
weight decay 5e-4) for 200 epochs, evaluate every epoch and report the test accuracy
at the best validation accuracy, over the same seeds. PyG's loop is its example as
written (``GCNConv`` with ``cached=True``, dense features); gconv's is ``Trainer.fit``
with the ``gcn`` model (sparse features).

    GCONV_DATA=/path/to/data python benchmarks/cora_gcn.py [--seeds 10]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F
from _timing import machine
from torch_geometric.nn import GCNConv

import gconv
from gconv.models import get_model
from gconv.train import EarlyStopping


class PyGExampleGCN(torch.nn.Module):
    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv1 = GCNConv(in_channels, hidden_channels, cached=True)
        self.conv2 = GCNConv(hidden_channels, out_channels, cached=True)

    def forward(self, x, edge_index, edge_weight=None):
        x = F.dropout(x, p=0.5, training=self.training)
        x = self.conv1(x, edge_index, edge_weight).relu()
        x = F.dropout(x, p=0.5, training=self.training)
        return self.conv2(x, edge_index, edge_weight)


def pyg_example(data, seed: int, epochs: int) -> float:
    torch.manual_seed(seed)
    model = PyGExampleGCN(data.num_features, 16, 7)
    optimizer = torch.optim.Adam(
        [
            dict(params=model.conv1.parameters(), weight_decay=5e-4),
            dict(params=model.conv2.parameters(), weight_decay=0),
        ],
        lr=0.01,
    )
    best_val = test_acc = 0.0
    for _ in range(epochs):
        model.train()
        optimizer.zero_grad()
        out = model(data.x, data.edge_index)
        loss = F.cross_entropy(out[data.train_mask], data.y[data.train_mask])
        loss.backward()
        optimizer.step()
        model.eval()
        with torch.no_grad():
            pred = model(data.x, data.edge_index).argmax(dim=-1)
        accs = [
            int((pred[m] == data.y[m]).sum()) / int(m.sum())
            for m in (data.train_mask, data.val_mask, data.test_mask)
        ]
        if accs[1] > best_val:
            best_val, test_acc = accs[1], accs[2]
    return test_acc


def gconv_trainer(data, seed: int, epochs: int) -> float:
    torch.manual_seed(seed)
    model = get_model("gcn", in_channels=data.num_features, num_classes=7)
    best = EarlyStopping("val_accuracy", patience=epochs, restore_best_weights=True)
    trainer = gconv.Trainer(
        max_epochs=epochs, lr=0.01, weight_decay=5e-4, seed=seed, progress=False, callbacks=[best]
    )
    trainer.fit(model, data)
    return trainer.evaluate(model, data)["accuracy"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=200)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    data = gconv.load_dataset("cora").train
    results: dict[str, tuple[list[float], list[float]]] = {"pyg": ([], []), "gconv": ([], [])}
    for seed in range(args.seeds):  # the two take turns, seed by seed
        for name, run in (("pyg", pyg_example), ("gconv", gconv_trainer)):
            start = time.perf_counter()
            accuracy = run(data, seed, args.epochs)
            results[name][0].append(time.perf_counter() - start)
            results[name][1].append(accuracy)
    for name, label in (("pyg", "PyG examples/gcn.py loop"), ("gconv", "gconv Trainer.fit")):
        times, accs = results[name]
        print(
            f"{label:28s} {statistics.median(times):6.2f} s per run, test accuracy "
            f"{statistics.fmean(accs):.4f} ± {statistics.pstdev(accs):.4f}"
        )
    ratio = statistics.median(results["gconv"][0]) / statistics.median(results["pyg"][0])
    print(f"time ratio gconv / PyG: {ratio:.3f}")


if __name__ == "__main__":
    main()
