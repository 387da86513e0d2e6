"""A GCN on batches of MNIST-sized pixel grid graphs: gconv against the plain PyG path.

PyG path: a dataset of 28x28 ``grid()`` graphs collated by ``Batch.from_data_list`` each
step, two ``GCNConv`` layers, ``global_mean_pool``, a linear head. gconv path: the same
images through ``images_to_graphs`` (one shared template) and two ``GCNLayer`` on the
grid path, a mean ``Readout`` and the same head. Both do a full training step (forward,
backward, Adam) on batches of 64; the script prints images per second and the ratio.

    python benchmarks/grid_gcn.py [--steps 20] [--batch 64]
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F
from _timing import compare, machine
from torch import nn
from torch_geometric.data import Batch, Data
from torch_geometric.nn import GCNConv, global_mean_pool
from torch_geometric.utils import grid

from gconv.convert import images_to_graphs
from gconv.nn import GCNLayer, Readout


class PyGNet(nn.Module):
    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.conv1, self.conv2 = GCNConv(1, hidden), GCNConv(hidden, hidden)
        self.head = nn.Linear(hidden, 10)

    def forward(self, batch: Batch) -> torch.Tensor:
        x = F.relu(self.conv1(batch.x, batch.edge_index))
        x = F.relu(self.conv2(x, batch.edge_index))
        return self.head(global_mean_pool(x, batch.batch))


class GconvNet(nn.Module):
    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.conv1, self.conv2 = GCNLayer(1, hidden), GCNLayer(hidden, hidden)
        self.readout = Readout("mean")
        self.head = nn.Linear(hidden, 10)

    def forward(self, batch: Batch) -> torch.Tensor:
        shape = batch.grid_shape
        x = F.relu(self.conv1(batch.x, batch.edge_index, grid_shape=shape))
        x = F.relu(self.conv2(x, batch.edge_index, grid_shape=shape))
        return self.head(self.readout(x, batch.batch, batch.num_graphs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    torch.manual_seed(0)
    images = torch.rand(args.batch, 1, 28, 28)
    labels = torch.randint(0, 10, (args.batch,))
    edge_index, _ = grid(28, 28)
    dataset = [
        Data(x=image.view(784, 1), edge_index=edge_index, y=label.view(1))
        for image, label in zip(images, labels, strict=True)
    ]
    pyg, ours = PyGNet(args.hidden), GconvNet(args.hidden)
    ours.load_state_dict(pyg.state_dict())  # GCNLayer keeps GCNConv's parameter names
    with torch.no_grad():  # the same function: compare the outputs once
        a = pyg(Batch.from_data_list(dataset))
        b = ours(images_to_graphs(images, labels))
    torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)

    def step(model: nn.Module, optimizer: torch.optim.Optimizer, make_batch) -> None:
        batch = make_batch()
        loss = F.cross_entropy(model(batch), batch.y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    opt_pyg = torch.optim.Adam(pyg.parameters(), 1e-3)
    opt_ours = torch.optim.Adam(ours.parameters(), 1e-3)
    times = compare(
        {
            "PyG: Batch.from_data_list + GCNConv": lambda: step(
                pyg, opt_pyg, lambda: Batch.from_data_list(dataset)
            ),
            "gconv: images_to_graphs + GCNLayer": lambda: step(
                ours, opt_ours, lambda: images_to_graphs(images, labels)
            ),
        },
        rounds=args.rounds,
        repeats=5,
    )
    print(f"machine: {machine()}")
    print(f"training step, batch of {args.batch} 28x28 grid graphs, hidden {args.hidden}")
    for name, seconds in times.items():
        print(f"{name:40s} {seconds * 1e3:8.1f} ms/step {args.batch / seconds:10.0f} images/s")
    pyg_time, our_time = times.values()
    print(f"speed-up gconv over PyG: {pyg_time / our_time:.1f}x")


if __name__ == "__main__":
    main()
