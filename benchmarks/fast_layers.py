"""gconv's fast anisotropic layers against their references, in the comparison's rows.

`gat/superpixel`: `DeepGNN("gat")` with gconv's `GATLayer` (attention-weighted sums as
one CSR product per head) against the same network, the same weights, with PyG's
`GATConv`. `gated_gcn/superpixel`: `GatedGCNLayer(..., fused=True)` (gating and
aggregation as one autograd function with a hand-written backward, `C e_ij` as one
`addmm`) against the same layer on PyG's `propagate`. Both rows are the `gconv compare`
networks at 100k parameters on MNIST SLIC superpixel graphs in batches of 128. The
script first checks that the two give the same loss gradients, then times training
steps (forward, backward, Adam) in interleaved rounds and prints each path's graphs per
second, its achieved GFLOP/s (matrix products as torch's `FlopCounterMode` counts them)
beside an fp32 matmul measured in the same run, and the ratio.

    GCONV_DATA=... python benchmarks/fast_layers.py [--rows gat,gated_gcn] [--batches 20]
        [--rounds 5] [--threads 1]
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F
from _timing import compare, machine
from torch import nn
from torch.utils.flop_counter import FlopCounterMode
from torch_geometric.loader import DataLoader
from torch_geometric.nn import GATConv

from gconv._alloc import tune_allocator
from gconv.compare import Protocol, get_rows, row_width
from gconv.data import data_root, load_dataset
from gconv.data.superpixels import superpixel_dataset
from gconv.models import DeepGNN


def networks(row: str, width: int, layers: int) -> dict[str, DeepGNN]:
    """The reference and the fast network of ``row``, with the same weights."""
    built = {}
    for name in ("reference", "fast"):
        torch.manual_seed(0)
        built[name] = DeepGNN(row, 3, 10, width, layers, head_hidden=max(width // 2, 1))
    reference = built["reference"]
    for i, layer in enumerate(reference.layers):
        if row == "gated_gcn":
            layer.fused = False
        else:  # the same parameters, PyG's layer
            pyg = GATConv(layer.in_channels, layer.out_channels, heads=layer.heads)
            pyg.load_state_dict(layer.state_dict())
            reference.layers[i] = pyg
    return built


NAMES = {
    "gat": {"reference": "PyG GATConv", "fast": "gconv GATLayer"},
    "gated_gcn": {"reference": "propagate", "fast": "fused"},
}


def measure(row: str, args: argparse.Namespace) -> None:
    protocol = Protocol()
    mnist = load_dataset("mnist")
    folder = data_root() / "MNIST" / "superpixels"
    graphs = superpixel_dataset(
        mnist.train, folder, normalization=mnist.normalization, name="train", **protocol.superpixels
    )
    graphs = graphs[: args.batches * protocol.batch_size]
    batches = list(DataLoader(graphs, batch_size=protocol.batch_size))
    (spec,) = get_rows([f"{row}/superpixel"])
    width = row_width(spec, protocol)
    models = networks(row, width, protocol.layers)

    grads = []
    for model in models.values():
        loss = F.cross_entropy(model(batches[0]), batches[0].y)
        grads.append(torch.autograd.grad(loss, list(model.parameters()), allow_unused=True))
    for a, b in zip(*grads, strict=True):
        if a is not None or b is not None:
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)  # float32, 4 layers

    counter = FlopCounterMode(display=False)  # the reference's: no sparse products
    with counter:
        F.cross_entropy(models["reference"](batches[0]), batches[0].y).backward()
    flops_per_graph = counter.get_total_flops() / batches[0].num_graphs

    state = {"step": 0}

    def step(model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
        batch = batches[state["step"] % len(batches)]
        state["step"] += 1
        loss = F.cross_entropy(model(batch), batch.y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    optimizers = {k: torch.optim.Adam(m.parameters(), lr=1e-3) for k, m in models.items()}
    runs = {k: (lambda k=k: step(models[k], optimizers[k])) for k in models}
    n = 1024
    a, b = torch.randn(n, n), torch.randn(n, n)
    runs["matmul"] = lambda: a @ b
    times = compare(runs, rounds=args.rounds, repeats=3, warmup=2)

    matmul = 2 * n**3 / times["matmul"] / 1e9
    print(f"\n{row}/superpixel, width {width}, batches of {protocol.batch_size} graphs")
    print(f"fp32 matmul 1024^3: {matmul:.1f} GFLOP/s; {flops_per_graph / 1e9:.4f} GFLOP a graph")
    print()
    print("| layer | ms / step | graphs / s | GFLOP/s | / fp32 matmul |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for key in models:
        rate = protocol.batch_size / times[key]
        gflops = rate * flops_per_graph / 1e9
        print(
            f"| {NAMES[row][key]} | {times[key] * 1e3:.1f} | {rate:,.0f} | {gflops:.1f} "
            f"| {gflops / matmul:.0%} |"
        )
    print(f"\nfast / reference time: {times['fast'] / times['reference']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="gat,gated_gcn", help="comma-separated")
    parser.add_argument("--batches", type=int, default=20, help="batches of 128 cycled")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    parser.add_argument("--threads", type=int, default=1, help="as each --jobs worker")
    args = parser.parse_args()
    tune_allocator()  # as gconv compare does
    torch.set_num_threads(args.threads)
    print(f"machine: {machine()}")
    for row in args.rows.split(","):
        measure(row, args)


if __name__ == "__main__":
    main()
