"""grid_fcn (the FCN as message passing on pixel grids) against fcn (torch's convolutions)
on one training step of a batch of 64x64 canvases.

Prints the median time of a forward+backward step of each path and its ratio to ``fcn``
(the reference, measured in the same run). The graph paths get the canvases as one PyG
``Batch`` of pixel grids (built outside the timing, as the loader builds it); every path
has ``fcn``'s weights, and the script first checks that they give the same logits:

    python benchmarks/grid_fcn.py [--batch 16] [--size 64] [--rounds 5]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import torch
import torch.nn.functional as F
from _timing import compare, machine
from torch import Tensor, nn

from gconv import images_to_graphs
from gconv.models import get_model


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
    args = parser.parse_args()
    torch.manual_seed(0)
    b, s = args.batch, args.size
    images = torch.randn(b, 1, s, s)
    masks = torch.randint(0, 11, (b, s, s))
    graphs = images_to_graphs(images, masks)
    fcn = get_model("fcn", in_channels=1, num_classes=11)
    twins = {}
    for dense in (True, False):
        twin = get_model("grid_fcn", in_channels=1, num_classes=11, dense=dense)
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


if __name__ == "__main__":
    main()
