"""The gated GCN's fused path against its `propagate` path, in the comparison's row.

Both networks are `gated_gcn/superpixel` of `gconv compare` at 100k parameters (an
embedding, 4 residual gated GCN layers with batch norm on nodes and edges, a mean
readout and a two-layer MLP head) with the same weights, on MNIST SLIC superpixel graphs
in batches of 128. The reference is `GatedGCNLayer(..., fused=False)`: PyG's
`propagate`, which gathers `B h_j`, concatenates the gate beside the gated message and
scatters `[E, 2C]`. The fused path (`fused=True`, what `gated_gcn` builds) is one
autograd function with a hand-written backward and `C e_ij` as one `addmm` over the
gathered node terms. The script first checks that both give the same loss and
gradients, then times training steps (forward, backward, Adam) in interleaved rounds
and prints each path's graphs per second, its achieved GFLOP/s (matrix products as
torch's `FlopCounterMode` counts them) beside an fp32 matmul measured in the same run,
and the ratio.

    GCONV_DATA=... python benchmarks/gated_gcn.py [--batches 20] [--rounds 5] [--threads 1]
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F
from _timing import compare, machine
from torch import nn
from torch.utils.flop_counter import FlopCounterMode
from torch_geometric.loader import DataLoader

from gconv import load_dataset
from gconv._alloc import tune_allocator
from gconv.compare import Protocol, get_rows, row_width
from gconv.data import data_root
from gconv.data.superpixels import superpixel_dataset
from gconv.models import DeepGNN


def network(width: int, layers: int, fused: bool) -> DeepGNN:
    torch.manual_seed(0)
    model = DeepGNN("gated_gcn", 3, 10, width, layers, head_hidden=max(width // 2, 1))
    for layer in model.layers:
        layer.fused = fused
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=20, help="batches of 128 cycled")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    parser.add_argument("--threads", type=int, default=1, help="as each --jobs worker")
    args = parser.parse_args()
    tune_allocator()  # as gconv compare does
    torch.set_num_threads(args.threads)

    protocol = Protocol()
    mnist = load_dataset("mnist")
    folder = data_root() / "MNIST" / "superpixels"
    graphs = superpixel_dataset(mnist.train, folder, name="train", **protocol.superpixels)
    graphs = graphs[: args.batches * protocol.batch_size]
    batches = list(DataLoader(graphs, batch_size=protocol.batch_size))
    (row,) = get_rows(["gated_gcn/superpixel"])
    width = row_width(row, protocol)
    models = {"propagate": network(width, protocol.layers, False)}
    models["fused"] = network(width, protocol.layers, True)

    grads = []
    for model in models.values():
        loss = F.cross_entropy(model(batches[0]), batches[0].y)
        params = [p for p in model.parameters() if p.requires_grad]
        grads.append(torch.autograd.grad(loss, params, allow_unused=True))
    for a, b in zip(*grads, strict=True):
        if a is not None or b is not None:
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)

    counter = FlopCounterMode(display=False)
    with counter:
        F.cross_entropy(models["fused"](batches[0]), batches[0].y).backward()
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
    runs["fp32 matmul 1024^3"] = lambda: a @ b
    times = compare(runs, rounds=args.rounds, repeats=3, warmup=2)

    graphs_per_batch = protocol.batch_size
    matmul = 2 * n**3 / times["fp32 matmul 1024^3"] / 1e9
    print(f"machine: {machine()}")
    print(f"gated_gcn/superpixel, width {width}, batches of {graphs_per_batch} graphs")
    print(f"fp32 matmul: {matmul:.1f} GFLOP/s; {flops_per_graph / 1e9:.4f} GFLOP a graph")
    print()
    print("| path | ms / step | graphs / s | GFLOP/s | / fp32 matmul |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name in models:
        rate = graphs_per_batch / times[name]
        gflops = rate * flops_per_graph / 1e9
        print(
            f"| {name} | {times[name] * 1e3:.1f} | {rate:,.0f} | {gflops:.1f} "
            f"| {gflops / matmul:.0%} |"
        )
    print(f"\nfused / propagate time: {times['fused'] / times['propagate']:.2f}")


if __name__ == "__main__":
    main()
