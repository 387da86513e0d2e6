"""GridConv2d against nn.Conv2d and PyG's RGCNConv on a batch of MNIST-sized images.

Prints the median time of each path, forward (autograd on, as in training) and
forward+backward, and its ratio to ``nn.Conv2d`` (NCHW input, the usual layout) and to
``RGCNConv`` (9 relations, no root weight, sum aggregation: the same function on the
same graph), all measured in the same run:

    python benchmarks/gridconv.py [--batch 64] [--rounds 5] [--device cpu]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import torch
from _timing import compare, machine
from torch import Tensor, nn
from torch_geometric.nn import RGCNConv

from gconv.convert import images_to_graphs
from gconv.nn import GridConv2d


def _forward_backward(run: Callable[[], Tensor], source: Tensor) -> Callable[[], None]:
    def step() -> None:
        source.grad = None
        run().sum().backward()

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--in-channels", type=int, default=16)
    parser.add_argument("--out-channels", type=int, default=32)
    parser.add_argument("--size", type=int, default=28)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.manual_seed(0)
    device = torch.device(args.device)

    images = torch.randn(args.batch, args.in_channels, args.size, args.size, device=device)
    images_cl = images.contiguous(memory_format=torch.channels_last)
    conv = nn.Conv2d(args.in_channels, args.out_channels, 3, padding=1).to(device)
    layer = GridConv2d.from_conv2d(conv)
    graph = images_to_graphs(images)
    x, edge_index, edge_type = graph.x.contiguous(), graph.edge_index, graph.edge_type
    rgcn = RGCNConv(args.in_channels, args.out_channels, 9, aggr="add", root_weight=False)
    with torch.no_grad():  # the same weights: one relation per kernel tap
        rgcn.weight.copy_(conv.weight.flatten(2).permute(2, 1, 0))
        rgcn.bias.copy_(conv.bias)
    torch.testing.assert_close(rgcn(x, edge_index, edge_type), layer(x, edge_index, edge_type))
    for source in (images, images_cl, x):
        source.requires_grad_(True)

    runs: dict[str, tuple[Callable[[], Tensor], Tensor]] = {
        "nn.Conv2d (reference)": (lambda: conv(images), images),
        "nn.Conv2d, channels_last input": (lambda: conv(images_cl), images_cl),
        "GridConv2d dense (grid_shape)": (
            lambda: layer(x, edge_index, edge_type, grid_shape=graph.grid_shape),
            x,
        ),
        "GridConv2d message passing (table)": (lambda: layer(x, edge_index, edge_type), x),
        "GridConv2d message passing (scatter)": (
            lambda: layer(x, edge_index, edge_type, path="scatter"),
            x,
        ),
        "PyG RGCNConv (reference)": (lambda: rgcn(x, edge_index, edge_type), x),
    }
    forward = compare({name: run for name, (run, _) in runs.items()}, rounds=args.rounds)
    backward = compare(
        {name: _forward_backward(run, src) for name, (run, src) in runs.items()},
        rounds=args.rounds,
    )

    print(f"machine: {machine()}, device: {device}")
    print(
        f"batch {args.batch} x {args.in_channels} x {args.size} x {args.size}, "
        f"{args.in_channels} -> {args.out_channels} channels, 3x3 kernel"
    )
    header = f"{'path':40s} {'forward ms':>11s} {'/conv':>6s} {'/rgcn':>6s}"
    print(header + f" {'fwd+bwd ms':>11s} {'/conv':>6s} {'/rgcn':>6s}")
    conv_f, conv_b = forward["nn.Conv2d (reference)"], backward["nn.Conv2d (reference)"]
    rgcn_f, rgcn_b = forward["PyG RGCNConv (reference)"], backward["PyG RGCNConv (reference)"]
    for name in runs:
        f, b = forward[name], backward[name]
        print(
            f"{name:40s} {f * 1e3:11.2f} {f / conv_f:6.2f} {f / rgcn_f:6.2f} "
            f"{b * 1e3:11.2f} {b / conv_b:6.2f} {b / rgcn_b:6.2f}"
        )


if __name__ == "__main__":
    main()
