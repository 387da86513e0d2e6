"""A plain-dict model registry that knows what each model consumes.

``register_model(inputs=...)`` records a builder and the kinds of input its models take;
:func:`fits` decides, in one place, whether a model can train on some data and says why
not; :func:`build_model` builds the variant that fits (node or graph level).
"""

from __future__ import annotations

import fnmatch
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from torch import nn

from gconv.convert.grid_shape import GRID_HINT
from gconv.data.datasets import DATASET_INPUTS, load_dataset
from gconv.data.kinds import KINDS
from gconv.errors import GconvTypeError, GconvValueError

# what a model's forward takes, and how a message names it (the kinds' own table)
INPUT_KINDS = {name: kind.description for name, kind in KINDS.items()}

F = TypeVar("F", bound=Callable[..., nn.Module])


@dataclass(frozen=True)
class ModelEntry:
    name: str
    builder: Callable[..., nn.Module]
    inputs: tuple[str, ...]  # from INPUT_KINDS
    graph_readout: str = "mean"  # the readout build_model gives it on whole graphs


_MODELS: dict[str, ModelEntry] = {}


def register_model(*, inputs: tuple[str, ...], graph_readout: str = "mean") -> Callable[[F], F]:
    """Registers a model builder under its function name.

    Args:
        inputs: what the built models take, from ``"images"`` (a ``[B, C, H, W]``
            tensor), ``"pixel_grid"`` (a ``Batch`` of pixel grid graphs with
            ``edge_type``), ``"nodes"`` (one PyG ``Data``, a prediction per node) and
            ``"graphs"`` (a PyG ``Batch``, a prediction per graph), and for
            segmentation ``"images_dense"`` (images, a prediction per pixel) and
            ``"pixel_grid_dense"`` (pixel grids, a prediction per node). A builder that takes
            both ``"nodes"`` and ``"graphs"`` has a ``readout`` argument; ``None`` builds
            the node-level model, the default of every such builder, as PyG's.
        graph_readout: the readout :func:`build_model` gives such a model on whole
            graphs (``"sum"`` for GIN, as Xu et al.).
    """
    for kind in inputs:
        if kind not in INPUT_KINDS:
            raise GconvValueError(
                f"register_model: inputs must be from {', '.join(INPUT_KINDS)} (got {kind!r})"
            )

    def wrap(builder: F) -> F:
        name = builder.__name__
        if name in _MODELS:
            raise GconvValueError(f"register_model: a model named {name!r} is registered already")
        _MODELS[name] = ModelEntry(name, builder, inputs, graph_readout)
        return builder

    return wrap


def list_models(pattern: str = "*") -> list[str]:
    """Registered model names matching a shell-style ``pattern``, sorted."""
    return sorted(name for name in _MODELS if fnmatch.fnmatch(name, pattern))


def model_entry(name: str) -> ModelEntry:
    if name not in _MODELS:
        raise GconvValueError(
            f"get_model: name must be one of {', '.join(list_models())} (got {name!r})"
        )
    return _MODELS[name]


def get_model(name: str, **kwargs: Any) -> nn.Module:
    """Builds a registered model: ``get_model("gcn", in_channels=1433, num_classes=7)``.

    The model keeps what it was built from as ``build_config`` (its name and arguments,
    and from :func:`build_model` what it knows of the data: class names, the images'
    normalization), which :class:`gconv.train.ModelCheckpoint` writes into every
    checkpoint, so that ``gconv predict`` rebuilds it from the file alone.
    """
    return _built(model_entry(name), kwargs, {})


def _built(entry: ModelEntry, kwargs: dict[str, Any], known: dict[str, Any]) -> nn.Module:
    """The entry's model, keeping its name, arguments and what is ``known`` of its data."""
    model = entry.builder(**kwargs)
    config = {"model": entry.name, "model_kwargs": dict(kwargs), **known}
    model.build_config = config  # type: ignore[assignment]
    return model


@dataclass(frozen=True)
class Fit:
    """The verdict of :func:`fits`: true or false, with the reason when false."""

    ok: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.ok


def _loaded(data: Any) -> Any:
    """``data`` as :func:`gconv.data.load_dataset` makes it, unless it says its input kind
    already (a name, a kind, a ``LoadedDataset``): a user's own list of graphs, tensor
    pair or dataset."""
    if isinstance(data, str) or hasattr(data, "input_kind"):
        return data
    return load_dataset(data)


def _kind_of(data: Any) -> str:
    data = _loaded(data)
    kind = data if isinstance(data, str) else getattr(data, "input_kind", None)
    if isinstance(data, str) and data in DATASET_INPUTS:  # a dataset's name: not loaded
        kind = DATASET_INPUTS[data]
    if kind not in INPUT_KINDS:
        raise GconvTypeError(
            f"fits: data must be one of {', '.join(INPUT_KINDS)}, a dataset name or a "
            f"dataset with input_kind (got {data!r})"
        )
    return str(kind)


def fits(model: str | nn.Module, data: Any) -> Fit:
    """Whether ``model`` can train on ``data``, and why not.

    Args:
        model: a registered name, or a model whose ``input_kind`` says what it takes
            (a model without one is given the benefit of the doubt).
        data: an input kind (``"images"``, ``"pixel_grid"``, ``"nodes"``, ``"graphs"``),
            a dataset's name (answered from the registry, before any file is read), or a
            dataset with an ``input_kind`` (what :func:`gconv.data.load_dataset` returns).

    A pixel grid graph is a graph too, so models of whole graphs take pixel grids, and
    node-level models take pixel grids labelled per pixel (segmentation).

    Example:
        >>> fits("lenet5", "graphs").reason
        'lenet5 takes images [B, C, H, W]; the data gives whole graphs (graph classification)'
    """
    if isinstance(model, str):
        label, takes = model, model_entry(model).inputs
    else:
        kind = getattr(model, "input_kind", None)
        if kind is None:
            return Fit(True)
        label, takes = type(model).__name__, (kind,)
    gives = _kind_of(data)
    accepted = {gives, KINDS[gives].also_taken_by or gives}
    if accepted & set(takes):
        return Fit(True)
    source = data if isinstance(data, str) and data in DATASET_INPUTS else None
    source = source or getattr(data, "name", None)
    source = f"dataset {source!r}" if isinstance(source, str) else "the data"
    wanted = " or ".join(INPUT_KINDS[k] for k in takes)
    reason = f"{label} takes {wanted}; {source} gives {INPUT_KINDS[gives]}"
    graphs = not (KINDS[gives].images or KINDS[gives].pixel_grid)
    if graphs and any(KINDS[k].pixel_grid for k in takes):
        reason += f" ({GRID_HINT})"  # graphs that may be grids: what makes them one
    return Fit(False, reason)


def build_model(
    name: str,
    dataset: Any = None,
    *,
    in_channels: int | None = None,
    num_classes: int | None = None,
    input_shape: tuple[int, int, int] | None = None,
    input_kind: str | None = None,
    **kwargs: Any,
) -> nn.Module:
    """Builds the variant of a registered model that fits some data.

    What is not given explicitly comes from ``dataset`` (what
    :func:`gconv.data.load_dataset` returns, or anything it takes: a list of graphs, an
    ``(images, labels)`` pair, a folder): ``in_channels``, ``num_classes``,
    ``input_shape`` and ``input_kind``. A model that does not fit raises ``ValueError``
    with :func:`fits`' reason. For ``"nodes"`` a model with a ``readout`` is built
    without one; for ``"graphs"`` (or pixel grids) one whose readout defaults to
    ``None`` gets a mean readout. ``input_shape`` reaches only builders that take it.

    Example:
        >>> from gconv.data import load_dataset
        >>> cora = load_dataset("cora")
        >>> build_model("gin", cora).input_kind  # a node-level GIN
        'nodes'
    """
    entry = model_entry(name)
    if dataset is not None:
        fields = ("in_channels", "num_classes", "input_shape", "input_kind")
        dataset = load_dataset(dataset) if not hasattr(dataset, "input_kind") else dataset
        if not all(hasattr(dataset, field) for field in fields):
            raise GconvTypeError(
                "build_model: dataset must be what gconv.data.load_dataset takes or returns, "
                f"e.g. build_model({name!r}, load_dataset('cora')) "
                f"(got {type(dataset).__name__})"
            )
        in_channels = in_channels if in_channels is not None else dataset.in_channels
        num_classes = num_classes if num_classes is not None else dataset.num_classes
        input_shape = input_shape if input_shape is not None else dataset.input_shape
        input_kind = input_kind or dataset.input_kind
    if in_channels is None or num_classes is None:
        raise GconvTypeError("build_model: give a dataset, or in_channels and num_classes")
    kind = input_kind or entry.inputs[0]
    verdict = fits(name, dataset if dataset is not None and input_kind is None else kind)
    if not verdict:
        raise GconvValueError(f"build_model: {verdict.reason}")
    params = inspect.signature(entry.builder).parameters
    if input_shape is not None and "input_shape" in params:
        kwargs.setdefault("input_shape", input_shape)
    if "readout" in params:
        if KINDS[kind].per_node:  # a prediction per node
            kwargs.setdefault("readout", None)
        elif params["readout"].default is None:
            kwargs.setdefault("readout", entry.graph_readout)
    known = {
        "input_kind": kind,
        "input_shape": input_shape,
        "dataset": getattr(dataset, "name", None),
        "class_names": getattr(dataset, "class_names", None),
        "normalization": getattr(dataset, "normalization", None),
    }
    return _built(entry, {"in_channels": in_channels, "num_classes": num_classes, **kwargs}, known)
