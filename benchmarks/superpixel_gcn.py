"""One epoch of `gcn/superpixel` from `gconv compare`: gconv against PyG's GCNConv.

Both networks are the comparison's row at 100k parameters: an embedding, 4 layers of
(GCN, batch norm, ReLU, residual), a mean readout and a two-layer MLP head, on MNIST
SLIC superpixel graphs (about 73 nodes, kNN edges with Gaussian weights) in batches of
128. gconv's: `DeepGNN("gcn")`, which normalizes each batch once into a sparse matrix
and runs each layer as one sparse product. PyG's: the same network with `GCNConv`
(which normalizes the batch in every layer, as it must for a new graph). Both train with
Adam through PyG's `DataLoader`; the script checks that the two compute the same
function on the same weights, then prints graphs per second and the ratio.

    GCONV_DATA=... python benchmarks/superpixel_gcn.py [--graphs 10000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F
from _timing import machine
from torch import Tensor, nn
from torch_geometric.loader import DataLoader
from torch_geometric.nn import GCNConv

from gconv.compare import Protocol, get_rows, row_width
from gconv.data import data_root, load_dataset
from gconv.data.superpixels import superpixel_dataset
from gconv.models import DeepGNN


class PyGDeepGCN(nn.Module):
    """`DeepGNN("gcn")` with PyG's GCNConv in place of gconv's layer, same parameters."""

    def __init__(self, reference: DeepGNN) -> None:
        super().__init__()
        self.reference = reference
        width = reference.embed.out_features
        self.convs = nn.ModuleList(GCNConv(width, width) for _ in reference.layers)
        for conv, layer in zip(self.convs, reference.layers, strict=True):
            conv.lin.weight = layer.lin.weight  # shared: the same function, checked below
            conv.bias = layer.bias

    def forward(self, batch) -> Tensor:
        ref = self.reference
        h = ref.embed(batch.x)
        for conv, norm in zip(self.convs, ref.norms, strict=True):
            h = h + F.relu(norm(conv(h, batch.edge_index, batch.edge_weight)))
        pooled = ref.readout(h, batch.batch, batch.num_graphs)
        return ref.forward_head(pooled)


def epoch(model: nn.Module, loader: DataLoader) -> float:
    """Seconds for one training epoch (forward, backward, Adam) over ``loader``."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    start = time.perf_counter()
    for batch in loader:
        loss = F.cross_entropy(model(batch), batch.y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graphs", type=int, default=10_000, help="training graphs per epoch")
    parser.add_argument("--rounds", type=int, default=3, help="epochs each, interleaved")
    args = parser.parse_args()

    protocol = Protocol()
    mnist = load_dataset("mnist")
    folder = data_root() / "MNIST" / "superpixels"
    graphs = superpixel_dataset(
        mnist.train, folder, normalization=mnist.normalization, name="train", **protocol.superpixels
    )
    graphs = graphs[: args.graphs]
    row = get_rows(["gcn/superpixel"])[0]
    width = row_width(row, protocol)
    torch.manual_seed(0)
    ours = DeepGNN("gcn", 3, 10, width, protocol.layers)
    theirs = PyGDeepGCN(ours)

    check = next(iter(DataLoader(graphs, batch_size=protocol.batch_size)))
    ours.eval()
    torch.testing.assert_close(ours(check), theirs(check), rtol=1e-4, atol=1e-5)

    loader = DataLoader(graphs, batch_size=protocol.batch_size, shuffle=True)
    times: dict[str, list[float]] = {"gconv DeepGNN(gcn)": [], "PyG GCNConv": []}
    epoch(ours, loader)  # warm-up
    for _ in range(args.rounds):
        times["gconv DeepGNN(gcn)"].append(epoch(ours, loader))
        times["PyG GCNConv"].append(epoch(theirs, loader))
    print(f"machine: {machine()}")
    print(f"{len(graphs):,} superpixel graphs a epoch, batch {protocol.batch_size}, width {width}")
    best = {name: min(t) for name, t in times.items()}
    for name, seconds in best.items():
        print(f"{name:20s} {seconds:7.2f} s/epoch  {len(graphs) / seconds:8,.0f} graphs/s")
    ratio = best["gconv DeepGNN(gcn)"] / best["PyG GCNConv"]
    print(f"gconv / PyG time: {ratio:.2f} (below 1: gconv is faster)")


if __name__ == "__main__":
    main()
