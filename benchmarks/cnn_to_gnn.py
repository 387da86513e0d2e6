"""A CNN converted by cnn_to_gnn against the CNN itself: torchvision's ResNet-18, one
training step (forward and backward) on a batch of full pixel grids, and the time to
convert ResNet-50.

Prints the median time of a step of the CNN (the reference, measured in the same run),
of the converted network on its fast path (``path="auto"``: each layer's stencil on the
grid view) and as message passing (``path="message_passing"``), with their ratios to
the CNN; each path's peak resident memory in a fresh process beside one that builds
the same model and batch and takes no step; a float32 matmul's GFLOP/s on this machine
for scale; and the median of 3 conversions of ResNet-50:

    python benchmarks/cnn_to_gnn.py [--batch 16] [--size 64] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
import torchvision
from _timing import compare, machine
from torch import Tensor, nn

from gconv.convert import cnn_to_gnn, images_to_graphs

PEAK = """
import sys, torch, torchvision, torch.nn.functional as F
from gconv.convert import cnn_to_gnn, images_to_graphs
path, batch, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.manual_seed(0)
cnn = torchvision.models.resnet18(num_classes=10)
images, target = torch.randn(batch, 3, size, size), torch.randint(0, 10, (batch,))
model, data = (cnn, images) if path in ("cnn", "none") else (cnn_to_gnn(cnn, path=path),
                                                             images_to_graphs(images))
if path != "none":
    for _ in range(2):
        F.cross_entropy(model(data), target).backward()
# VmHWM, not ru_maxrss: the latter keeps the high-water mark of the forked parent
print(next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM")))
"""


def _step(model: nn.Module, data: object, target: Tensor) -> Callable[[], None]:
    def step() -> None:
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(data), target).backward()

    return step


def _peak_mib(path: str, batch: int, size: int) -> float:
    out = subprocess.run(
        [sys.executable, "-c", PEAK, path, str(batch), str(size)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return int(out.split()[-1]) / 1024


def matmul_gflops(n: int = 1024, repeats: int = 20) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n**3 * repeats / (time.perf_counter() - start) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    torch.manual_seed(0)
    b, s = args.batch, args.size
    cnn = torchvision.models.resnet18(num_classes=10)
    images, target = torch.randn(b, 3, s, s), torch.randint(0, 10, (b,))
    graphs = images_to_graphs(images)
    fast, message = cnn_to_gnn(cnn), cnn_to_gnn(cnn, path="message_passing")
    for gnn in (fast, message):  # the same function before it is timed
        torch.testing.assert_close(gnn(graphs), cnn(images), rtol=1e-4, atol=1e-4)
    times = compare(
        {
            "resnet18 (reference)": _step(cnn, images, target),
            'cnn_to_gnn(resnet18), path="auto"': _step(fast, graphs, target),
            'cnn_to_gnn(resnet18), path="message_passing"': _step(message, graphs, target),
        },
        rounds=args.rounds,
        repeats=3,
        warmup=1,
    )
    base = _peak_mib("none", b, s)
    peaks = [_peak_mib(p, b, s) for p in ("cnn", "auto", "message_passing")]
    reference = times["resnet18 (reference)"]
    print(f"{machine()}; float32 matmul 1024^2: {matmul_gflops():.0f} GFLOP/s")
    print(f"batch {b} of 3x{s}x{s}, one training step; model and batch alone: {base:.0f} MiB")
    print("| network | ms / step | images / s | / resnet18 | peak MiB over model and batch |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for (name, seconds), peak in zip(times.items(), peaks, strict=True):
        print(
            f"| {name} | {1e3 * seconds:.1f} | {b / seconds:,.0f} | {seconds / reference:.2f} "
            f"| {peak - base:.0f} |"
        )
    resnet50 = torchvision.models.resnet50()
    seconds = []
    for _ in range(3):
        start = time.perf_counter()
        cnn_to_gnn(resnet50)
        seconds.append(time.perf_counter() - start)
    print(f"cnn_to_gnn(resnet50): {statistics.median(seconds):.2f} s (median of 3)")


if __name__ == "__main__":
    main()
