"""The checks of ``device_check.py``: each trains or compares something on one device and
returns its rows. A check raises :class:`MissingData` when a dataset it needs is absent;
any other exception fails its row."""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.testing import assert_close

from gconv import images_to_graphs, load_dataset
from gconv.compare.protocol import ROWS, Protocol
from gconv.compare.run import Inputs, train_seed
from gconv.loader import NeighborLoader
from gconv.models import build_model
from gconv.nn import GCNLayer, GridConv2d
from gconv.train import ModelCheckpoint, Trainer
from gconv.train.callbacks import Callback
from gconv.train.checkpoint import load_checkpoint, load_weights

ROOT = Path(__file__).resolve().parents[1]


class MissingData(Exception):
    """A dataset the check needs is not in the data root (and cannot be downloaded)."""


@dataclass
class Row:
    what: str
    dtype: str = "float32"
    rate: float | None = None  # per second, in ``unit``
    unit: str = ""
    loss: float | None = None
    vs_reference: float | None = None  # rate / the same run's reference rate
    status: str = "pass"  # "pass", "fail" or "skip"
    note: str = ""


@dataclass
class Context:
    device: torch.device
    short: bool  # the CPU's shortened version
    root: str | None
    out: Path

    def size(self, cuda: int, cpu: int) -> int:
        return cpu if self.short else cuda

    def sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize()

    def trainer(self, **kwargs: Any) -> Trainer:
        return Trainer(device=self.device, seed=0, progress=False, **kwargs)


def data(name: str, root: str | None, **kwargs: Any) -> Any:
    try:
        return load_dataset(name, root=root, **kwargs)
    except FileNotFoundError as err:
        raise MissingData(str(err).splitlines()[0]) from err


def _dtype(ctx: Context, amp: bool) -> str:
    if not amp:
        return "float32"
    return "float16+scaler" if ctx.device.type == "cuda" else "bfloat16"


def _timed(ctx: Context, fn: Callable[[], Any]) -> tuple[Any, float]:
    ctx.sync()
    start = time.perf_counter()
    value = fn()
    ctx.sync()
    return value, time.perf_counter() - start


def _warm(history: Any, per_epoch: int) -> float:
    """Examples (or steps) per second of the epochs after the first: warm, as in a long run."""
    seconds = history.history["seconds"]
    return per_epoch / statistics.median(seconds[1:] or seconds)


def _learned(losses: list[float]) -> str:
    """'' when every epoch's loss is finite and the last is below the first, else why not."""
    if not all(math.isfinite(v) for v in losses):
        return f"a loss is not finite: {losses}"
    return "" if losses[-1] < losses[0] else f"the loss did not fall: {losses}"


def _plain_loop(ctx: Context, model: nn.Module, batches: list[Any], amp: bool) -> float:
    """Steps per second of a plain PyTorch loop over ``batches``: the Trainer's reference."""
    model.to(ctx.device).train()
    optimizer = torch.optim.Adam(model.parameters(), 3e-3)
    cuda = ctx.device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=amp and cuda)
    dtype = torch.float16 if cuda else torch.bfloat16

    def run() -> None:
        for x, y in batches:
            x, y = x.to(ctx.device, non_blocking=True), y.to(ctx.device, non_blocking=True)
            with torch.autocast(ctx.device.type, dtype, enabled=amp):
                loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()

    run()  # warm up
    return len(batches) / statistics.median(_timed(ctx, run)[1] for _ in range(3))


def image_rows(ctx: Context) -> Iterator[Row]:
    """``Trainer`` on MNIST, LeNet-5 and ResNet-18, float32 and amp, beside a plain loop."""
    for name, cuda_n, cpu_n in (("lenet5", 9_600, 640), ("resnet18", 9_600, 128)):
        mnist = data("mnist", ctx.root, limit=ctx.size(cuda_n, cpu_n))
        for amp in (False, True):
            loader = torch.utils.data.DataLoader(mnist.train, batch_size=64)
            reference = _plain_loop(ctx, build_model(name, mnist), list(loader), amp)
            torch.manual_seed(0)
            model = build_model(name, mnist)
            trainer = ctx.trainer(max_epochs=4, lr=3e-3, batch_size=64, amp=amp)
            history = trainer.fit(model, mnist.train)
            steps = math.ceil(len(mnist.train) / 64)
            rate = _warm(history, steps)
            why = _learned(history.history["loss"])
            yield Row(
                f"Trainer mnist {name}",
                _dtype(ctx, amp),
                rate,
                "steps/s",
                history.history["loss"][-1],
                rate / reference,
                "fail" if why else "pass",
                why or f"4 epochs of {steps} steps; reference: a plain PyTorch loop",
            )


def node_rows(ctx: Context) -> Iterator[Row]:
    """Cora: ``gcn`` full batch (beside a plain loop) and ``sage`` through NeighborLoader."""
    cora = data("cora", ctx.root)
    graph = cora.train
    epochs = ctx.size(200, 30)
    torch.manual_seed(0)
    model = build_model("gcn", cora)
    trainer = ctx.trainer(max_epochs=epochs, lr=0.01, weight_decay=5e-4)
    history = trainer.fit(model, graph)
    accuracy = history.history["val_accuracy"][-1]
    rate = _warm(history, 1)  # an epoch: a step, then the val accuracy
    plain = build_model("gcn", cora).to(ctx.device)
    optimizer = torch.optim.Adam(plain.parameters(), 0.01, weight_decay=5e-4)
    g = graph.to(ctx.device)

    def epoch() -> None:  # the Trainer's epoch by hand: a step, then the val accuracy
        plain.train()
        loss = F.cross_entropy(plain(g)[g.train_mask], g.y[g.train_mask])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        plain.eval()
        with torch.no_grad():
            (plain(g)[g.val_mask].argmax(1) == g.y[g.val_mask]).float().mean().item()

    reference = 1 / statistics.median(_timed(ctx, epoch)[1] for _ in range(epochs))
    why = _learned(history.history["loss"]) or ("" if accuracy > 0.6 else f"accuracy {accuracy}")
    yield Row(
        "Trainer cora gcn (full batch)",
        rate=rate,
        unit="epochs/s",
        loss=history.history["loss"][-1],
        vs_reference=rate / reference,
        status="fail" if why else "pass",
        note=why or f"{epochs} epochs, val accuracy {accuracy:.3f}; reference: a plain loop",
    )
    loaders = [
        NeighborLoader(
            graph,
            [10, 5],
            input_nodes=getattr(graph, f"{split}_mask"),
            batch_size=32,
            shuffle=split == "train",
        )
        for split in ("train", "val")
    ]
    epochs = ctx.size(60, 6)
    torch.manual_seed(0)
    model = build_model("sage", cora)
    trainer = ctx.trainer(max_epochs=epochs, lr=0.01, weight_decay=5e-4, batch_size=32)
    history = trainer.fit(model, *loaders)
    steps = epochs * len(loaders[0])
    why = _learned(history.history["loss"])
    yield Row(
        "Trainer cora sage (NeighborLoader [10, 5])",
        rate=_warm(history, len(loaders[0])),
        unit="steps/s",
        loss=history.history["loss"][-1],
        status="fail" if why else "pass",
        note=why or f"{steps} steps, val accuracy {history.history['val_accuracy'][-1]:.3f}",
    )


def graph_rows(ctx: Context) -> Iterator[Row]:
    """MUTAG ``gin`` graph batches; MNIST pixel grids through ``grid_gnn``, both paths."""
    mutag = data("mutag", ctx.root)
    train, val, _ = mutag.splits(32)
    epochs = ctx.size(60, 4)
    torch.manual_seed(0)
    model = build_model("gin", mutag)
    trainer = ctx.trainer(max_epochs=epochs, lr=0.01, batch_size=32)
    history = trainer.fit(model, train, val)
    why = _learned(history.history["loss"])
    yield Row(
        "Trainer mutag gin",
        rate=_warm(history, len(train)),  # an epoch with its validation
        unit="graphs/s",
        loss=history.history["loss"][-1],
        status="fail" if why else "pass",
        note=why or f"{epochs} epochs of {len(train)} graphs",
    )
    grids = data("mnist_grid", ctx.root, limit=ctx.size(12_800, 256))
    train, _, test = grids.splits(64)
    for dense in (True, False):
        torch.manual_seed(0)
        model = build_model("grid_gnn", grids)
        model.dense = dense
        trainer = ctx.trainer(max_epochs=2, lr=3e-3, batch_size=64)
        history = trainer.fit(model, train)
        # the other path, the same weights: the same logits
        batch = next(iter(test)).to(ctx.device)
        model.eval()
        with torch.no_grad():
            ours = model(batch)
            model.dense = not dense
            other = model(batch)
        error = float((ours - other).abs().max())
        why = _learned(history.history["loss"]) or ("" if error < 1e-3 else f"paths {error}")
        path = "dense" if dense else "propagate"
        yield Row(
            f"Trainer mnist_grid grid_gnn ({path})",
            rate=_warm(history, len(grids.train)),  # the split's images
            unit="graphs/s",
            loss=history.history["loss"][-1],
            status="fail" if why else "pass",
            note=why or f"logits of the other path within {error:.1e}",
        )


def segmentation_rows(ctx: Context) -> Iterator[Row]:
    """mnist_seg canvases: ``fcn`` on images, ``grid_fcn`` on their pixel grids."""
    n = ctx.size(2_400, 48)
    canvases = data("mnist_seg", ctx.root, train_size=n, val_size=n // 6, test_size=n // 6)
    for name, dataset in (("fcn", canvases), ("grid_fcn", canvases.as_pixel_grid())):
        torch.manual_seed(0)
        model = build_model(name, dataset)
        trainer = ctx.trainer(max_epochs=2, lr=3e-3, batch_size=16)
        train = dataset.splits(16)[0]
        history = trainer.fit(model, train)
        why = _learned(history.history["loss"])
        yield Row(
            f"Trainer mnist_seg {name}",
            rate=_warm(history, n),
            unit="canvases/s",
            loss=history.history["loss"][-1],
            status="fail" if why else "pass",
            note=why or f"2 epochs of {n} 64x64 canvases",
        )


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
    times = sorted(_timed(ctx, run)[1] for _ in range(5))
    return repeats / times[2]


def compare_rows(ctx: Context) -> Iterator[Row]:
    """One epoch of every default comparison row (the full split on CUDA, ``--quick``'s on
    the CPU), with its graphs per second and the converged run's estimated hours."""
    protocol = Protocol(epochs=1, seeds=1, quick=ctx.short)
    inputs = Inputs(protocol, ctx.root, progress=False)
    total = 0.0
    default = Protocol()
    full = 55_000  # MNIST's training images less the validation split
    for row in ROWS:
        try:
            result = train_seed(row, 0, protocol, inputs, ctx.out / "compare", progress=False)
        except FileNotFoundError as err:
            raise MissingData(str(err).splitlines()[0]) from err
        total += full / result["graphs_per_second"] * default.epochs * default.seeds
        loss = result["history"]["loss"][-1]
        yield Row(
            f"compare {row.id}, 1 epoch",
            rate=result["graphs_per_second"],
            unit="graphs/s",
            loss=loss,
            status="pass" if math.isfinite(loss) else "fail",
            note=f"test accuracy {result['accuracy']:.3f}, {result['seconds_per_epoch']:.1f} s",
        )
    if ctx.short:  # --quick's rates are not the full split's
        return
    yield Row(
        f"compare: {default.epochs} epochs x {default.seeds} seeds, estimated",
        note=f"{total / 3600:.2f} h of training passes at these rates",
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
