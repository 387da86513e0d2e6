"""A plain-dict model registry: ``register_model``, ``get_model``, ``list_models``."""

from __future__ import annotations

import fnmatch
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from torch import nn

INPUT_KINDS = ("image", "graph", "grid_graph")

F = TypeVar("F", bound=Callable[..., nn.Module])


@dataclass(frozen=True)
class ModelEntry:
    name: str
    builder: Callable[..., nn.Module]
    inputs: tuple[str, ...]  # what the model takes: images, graphs, pixel grid graphs


_MODELS: dict[str, ModelEntry] = {}


def register_model(*, inputs: tuple[str, ...]) -> Callable[[F], F]:
    """Registers a model builder under its function name.

    Args:
        inputs: the kinds of input the model takes, from ``"image"`` (a ``[B, C, H, W]``
            tensor), ``"graph"`` (a PyG ``Data``/``Batch``) and ``"grid_graph"`` (a
            ``Batch`` of pixel grid graphs with ``edge_type``).
    """
    for kind in inputs:
        if kind not in INPUT_KINDS:
            raise ValueError(f"register_model: inputs must be from {INPUT_KINDS} (got {kind!r})")

    def wrap(builder: F) -> F:
        name = builder.__name__
        if name in _MODELS:
            raise ValueError(f"register_model: a model named {name!r} is registered already")
        _MODELS[name] = ModelEntry(name, builder, inputs)
        return builder

    return wrap


def list_models(pattern: str = "*") -> list[str]:
    """Registered model names matching a shell-style ``pattern``, sorted."""
    return sorted(name for name in _MODELS if fnmatch.fnmatch(name, pattern))


def model_entry(name: str) -> ModelEntry:
    if name not in _MODELS:
        raise ValueError(
            f"get_model: name must be one of {', '.join(list_models())} (got {name!r})"
        )
    return _MODELS[name]


def get_model(name: str, **kwargs: Any) -> nn.Module:
    """Builds a registered model: ``get_model("gcn", in_channels=1433, num_classes=7)``."""
    return model_entry(name).builder(**kwargs)


def build_model(
    name: str,
    *,
    in_channels: int,
    num_classes: int,
    input_shape: tuple[int, int, int] | None = None,
    graph_level: bool = False,
    **kwargs: Any,
) -> nn.Module:
    """Builds a model for data of a given shape, passing only what its builder takes.

    ``input_shape`` reaches image models that size themselves by it; ``graph_level`` gives
    a node model with a ``readout`` argument a mean readout, to classify whole graphs.
    """
    builder = model_entry(name).builder
    params = inspect.signature(builder).parameters
    if input_shape is not None and "input_shape" in params:
        kwargs.setdefault("input_shape", input_shape)
    if graph_level and "readout" in params and params["readout"].default is None:
        kwargs.setdefault("readout", "mean")
    return builder(in_channels=in_channels, num_classes=num_classes, **kwargs)
