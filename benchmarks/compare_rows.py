"""Training speed of every `gconv compare` row, beside this machine's own limits.

For each row: its network at the protocol's budget, trained by gconv's `Trainer` on the
first `--graphs` training examples of its input (the second epoch is timed, so the
checks of the first batch and the warm-up are not). It prints training graphs per
second, the minutes a full training epoch (55,000 MNIST images or 6,000 canvases)
would take at that rate, the GFLOP one training graph costs (forward and backward, as
torch's `FlopCounterMode` counts them: matrix products and convolutions; gathers,
scatters and sparse products are not counted), and the achieved GFLOP/s against an
fp32 matmul, a bf16 matmul and a 3x3 convolution measured in the same run, with the
same threads.

    GCONV_DATA=... python benchmarks/compare_rows.py [--rows gat/superpixel,...]
        [--task segmentation] [--amp] [--threads 1] [--jobs 2] [--no-tune-allocator]
        [--graphs 2560]

`--task segmentation` times the segmentation comparison's rows on mnist_seg canvases
(a graph is a canvas, an epoch 6,000 of them).

`--jobs 2` trains the row in two processes at once, each with `--threads` threads (1
unless told), and reports their summed rate: the comparison's `--jobs` lever.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
from typing import Any

import torch
import torch.nn.functional as F
from _timing import compare, machine
from torch.utils.data import Subset
from torch.utils.flop_counter import FlopCounterMode

from gconv._alloc import tune_allocator
from gconv.compare import Protocol, get_rows, row_width
from gconv.compare.inputs import Inputs
from gconv.compare.protocol import row_model
from gconv.loader import GridGraphLoader
from gconv.train import Trainer
from gconv.train.infer import infer_task


def references() -> dict[str, float]:
    """GFLOP/s of the operations that bound a training step here."""
    n = 1024
    a32, b32 = torch.randn(n, n), torch.randn(n, n)
    a16, b16 = a32.bfloat16(), b32.bfloat16()
    x = torch.randn(64, 32, 28, 28).contiguous(memory_format=torch.channels_last)
    w = torch.randn(32, 32, 3, 3).contiguous(memory_format=torch.channels_last)
    times = compare(
        {
            "fp32 matmul": lambda: a32 @ b32,
            "bf16 matmul": lambda: a16 @ b16,
            "fp32 conv3x3": lambda: F.conv2d(x, w, padding=1),
            "bf16 conv3x3": lambda: F.conv2d(x.bfloat16(), w.bfloat16(), padding=1),
        },
        rounds=3,
        repeats=5,
    )
    conv_flops = 2 * x.numel() * 32 * 9
    flops = {
        "fp32 matmul": 2 * n**3,
        "bf16 matmul": 2 * n**3,
        "fp32 conv3x3": conv_flops,
        "bf16 conv3x3": conv_flops,
    }
    return {k: flops[k] / times[k] / 1e9 for k in times}


def train_subset(inputs: Inputs, row: Any, n: int) -> Any:
    """The row's training input, cut to its first ``n`` examples."""
    train = inputs.splits(row)[0]
    if isinstance(train, GridGraphLoader):
        subset = Subset(inputs.data.train, range(n))
        positions = train.positions
        return GridGraphLoader(subset, inputs.protocol.batch_size, True, positions=positions)
    if isinstance(train, list):
        return train[:n]
    return Subset(train, range(n))


def flops_per_graph(model: torch.nn.Module, train: Any, protocol: Protocol) -> float:
    """Counted FLOPs of one training graph: forward and backward of one full batch."""
    task = infer_task(train)
    batch = next(iter(task.batches(train, batch_size=protocol.batch_size, shuffle=False)))
    model.train()
    counter = FlopCounterMode(display=False)
    context = torch.autocast("cpu", dtype=torch.bfloat16) if protocol.amp else None
    with counter:
        if context is not None:
            with context:
                logits, target = task.forward(model, batch, "train")
                loss = task.loss(logits, target)
        else:
            logits, target = task.forward(model, batch, "train")
            loss = task.loss(logits, target)
        loss.backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops() / protocol.batch_size  # targets may be pixels


def measure(
    row_id: str, graphs: int, amp: bool, threads: int, tune: bool, task: str
) -> dict[str, float]:
    """One process's figures for one row (run in a worker for ``--jobs``)."""
    torch.set_num_threads(threads)
    if tune:
        tune_allocator()
    protocol = Protocol.for_task(task, amp=amp)
    if graphs < protocol.batch_size:
        raise SystemExit(f"--graphs must be at least a batch, {protocol.batch_size} (got {graphs})")
    (row,) = get_rows([row_id], task)
    inputs = Inputs(protocol, None, progress=False)
    train = train_subset(inputs, row, graphs)
    torch.manual_seed(0)
    model = row_model(row, row_width(row, protocol), protocol)
    flops = flops_per_graph(model, train, protocol)
    trainer = Trainer(
        max_epochs=2, lr=protocol.lr, batch_size=protocol.batch_size, amp=amp, progress=False
    )
    history = trainer.fit(model, train)
    seconds = history.history["seconds"][-1]
    return {
        "graphs_per_second": graphs / seconds,
        "flops_per_graph": flops,
        "epoch_graphs": len(inputs.data.train),
    }


def _measure(args: tuple[str, int, bool, int, bool, str]) -> dict[str, float]:
    return measure(*args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", help="comma-separated row ids (default: the default rows)")
    parser.add_argument(
        "--task", choices=("classification", "segmentation"), default="classification"
    )
    parser.add_argument("--graphs", type=int, default=2560, help="training examples timed")
    parser.add_argument("--amp", action="store_true", help="bfloat16 autocast")
    parser.add_argument("--threads", type=int, help="threads per process")
    parser.add_argument("--jobs", type=int, default=1, help="processes training at once")
    parser.add_argument("--no-tune-allocator", action="store_true", help="glibc's defaults")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    threads = args.threads or max(1, cores // args.jobs)
    tune = not args.no_tune_allocator
    if tune:
        tune_allocator()
    torch.set_num_threads(threads)
    refs = references()
    ids = args.rows.split(",") if args.rows else [r.id for r in get_rows(None, args.task)]
    print(f"machine: {machine()}; jobs {args.jobs}, amp {args.amp}, allocator tuned {tune}")
    print(", ".join(f"{k} {v:.1f} GFLOP/s" for k, v in refs.items()), f"({threads} threads)")
    fp32 = refs["fp32 matmul"] * args.jobs  # the machine's fp32 rate for all the processes
    print()
    print("| row | graphs/s | min/epoch | GFLOP/graph | GFLOP/s | / fp32 matmul |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    context = multiprocessing.get_context("spawn")
    for row_id in ids:
        work = (row_id, args.graphs, args.amp, threads, tune, args.task)
        if args.jobs == 1:
            results = [measure(*work)]
        else:
            with context.Pool(args.jobs) as pool:
                results = pool.map(_measure, [work] * args.jobs)
        rate = sum(r["graphs_per_second"] for r in results)
        flops = results[0]["flops_per_graph"]
        achieved = rate * flops / 1e9
        print(
            f"| `{row_id}` | {rate:,.0f} | {results[0]['epoch_graphs'] / rate / 60:.1f} "
            f"| {flops / 1e9:.4f} "
            f"| {achieved:.1f} | {achieved / fp32:.0%} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
