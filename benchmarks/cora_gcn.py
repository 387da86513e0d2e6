"""gconv's Cora GCN run against PyG's ``examples/gcn.py`` loop, time and accuracy.

Both train Kipf and Welling's two-layer GCN (hidden 16, dropout 0.5, Adam lr 0.01,
weight decay 5e-4) for 200 epochs, evaluate every epoch and report the test accuracy
at the best validation accuracy, over the same seeds. PyG's loop is its example as
written (``GCNConv`` with ``cached=True``, dense features); the drop-in is that same
loop with ``from gconv.nn import GCNLayer as GCNConv``; gconv's is ``Trainer.fit`` with
the ``gcn`` model (sparse features).

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
from gconv.nn import GCNLayer
from gconv.train import EarlyStopping


class PyGExampleGCN(torch.nn.Module):
    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, conv) -> None:
        super().__init__()
        self.conv1 = conv(in_channels, hidden_channels, cached=True)
        self.conv2 = conv(hidden_channels, out_channels, cached=True)

    def forward(self, x, edge_index, edge_weight=None):
        x = F.dropout(x, p=0.5, training=self.training)
        x = self.conv1(x, edge_index, edge_weight).relu()
        x = F.dropout(x, p=0.5, training=self.training)
        return self.conv2(x, edge_index, edge_weight)


def pyg_example(data, seed: int, epochs: int, conv=GCNConv) -> float:
    torch.manual_seed(seed)
    model = PyGExampleGCN(data.num_features, 16, 7, conv)
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
    trainer = gconv.train.Trainer(
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
    data = gconv.data.load_dataset("cora").train
    runs = {
        "pyg": pyg_example,
        "dropin": lambda d, s, e: pyg_example(d, s, e, conv=GCNLayer),
        "gconv": gconv_trainer,
    }
    results: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in runs}
    for seed in range(args.seeds):  # they take turns, seed by seed
        for name, run in runs.items():
            start = time.perf_counter()
            accuracy = run(data, seed, args.epochs)
            results[name][0].append(time.perf_counter() - start)
            results[name][1].append(accuracy)
    labels = {
        "pyg": "PyG examples/gcn.py loop",
        "dropin": "same loop, GCNLayer as GCNConv",
        "gconv": "gconv Trainer.fit",
    }
    for name, label in labels.items():
        times, accs = results[name]
        print(
            f"{label:32s} {statistics.median(times):6.2f} s per run, test accuracy "
            f"{statistics.fmean(accs):.4f} ± {statistics.pstdev(accs):.4f}"
        )
    for name in ("dropin", "gconv"):
        ratio = statistics.median(results[name][0]) / statistics.median(results["pyg"][0])
        print(f"time ratio {labels[name]} / PyG: {ratio:.3f}")


if __name__ == "__main__":
    main()
