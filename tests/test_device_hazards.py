"""No tensor made on the default device inside a training step.

The CPU cannot show a device mismatch: every tensor is on it. So this test looks for what
would cause one on a GPU. While a model's forward and backward run, every torch factory
call from gconv's code (``torch.ones``, ``arange``, ``full``, ...) must name a device; a
tensor made without one lands on the CPU and meets the model's CUDA tensors.
``tensor.new_ones`` and ``torch.ones_like`` follow their tensor and are fine. The steps
are those of the device check (both comparisons' rows, extra rows included) and of every
registered model on a small input of each kind it takes.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from torch.overrides import TorchFunctionMode
from torch_geometric.data import Batch, Data

import gconv
from gconv.compare import Protocol, get_rows, row_width
from gconv.compare.experiments import EXPERIMENTS
from gconv.compare.inputs import Inputs
from gconv.compare.protocol import row_model
from gconv.convert import images_to_graphs
from gconv.models import build_model, list_models, model_entry
from gconv.train.infer import infer_task

GCONV = str(Path(gconv.__file__).parent)
FACTORIES = {
    torch.ones, torch.zeros, torch.full, torch.empty, torch.arange, torch.tensor, torch.eye,
    torch.linspace, torch.rand, torch.randn, torch.randint, torch.randperm, torch.as_tensor,
}  # fmt: skip
# CPU on purpose: one grid's template, cached on the CPU, and the batch built from it,
# which ``_batched_template`` moves to the images' device before anything uses it
ALLOWED = {("grid_graph.py", "_template"), ("grid_graph.py", "_batched_template")}


class Factories(TorchFunctionMode):
    """Records each factory call without a device made from gconv's code."""

    def __init__(self, root: str = GCONV) -> None:
        super().__init__()
        self.root, self.found = root, set[str]()

    def __torch_function__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        kwargs = kwargs or {}
        if func in FACTORIES and kwargs.get("device") is None:
            frame = sys._getframe(1)
            while frame is not None and not frame.f_code.co_filename.startswith(self.root):
                frame = frame.f_back  # past torch's and PyG's own frames
            if frame is not None:
                place = (Path(frame.f_code.co_filename).name, frame.f_code.co_name)
                if place not in ALLOWED:
                    self.found.add(f"{place[0]}:{frame.f_lineno} torch.{func.__name__}")
        return func(*args, **kwargs)


def _steps(model: torch.nn.Module, step: Any, root: str = GCONV) -> set[str]:
    """The factory calls of two steps: the first builds a layer's caches, the second
    reads them."""
    found: set[str] = set()
    for _ in range(2):
        with Factories(root) as mode:
            step(model).backward()
        found |= mode.found
        model.zero_grad(set_to_none=True)
    return found


def _comparison_cases() -> list[Any]:
    return [
        pytest.param(task, row.id, id=f"{task}-{row.id}")
        for task, experiment in EXPERIMENTS.items()
        for row in experiment.rows_with(extra=True)
    ]


@pytest.mark.data
@pytest.mark.parametrize(("task", "row_id"), _comparison_cases())
def test_a_comparison_rows_step_makes_no_tensor_off_its_device(
    task: str, row_id: str, data_root: Path
) -> None:
    protocol = Protocol.for_task(task, quick=True)
    (row,) = get_rows([row_id], task)
    train = Inputs(protocol, str(data_root), progress=False).splits(row)[0]
    steps = infer_task(train)
    batch = next(iter(steps.batches(train, batch_size=8, shuffle=False)))
    model = row_model(row, row_width(row, protocol), protocol)

    def step(model: torch.nn.Module) -> torch.Tensor:
        return steps.loss(*steps.forward(model, batch, "train"))

    assert _steps(model, step) == set()


def _graphs(in_channels: int = 3) -> Batch:
    graphs = []
    for n in (6, 9):
        edge_index = torch.randint(0, n, (2, 3 * n))
        graphs.append(Data(x=torch.randn(n, in_channels), edge_index=edge_index))
    return Batch.from_data_list(graphs)


def _model_cases() -> list[Any]:
    return [
        pytest.param(name, kind, id=f"{name}-{kind}")
        for name in list_models()
        for kind in model_entry(name).inputs
    ]


@pytest.mark.parametrize(("name", "kind"), _model_cases())
def test_a_models_step_makes_no_tensor_off_its_device(name: str, kind: str) -> None:
    shape: tuple[int, ...] | None = (1, 32, 32)
    if kind in ("images", "images_dense"):
        data: Any = torch.randn(2, 1, 32, 32)
    elif kind.startswith("pixel_grid"):
        shape = (1, 12, 12)
        data = images_to_graphs(torch.randn(2, *shape))
    else:
        shape, data = None, _graphs()
    model = build_model(
        name, in_channels=shape[0] if shape else 3, num_classes=4, input_shape=shape,
        input_kind=kind,
    )  # fmt: skip
    assert _steps(model, lambda m: m(data).float().square().mean()) == set()


def test_the_check_finds_a_factory_call_without_a_device() -> None:
    class Careless(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * torch.ones(x.shape)  # on the CPU, whatever x's device

    class Careful(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * x.new_ones(x.shape) * torch.ones(x.shape, device=x.device)

    x = torch.randn(3, requires_grad=True)
    here = str(Path(__file__).parent)  # this file's code counts as the library's
    (found,) = _steps(Careless(), lambda m: m(x).sum(), root=here)
    assert found.startswith("test_device_hazards.py:") and found.endswith(" torch.ones")
    assert _steps(Careful(), lambda m: m(x).sum(), root=here) == set()
