"""Trainer.fit against a plain hand-written PyTorch loop doing the same work.

Cora: gcn, 200 epochs, full batch, validation every epoch. MNIST: lenet5, one epoch of
55,000 images in batches of 64. Each contender runs in turns (``--rounds`` times); the
script prints median seconds and the ratio trainer / plain loop.

    GCONV_DATA=/path/to/data python benchmarks/trainer_overhead.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from _timing import machine
from torch.utils.data import DataLoader

import gconv
from gconv.models import get_model


def plain_cora(data, epochs: int) -> None:
    torch.manual_seed(0)
    model = get_model("gcn", in_channels=data.num_features, num_classes=7)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
    for _ in range(epochs):
        model.train()
        optimizer.zero_grad()
        out = model(data)
        loss = F.cross_entropy(out[data.train_mask], data.y[data.train_mask])
        loss.backward()
        optimizer.step()
        train_loss = loss.item()
        train_acc = (
            (out[data.train_mask].argmax(1) == data.y[data.train_mask]).float().mean().item()
        )
        model.eval()
        with torch.no_grad():
            out = model(data)
            val_loss = F.cross_entropy(out[data.val_mask], data.y[data.val_mask]).item()
            val_acc = (out[data.val_mask].argmax(1) == data.y[data.val_mask]).float().mean().item()
    assert train_loss >= 0 and val_loss >= 0 and 0 <= train_acc + val_acc <= 2


def trainer_cora(data, epochs: int) -> None:
    torch.manual_seed(0)
    model = get_model("gcn", in_channels=data.num_features, num_classes=7)
    trainer = gconv.train.Trainer(max_epochs=epochs, lr=0.01, weight_decay=5e-4, progress=False)
    trainer.fit(model, data)


def plain_mnist(train) -> None:
    torch.manual_seed(0)
    model = get_model("lenet5")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    for x, y in DataLoader(train, batch_size=64, shuffle=True):
        optimizer.zero_grad()
        out = model(x)
        loss = F.cross_entropy(out, y)
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * len(y)
        correct += int((out.argmax(1) == y).sum())
        seen += len(y)
    assert seen == len(train)


def trainer_mnist(train) -> None:
    torch.manual_seed(0)
    model = get_model("lenet5")
    gconv.train.Trainer(max_epochs=1, lr=1e-3, batch_size=64, progress=False).fit(model, train)


def race(name: str, runs: dict[str, Callable[[], None]], rounds: int) -> None:
    times: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(rounds):
        for key, run in runs.items():
            start = time.perf_counter()
            run()
            times[key].append(time.perf_counter() - start)
    plain, ours = (statistics.median(times[k]) for k in ("plain loop", "Trainer.fit"))
    print(f"{name:32s} plain loop {plain:7.2f} s   Trainer.fit {ours:7.2f} s", end="   ")
    print(f"ratio {ours / plain:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=200)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    cora = gconv.data.load_dataset("cora").train
    race(
        f"Cora gcn, {args.epochs} epochs",
        {
            "plain loop": lambda: plain_cora(cora, args.epochs),
            "Trainer.fit": lambda: trainer_cora(cora, args.epochs),
        },
        args.rounds,
    )
    mnist = gconv.data.load_dataset("mnist").train
    race(
        "MNIST lenet5, 1 epoch",
        {"plain loop": lambda: plain_mnist(mnist), "Trainer.fit": lambda: trainer_mnist(mnist)},
        args.rounds,
    )


if __name__ == "__main__":
    main()
