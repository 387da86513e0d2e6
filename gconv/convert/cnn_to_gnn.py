r"""Any CNN as a graph network: :func:`cnn_to_gnn` traces a model with ``torch.fx`` and
runs each of its operations on the pixel grid graph of the resolution it works at.

A convolution with weight :math:`W \in \mathbb R^{C_{out} \times C_{in} \times k_h
\times k_w}` becomes message passing over typed edges from input pixel :math:`j` to
output pixel :math:`i` (:func:`gconv.graph.conv_graph`: stride, padding, dilation and
groups as ``nn.Conv2d``'s):

.. math::
    x'_i = b + \sum_{j \to i} W_{t_{ji}} \, x_j

a pool aggregates the pixels of each window (max, or a sum over the window's size), a
per-pixel operation (norms, activations, residual sums, concatenations, a
squeeze-excitation scale) acts node by node, and a global pool or a flatten is a
readout of each graph. The result keeps the CNN's ``state_dict`` keys, so weights load
both ways, and it computes the CNN's function: tested equal, outputs and gradients, on
torchvision's classification networks and gconv's own.
"""

from __future__ import annotations

import copy
import functools
import operator
from collections.abc import Callable
from typing import Any

import torch
from torch import fx, nn

from gconv._checks import check_choice
from gconv.convert import grid_modules, grid_values, irregular_values
from gconv.convert.graph_network import GraphNetwork
from gconv.convert.grid_values import ATTRIBUTES, FUNCTIONS, METHODS, OWNER
from gconv.errors import GconvTypeError, GconvValueError

LEAVES = ("StochasticDepth", "Permute", "LayerNorm2d")  # torchvision's, converted whole
READOUTS = {"flatten", "view", "reshape", "size", "shape"}


@functools.cache
def _torchvision_functions() -> tuple[Any, ...]:
    """torchvision's functions traced as one call each, given their graph form once
    (torchvision is imported at the first conversion, not with gconv)."""
    from torchvision.models.shufflenetv2 import channel_shuffle

    FUNCTIONS[channel_shuffle] = grid_values.channel_shuffle
    irregular_values.FUNCTIONS[channel_shuffle] = grid_values.channel_shuffle  # node by node
    return (channel_shuffle,)


class _Tracer(fx.Tracer):
    def __init__(self) -> None:
        super().__init__(autowrap_functions=_torchvision_functions())

    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return type(m).__name__ in LEAVES or super().is_leaf_module(m, qualname)


def _where(node: fx.Node) -> str:
    target = (
        node.target
        if isinstance(node.target, str)
        else getattr(node.target, "__name__", node.target)
    )
    return f"{node.op} {target!s} (node {node.name!r})"


def _check(graph: fx.Graph, model: nn.Module, geometry: dict[str, Any]) -> None:
    """Every operation that receives a grid has a graph form: named if not, before the
    network runs."""
    modules = dict(model.named_modules())
    spatial: set[fx.Node] = set()
    for node in graph.nodes:
        if node.op == "placeholder":
            if not spatial:
                spatial.add(node)
            continue
        if node.op == "output" or not any(a in spatial for a in node.all_input_nodes):
            continue
        if node.op == "call_module":
            on_grid = isinstance(geometry.get(node.target), grid_modules.OnGrid)
            ok = on_grid or grid_modules.handles(modules[node.target])
            readout = isinstance(modules[node.target], nn.Flatten)
        elif node.op == "call_function":
            ok = node.target in FUNCTIONS or node.target in (operator.getitem, getattr)
            ok = ok or node.target in grid_modules.POOLS
            readout = node.target in (torch.flatten, getattr) or (
                node.target is torch.mean and not node.kwargs.get("keepdim", False)
            )
            if node.target is getattr:
                ok = node.args[1] in ATTRIBUTES
        else:
            ok = node.target in METHODS
            readout = node.target in READOUTS or (
                node.target == "mean" and not node.kwargs.get("keepdim", False)
            )
        if not ok:
            raise GconvValueError(
                f"{OWNER}: cannot convert {_where(node)}: it has no graph form (converted: "
                "convolutions, pools, norms, activations, sums, products, concatenations, "
                "flatten and linear heads)"
            )
        if not readout:
            spatial.add(node)


def _trace(model: nn.Module, method: str) -> fx.Graph:
    """``model.<method>`` as an fx graph (fx traces ``forward``: the class is swapped for
    one whose ``forward`` is ``method`` while it traces)."""
    cls = type(model)
    if method != "forward":
        model.__class__ = type(cls.__name__, (cls,), {"forward": getattr(cls, method)})
    try:
        return _Tracer().trace(model)
    except Exception as err:  # fx raises its own kinds on untraceable control flow
        raise GconvValueError(
            f"{OWNER}: {cls.__name__} must be traceable by torch.fx (found "
            f"{type(err).__name__}: {err})"
        ) from None
    finally:
        model.__class__ = cls


def cnn_to_gnn(
    model: nn.Module,
    *,
    layer: Callable[[int, int], nn.Module] | None = None,
    path: str = "auto",
    pixel_size: float = 1.0,
) -> GraphNetwork:
    """``model`` (any CNN ``torch.fx`` can trace) as a graph network over pixel grids.

    The model is copied (its weights too) and traced; its ``nn.Conv2d``,
    ``nn.ConvTranspose2d``, ``nn.MaxPool2d`` and ``nn.BatchNorm2d`` become
    :class:`gconv.nn.GridConv2d`, :class:`gconv.nn.GridConvTranspose2d`,
    :class:`gconv.nn.GridMaxPool2d` and a node-wise ``nn.BatchNorm1d`` under the same
    names, and every other operation runs on node features (see
    :mod:`gconv.convert.grid_values`). An operation with no graph form is named, with
    its place in the traced graph, here rather than at the first batch.

    Args:
        model: the CNN. One with timm's surface (``forward_features``, ``head``: gconv's
            models) keeps it.
        layer: builds, from ``(in_channels, out_channels)``, the graph layer that
            replaces each 'same' convolution larger than 1x1 (stride 1), over the grid
            graph of its kernel: e.g. :class:`gconv.nn.GCNLayer`, one weight for every
            neighbour where the convolution has one per offset. ``None`` keeps the
            convolutions (as :class:`gconv.nn.GridConv2d`).
        path: how the network runs unless a call says otherwise: ``"auto"`` (each
            layer's fastest exact path) or ``"message_passing"`` (every message along
            an edge).
        pixel_size: on image graphs that are not pixel grids (superpixels, see
            :mod:`gconv.convert.irregular`), the distance in ``pos``'s units between two
            neighbouring pixels of the images the CNN was trained on (``1 / (H - 1)``
            for :func:`gconv.convert.superpixel_graph`'s positions in [0, 1]).

    Example:
        >>> from gconv.convert import images_to_graphs
        >>> cnn = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2), nn.ReLU(),
        ...                     nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10))
        >>> gnn = cnn_to_gnn(cnn)
        >>> images = torch.randn(2, 3, 16, 16)
        >>> torch.allclose(gnn(images_to_graphs(images)), cnn(images), atol=1e-6)
        True
        >>> torch.allclose(gnn(images_to_graphs(images), path="message_passing"),
        ...                cnn(images), atol=1e-6)
        True
    """
    if not isinstance(model, nn.Module):
        raise GconvTypeError(f"{OWNER}: model must be an nn.Module (got {type(model).__name__})")
    check_choice(OWNER, "path", path, grid_modules.PATHS)
    model = copy.deepcopy(model)
    methods = ["forward"]
    if callable(getattr(model, "forward_features", None)) and hasattr(model, "head"):
        methods.append("forward_features")
    graphs = {method: _trace(model, method) for method in methods}
    geometry: dict[str, Any] = {}
    for graph in graphs.values():  # in the model itself: every key kept, used or not
        for node in graph.nodes:
            if node.op == "call_module" and node.target not in geometry:
                parent, _, name = node.target.rpartition(".")
                owner = model.get_submodule(parent) if parent else model
                module, geometry[node.target] = grid_modules.converted(
                    getattr(owner, name), layer, node.target
                )
                setattr(owner, name, module)
    for graph in graphs.values():
        _check(graph, model, geometry)
    if isinstance(pixel_size, bool) or not isinstance(pixel_size, (int, float)):
        raise GconvTypeError(f"{OWNER}: pixel_size must be a number (got {pixel_size!r})")
    if not pixel_size > 0:
        raise GconvValueError(f"{OWNER}: pixel_size must be > 0 (got {pixel_size})")
    network = GraphNetwork(model, graphs, geometry, path, float(pixel_size))
    return network.train(model.training)
