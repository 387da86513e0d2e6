"""A layer table of a model: output shapes, parameters and FLOPs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.flop_counter import FlopCounterMode

from gconv.errors import GconvTypeError, GconvValueError


@dataclass
class LayerRow:
    name: str
    kind: str
    output_shape: tuple[int, ...] | None
    params: int
    flops: int


@dataclass
class ModelSummary:
    """What :func:`summary` found; ``str()`` renders it as a table."""

    model: str
    input_shape: tuple[int, ...]
    rows: list[LayerRow] = field(default_factory=list)
    total_params: int = 0
    trainable_params: int = 0
    total_flops: int = 0

    def __str__(self) -> str:
        header = f"{'layer':36s} {'type':22s} {'output shape':20s} {'params':>12s} {'FLOPs':>14s}"
        lines = [f"{self.model} on input {list(self.input_shape)}", header, "-" * len(header)]
        for row in self.rows:
            shape = str(list(row.output_shape)) if row.output_shape is not None else "-"
            lines.append(
                f"{row.name:36.36s} {row.kind:22.22s} {shape:20s} "
                f"{row.params:12,d} {row.flops:14,d}"
            )
        lines += [
            "-" * len(header),
            f"total parameters {self.total_params:,d} ({self.trainable_params:,d} trainable), "
            f"FLOPs per forward {self.total_flops:,d}",
        ]
        return "\n".join(lines)


def summary(model: nn.Module, input_shape: tuple[int, ...], *, depth: int = 2) -> ModelSummary:
    """Runs one example through ``model`` and tabulates its layers.

    FLOPs come from ``torch.utils.flop_counter`` (a multiply-add counts as two), for one
    example of shape ``input_shape`` (without the batch dimension).

    Args:
        model: an image model (taking ``[B, C, H, W]``).
        input_shape: ``(C, H, W)`` of one example.
        depth: show modules nested at most this deep (``layer1.0`` is depth 2).

    Example:
        >>> from gconv.models import get_model
        >>> table = summary(get_model("lenet5"), (1, 28, 28))  # print(table) shows it
        >>> table.total_params, table.total_flops
        (61706, 833040)
    """
    if not isinstance(model, nn.Module):
        raise GconvTypeError(f"summary: model must be an nn.Module (got {type(model).__name__})")
    if not input_shape or any(not isinstance(s, int) or s < 1 for s in input_shape):
        raise GconvValueError(
            f"summary: input_shape must be positive ints like (1, 28, 28) (got {input_shape})"
        )
    shapes: dict[str, tuple[int, ...]] = {}
    shown = [
        (name, module) for name, module in model.named_modules() if name and name.count(".") < depth
    ]

    def hook(name: str) -> Any:
        def record(module: nn.Module, args: Any, output: Any) -> None:
            if isinstance(output, Tensor):
                shapes[name] = tuple(output.shape)

        return record

    handles = [module.register_forward_hook(hook(name)) for name, module in shown]
    was_training = model.training
    model.eval()
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    try:
        with torch.no_grad(), FlopCounterMode(display=False, depth=99) as counter:
            model(torch.zeros(1, *input_shape, device=device))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    prefix = type(model).__name__
    counts = {k: sum(v.values()) for k, v in counter.get_flop_counts().items()}
    result = ModelSummary(prefix, tuple(input_shape))
    for name, module in shown:
        result.rows.append(
            LayerRow(
                name,
                type(module).__name__,
                shapes.get(name),
                sum(p.numel() for p in module.parameters()),
                int(counts.get(f"{prefix}.{name}", 0)),
            )
        )
    result.total_params = sum(p.numel() for p in model.parameters())
    result.trainable_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    result.total_flops = int(counter.get_total_flops())
    return result
