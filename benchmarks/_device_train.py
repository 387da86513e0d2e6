"""The training checks of ``device_check.py``: the Trainer on each task."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from _device_common import Context, Row, data, dtype_name, learned, plain_loop, timed, warm

from gconv.loader import NeighborLoader
from gconv.models import build_model
from gconv.train._setup import native_cpu_bfloat16

# the skip's reason: on such a CPU a ResNet-18 step is about 20x float32's, minutes here
SLOW_BF16 = "this CPU has no bfloat16 kernels (emulated, ~20x slower); lenet5's row runs amp"


def image_rows(ctx: Context) -> Iterator[Row]:
    """``Trainer`` on MNIST, LeNet-5 and ResNet-18, float32 and amp, beside a plain loop."""
    for name, cuda_n, cpu_n in (("lenet5", 9_600, 640), ("resnet18", 9_600, 128)):
        mnist = data("mnist", ctx.root, limit=ctx.size(cuda_n, cpu_n))
        for amp in (False, True):
            if (
                amp
                and name == "resnet18"
                and ctx.device.type == "cpu"
                and not native_cpu_bfloat16()
            ):
                yield Row(f"Trainer mnist {name}", "bfloat16", status="skip", note=SLOW_BF16)
                continue
            loader = torch.utils.data.DataLoader(mnist.train, batch_size=64)
            reference = plain_loop(ctx, build_model(name, mnist), list(loader), amp)
            torch.manual_seed(0)
            model = build_model(name, mnist)
            trainer = ctx.trainer(max_epochs=4, lr=3e-3, batch_size=64, amp=amp)
            history = trainer.fit(model, mnist.train)
            steps = math.ceil(len(mnist.train) / 64)
            rate = warm(history, steps)
            why = learned(history.history["loss"])
            yield Row(
                f"Trainer mnist {name}",
                dtype_name(ctx, amp),
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
    rate = warm(history, 1)  # an epoch: a step, then the val accuracy
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

    reference = 1 / statistics.median(timed(ctx, epoch)[1] for _ in range(epochs))
    why = learned(history.history["loss"]) or ("" if accuracy > 0.6 else f"accuracy {accuracy}")
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
    why = learned(history.history["loss"])
    yield Row(
        "Trainer cora sage (NeighborLoader [10, 5])",
        rate=warm(history, len(loaders[0])),
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
    why = learned(history.history["loss"])
    yield Row(
        "Trainer mutag gin",
        rate=warm(history, len(train)),  # an epoch with its validation
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
        model.path = "auto" if dense else "message_passing"
        trainer = ctx.trainer(max_epochs=2, lr=3e-3, batch_size=64)
        history = trainer.fit(model, train)
        # the other path, the same weights: the same logits
        batch = next(iter(test)).to(ctx.device)
        model.eval()
        with torch.no_grad():
            ours = model(batch)
            model.path = "message_passing" if dense else "auto"
            other = model(batch)
        error = float((ours - other).abs().max())
        why = learned(history.history["loss"]) or ("" if error < 1e-3 else f"paths {error}")
        path = "dense" if dense else "propagate"
        yield Row(
            f"Trainer mnist_grid grid_gnn ({path})",
            rate=warm(history, len(grids.train)),  # the split's images
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
        why = learned(history.history["loss"])
        yield Row(
            f"Trainer mnist_seg {name}",
            rate=warm(history, n),
            unit="canvases/s",
            loss=history.history["loss"][-1],
            status="fail" if why else "pass",
            note=why or f"2 epochs of {n} 64x64 canvases",
        )
