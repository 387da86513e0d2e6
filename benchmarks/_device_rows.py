"""The other checks of ``device_check.py``: torchrun, resume, the layers on the device,
and one epoch of every comparison row."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch
from _device_common import ROOT, Context, MissingData, Row, data, timed
from _device_train import graph_rows, image_rows, node_rows, segmentation_rows
from torch import nn
from torch.testing import assert_close

from gconv.compare.experiments import EXPERIMENTS
from gconv.compare.inputs import Inputs
from gconv.compare.protocol import Protocol
from gconv.compare.run import train_seed
from gconv.convert import images_to_graphs
from gconv.models import build_model
from gconv.nn import GCNLayer, GridConv2d
from gconv.train import ModelCheckpoint, Trainer
from gconv.train.callbacks import Callback
from gconv.train.checkpoint import load_checkpoint, load_weights


def torchrun_rows(ctx: Context) -> Iterator[Row]:
    """``gconv train`` under torchrun: nccl on CUDA (one process per GPU), gloo on the CPU."""
    counts = [1]
    if ctx.device.type == "cuda" and torch.cuda.device_count() >= 2:
        counts.append(2)
    for nproc in counts:
        out = ctx.out / f"torchrun-{nproc}"
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
        command += [f"--nproc_per_node={nproc}", "-m", "gconv", "train", "digits", "mlp"]
        command += ["--quick", "--no-progress", "--device", ctx.device.type, "--out", str(out)]
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, timeout=300)
        seconds = time.perf_counter() - start
        backend = "nccl" if ctx.device.type == "cuda" else "gloo"
        metrics = out / "metrics.json"
        why = "" if done.returncode == 0 and metrics.is_file() else _last_line(done.stderr)
        if not why:
            world = json.loads(metrics.read_text()).get("world_size")
            why = "" if world == nproc else f"world_size {world}, expected {nproc}"
        yield Row(
            f"torchrun --nproc_per_node={nproc} ({backend}) gconv train digits mlp",
            status="fail" if why else "pass",
            note=why or f"{seconds:.0f} s with start-up",
        )


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else "no output"


class _Stop(Callback):
    """Stops a run after ``epoch``, as a killed run would stop (after the checkpoint)."""

    def __init__(self, epoch: int | None) -> None:
        self.epoch = epoch

    def on_epoch_end(self, trainer: Any, model: Any, epoch: int, logs: Any) -> None:
        if epoch == self.epoch:
            trainer.should_stop = True


def resume_rows(ctx: Context) -> Iterator[Row]:
    """A run stopped and resumed ends with the uninterrupted run's weights; its checkpoint
    loads on the CPU and predicts the same classes there."""
    mnist = data("mnist", ctx.root, limit=ctx.size(6_400, 256))

    def fit(folder: Path, stop: int | None = None, resume: Path | None = None) -> nn.Module:
        torch.manual_seed(0)
        model = build_model("lenet5", mnist)
        callbacks = [ModelCheckpoint(folder, "val_loss"), _Stop(stop)]
        trainer = ctx.trainer(
            max_epochs=3, lr=3e-3, batch_size=64, scheduler="cosine", callbacks=callbacks
        )
        trainer.fit(model, mnist.train, mnist.val, resume=resume)
        return model

    deterministic = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        straight = fit(ctx.out / "straight")
        fit(ctx.out / "stopped", stop=0)
        resumed = fit(ctx.out / "stopped", resume=ctx.out / "stopped" / "last.pt")
    finally:
        torch.use_deterministic_algorithms(deterministic)
    worst = max(
        float((a - b).abs().max())
        for a, b in zip(straight.state_dict().values(), resumed.state_dict().values(), strict=True)
    )
    yield Row(
        "resume: stopped after epoch 1 of 3, resumed",
        status="pass" if worst == 0 else "fail",
        note=f"largest weight difference to the uninterrupted run {worst:.1e}",
    )
    state = load_checkpoint(ctx.out / "straight" / "last.pt", map_location="cpu")
    on_cpu = build_model("lenet5", mnist)
    load_weights(on_cpu, state["model"], "device_check")
    here = Trainer(max_epochs=1, device=ctx.device, progress=False).predict(straight, mnist.test)
    there = Trainer(max_epochs=1, device="cpu", progress=False).predict(on_cpu, mnist.test)
    same = bool(torch.equal(here.argmax(1), there.argmax(1)))
    yield Row(
        f"checkpoint written on {ctx.device.type}, loaded on cpu",
        status="pass" if same else "fail",
        note=f"{len(here)} test images, classes {'equal' if same else 'differ'}, "
        f"logits within {float((here - there).abs().max()):.1e}",
    )


def layer_rows(ctx: Context) -> Iterator[Row]:
    """The CPU tests' equalities of the grid and GCN layers, run on this device, and each
    layer's speed against its reference."""
    files = ["tests/graph/test_grid_conv.py", "tests/graph/test_grid_conv_transpose.py"]
    files.append("tests/graph/test_gcn.py")
    env = {**os.environ, "GCONV_TEST_DEVICE": str(ctx.device)}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *files]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    summary = _last_line(done.stdout)
    yield Row(
        "layer tests: GridConv2d, GridConvTranspose2d, GCNLayer",
        status="pass" if done.returncode == 0 else "fail",
        note=summary,
    )
    yield from _layer_speed(ctx)


def _layer_speed(ctx: Context) -> Iterator[Row]:
    from torch_geometric.nn import GCNConv

    images = torch.randn(ctx.size(256, 32), 16, 28, 28, device=ctx.device)
    batch = images_to_graphs(images)
    conv = GridConv2d(16, 32, 3).to(ctx.device)
    reference = nn.Conv2d(16, 32, 3, padding=1).to(ctx.device)
    reference.load_state_dict(conv.state_dict())
    cases: list[tuple[str, Callable[[], torch.Tensor], Callable[[], torch.Tensor], int]] = [
        (
            "GridConv2d vs nn.Conv2d",
            lambda: conv(batch.x, batch.edge_index, batch.edge_type),
            lambda: reference(images).permute(0, 2, 3, 1).reshape(-1, 32),
            len(images),
        )
    ]
    cora = data("cora", ctx.root).train.to(ctx.device)
    gcn, pyg = GCNLayer(cora.num_features, 64).to(ctx.device), GCNConv(cora.num_features, 64)
    pyg = pyg.to(ctx.device)
    pyg.lin.weight.data.copy_(gcn.lin.weight)
    pyg.bias.data.copy_(gcn.bias)
    cases.append(
        (
            "GCNLayer vs PyG GCNConv (Cora)",
            lambda: gcn(cora.x, cora.edge_index),
            lambda: pyg(cora.x, cora.edge_index),
            1,
        )
    )
    for what, ours, theirs, graphs in cases:
        with _exact_float32():
            assert_close(ours(), theirs(), atol=1e-4, rtol=1e-4)
            mine, base = _rate(ctx, ours), _rate(ctx, theirs)
        yield Row(
            what,
            rate=graphs * mine,
            unit="graphs/s",
            vs_reference=mine / base,
            note="forward and backward; equal within 1e-4",
        )


class _exact_float32:
    """TF32 off, so float32 products on Ampere and later GPUs are float32."""

    def __enter__(self) -> None:
        self.saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False

    def __exit__(self, *_: Any) -> None:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = self.saved


def _rate(ctx: Context, fn: Callable[[], torch.Tensor], repeats: int = 10) -> float:
    """Forward and backward calls per second (a median of five rounds)."""

    def run() -> None:
        for _ in range(repeats):
            fn().sum().backward()

    run()
    times = sorted(timed(ctx, run)[1] for _ in range(5))
    return repeats / times[2]


def compare_rows(ctx: Context) -> Iterator[Row]:
    """One epoch of every default row of each comparison, classification and segmentation
    (the full split on CUDA, ``--quick``'s on the CPU), with its training rate, and on
    CUDA each comparison's estimated hours at its default epochs and seeds."""
    for task in EXPERIMENTS:
        yield from _experiment_rows(ctx, task)


def _experiment_rows(ctx: Context, task: str) -> Iterator[Row]:
    protocol = Protocol.for_task(task, epochs=1, seeds=1, quick=ctx.short)
    default = Protocol.for_task(task)
    experiment = protocol.experiment
    inputs = Inputs(protocol, ctx.root, progress=False)
    total = 0.0
    for row in experiment.rows:
        try:
            result = train_seed(
                row, 0, protocol, inputs, ctx.out / "compare" / task, progress=False
            )
        except FileNotFoundError as err:
            raise MissingData(str(err).splitlines()[0]) from err
        # on CUDA the split is the default protocol's, so an epoch here is one of its epochs
        total += result["seconds_per_epoch"] * default.epochs * default.seeds
        loss = result["history"]["loss"][-1]
        metric = result[protocol.metric]
        yield Row(
            f"compare {task} {row.id}, 1 epoch",
            rate=result["graphs_per_second"],
            unit=f"{experiment.unit}/s",
            loss=loss,
            status="pass" if math.isfinite(loss) and math.isfinite(metric) else "fail",
            note=f"test {experiment.metric_label} {metric:.3f}, "
            f"{result['seconds_per_epoch']:.1f} s",
        )
    if ctx.short:  # --quick's rates are not the full split's
        return
    yield Row(
        f"compare {task}: {default.epochs} epochs x {default.seeds} seeds, estimated",
        note=f"{total / 3600:.2f} h of training epochs at these rates",
    )


CHECKS = [
    image_rows,
    node_rows,
    graph_rows,
    segmentation_rows,
    torchrun_rows,
    resume_rows,
    layer_rows,
    compare_rows,
]
