"""grid_fcn (the FCN as message passing on pixel grids) against fcn (torch's convolutions)
on one training step of a batch of 64x64 canvases.

Prints the median time of a forward+backward step of each path and its ratio to ``fcn``
(the reference, measured in the same run). The graph paths get the canvases as one PyG
``Batch`` of pixel grids (built outside the timing, as the loader builds it); every path
has ``fcn``'s weights, and the script first checks that they give the same logits.

A second table times the segmentation comparison's ``gated_gcn/pixel_grid`` row (the
same U-Net with ``GatedGCNLayer`` in each stage, at its 100k-parameter width): the
gating on the image view (``GatedGCNLayer.grid_aggregate``, the row's path) against the
same weights gathering and scattering over the edges (the layer's fused edge path), the
reference, measured in the same run after checking that both give the same logits:

    python benchmarks/grid_fcn.py [--batch 16] [--size 64] [--rounds 5] [--no-gated]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import torch
import torch.nn.functional as F
from _timing import compare, machine
from torch import Tensor, nn

from gconv.compare import Protocol, get_rows, row_width
from gconv.compare.protocol import row_model
from gconv.convert import images_to_graphs
from gconv.models import get_model
from gconv.nn import GatedGCNLayer


class EdgeGated(GatedGCNLayer):
    """The reference: the grid's gated mean by gathering and scattering over its edges."""

    def grid_aggregate(self, x: Tensor, edge_index: Tensor, grid_shape: object) -> Tensor:
        return self.gate_and_aggregate(x, edge_index, None)[0]


def gated_rows(args: argparse.Namespace, graphs: object, target: Tensor) -> None:
    """The comparison's gated_gcn/pixel_grid row on both paths, same weights."""
    protocol = Protocol.for_task("segmentation")
    (row,) = get_rows(["gated_gcn/pixel_grid"], "segmentation")
    width = row_width(row, protocol)
    torch.manual_seed(0)
    grid = row_model(row, width, protocol)
    edges = row_model(row, width, protocol)
    for conv in edges.encoder.convs:
        conv.__class__ = EdgeGated
    edges.load_state_dict(grid.state_dict())
    torch.testing.assert_close(grid(graphs), edges(graphs), rtol=1e-4, atol=1e-4)
    times = compare(
        {
            "gathering over the edges (reference)": _step(edges, graphs, target),
            "image-view gating (grid_aggregate)": _step(grid, graphs, target),
        },
        rounds=args.rounds,
        repeats=3,
        warmup=1,
    )
    reference = times["gathering over the edges (reference)"]
    print(f"\ngated_gcn/pixel_grid (width {width}), one training step")
    print("| path | ms / step | canvases / s | speed-up |")
    print("| --- | ---: | ---: | ---: |")
    for name, seconds in times.items():
        rate = args.batch / seconds
        print(f"| {name} | {1e3 * seconds:.1f} | {rate:,.0f} | {reference / seconds:.2f} |")


def _step(model: nn.Module, data: object, target: Tensor) -> Callable[[], None]:
    def step() -> None:
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(data), target).backward()

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-gated", dest="gated", action="store_false")
    args = parser.parse_args()
    torch.manual_seed(0)
    b, s = args.batch, args.size
    images = torch.randn(b, 1, s, s)
    masks = torch.randint(0, 11, (b, s, s))
    graphs = images_to_graphs(images, masks)
    fcn = get_model("fcn", in_channels=1, num_classes=11)
    twins = {}
    for dense in (True, False):
        twin = get_model("grid_fcn", in_channels=1, num_classes=11)
        twin.path = "auto" if dense else "message_passing"
        twin.load_state_dict(fcn.state_dict())
        twins[dense] = twin
    expected = fcn(images).permute(0, 2, 3, 1).reshape(-1, 11)
    for twin in twins.values():
        torch.testing.assert_close(twin(graphs), expected, rtol=1e-4, atol=1e-4)

    times = compare(
        {
            "fcn (reference)": _step(fcn, images, masks),
            "grid_fcn, dense paths on the checked grids": _step(twins[True], graphs, graphs.y),
            "grid_fcn, every layer through propagate": _step(twins[False], graphs, graphs.y),
        },
        rounds=args.rounds,
        repeats=3,
        warmup=1,
    )
    reference = times["fcn (reference)"]
    print(f"{machine()}; batch {b} of {s}x{s}, one training step")
    print("| path | ms / step | canvases / s | / fcn |")
    print("| --- | ---: | ---: | ---: |")
    for name, seconds in times.items():
        print(f"| {name} | {1e3 * seconds:.1f} | {b / seconds:,.0f} | {seconds / reference:.2f} |")
    if args.gated:
        gated_rows(args, graphs, graphs.y)


if __name__ == "__main__":
    main()
