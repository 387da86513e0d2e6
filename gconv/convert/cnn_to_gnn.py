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
import operator
from typing import Any

import torch
from torch import Tensor, fx, nn

from gconv._checks import check_choice
from gconv.convert import grid_modules, grid_values
from gconv.convert.grid_shape import grid_shape_of
from gconv.convert.grid_values import ATTRIBUTES, FUNCTIONS, METHODS, OWNER, Grid
from gconv.errors import GconvTypeError, GconvValueError

LEAVES = ("StochasticDepth", "Permute", "LayerNorm2d")  # torchvision's, converted whole
READOUTS = {"flatten", "view", "reshape", "size", "shape"}


class _Tracer(fx.Tracer):
    def __init__(self) -> None:
        from torchvision.models.shufflenetv2 import channel_shuffle

        FUNCTIONS.setdefault(channel_shuffle, grid_values.channel_shuffle)
        super().__init__(autowrap_functions=(channel_shuffle,))

    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return type(m).__name__ in LEAVES or super().is_leaf_module(m, qualname)


def _where(node: fx.Node) -> str:
    target = (
        node.target
        if isinstance(node.target, str)
        else getattr(node.target, "__name__", node.target)
    )
    return f"{node.op} {target!s} (node {node.name!r})"


def _check(graph: fx.Graph, model: nn.Module) -> None:
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
            ok = grid_modules.handles(modules[node.target])
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


class GraphNetwork(nn.Module):
    """A CNN converted by :func:`cnn_to_gnn`: its modules as graph layers, its traced
    graph run over pixel grid graphs. ``forward(data, path=None)`` takes a batch of
    pixel grids (what :func:`gconv.images_to_graphs` returns, or PyG's ``DataLoader``
    batch of :func:`gconv.grid_graph` graphs) and returns what the CNN returns: logits
    per image, or per-pixel outputs as the node features of the output grid. ``path``
    (``"auto"`` or ``"message_passing"``, see :mod:`gconv.convert.grid_modules`) is the
    network's own unless a call names one."""

    def __init__(self, model: nn.Module, graph: fx.Graph, path: str = "auto") -> None:
        super().__init__()
        check_choice(type(self).__name__, "path", path, grid_modules.PATHS)
        self.path = path
        for name, child in model.named_children():
            self.add_module(name, child)
        for name, value in list(model.named_parameters(recurse=False)):
            self.register_parameter(name, value)
        for name, buffer in list(model.named_buffers(recurse=False)):
            self.register_buffer(name, buffer)
        self.graph = graph
        self._graphs: dict[tuple[Any, ...], Any] = {}

    def _graph(self, key: tuple[Any, ...], build: Any) -> Any:
        if key not in self._graphs:
            if len(self._graphs) > 64:
                self._graphs.clear()
            self._graphs[key] = build()
        return self._graphs[key]

    def forward(self, data: Any, path: str | None = None) -> Any:
        path = self.path if path is None else path
        check_choice(type(self).__name__, "path", path, grid_modules.PATHS)
        shape = grid_shape_of(data)
        x = getattr(data, "x", None)
        if shape is None or not isinstance(x, Tensor):
            raise GconvTypeError(
                f"{type(self).__name__}: data must be a batch of pixel grid graphs with x "
                "(gconv.images_to_graphs, or PyG's DataLoader over gconv.grid_graph graphs) "
                f"(got {type(data).__name__})"
            )
        out = _Runner(self, path).run(Grid(x, shape))
        return _nodes(out)


def _nodes(value: Any) -> Any:
    """Grids in the output become their node features."""
    if isinstance(value, Grid):
        return value.x
    if isinstance(value, dict):
        return type(value)((k, _nodes(v)) for k, v in value.items())
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(_nodes(v) for v in value))
    if isinstance(value, (list, tuple)):
        return type(value)(_nodes(v) for v in value)
    return value


def _has_grid(args: Any) -> bool:
    return any(
        isinstance(a, Grid)
        or (isinstance(a, (list, tuple)) and any(isinstance(b, Grid) for b in a))
        for a in args
    )


class _Runner(fx.Interpreter):
    def __init__(self, net: GraphNetwork, path: str) -> None:
        super().__init__(net, garbage_collect_values=True, graph=net.graph)
        self.net, self.path = net, path

    def call_module(self, target: Any, args: Any, kwargs: Any) -> Any:
        if args and isinstance(args[0], Grid):
            module = self.fetch_attr(target)
            return grid_modules.run(module, args[0], self.path, self.net._graph, **kwargs)
        return super().call_module(target, args, kwargs)

    def call_function(self, target: Any, args: Any, kwargs: Any) -> Any:
        if target is getattr and isinstance(args[0], Grid):
            return ATTRIBUTES[args[1]](args[0])
        if target is operator.getitem and isinstance(args[0], Grid):
            return grid_values.crop(args[0], args[1])
        if args and isinstance(args[0], Grid) and target in grid_modules.POOLS:
            return grid_modules.run_function(
                target, args[0], self.path, self.net._graph, *args[1:], **kwargs
            )
        if _has_grid(args) and target in FUNCTIONS:
            return FUNCTIONS[target](getattr(target, "__name__", str(target)), *args, **kwargs)
        return super().call_function(target, args, kwargs)

    def call_method(self, target: Any, args: Any, kwargs: Any) -> Any:
        if args and isinstance(args[0], Grid):
            return METHODS[target](target, *args, **kwargs)
        return super().call_method(target, args, kwargs)


def cnn_to_gnn(model: nn.Module, *, path: str = "auto") -> GraphNetwork:
    """``model`` (any CNN ``torch.fx`` can trace) as a graph network over pixel grids.

    The model is copied (its weights too) and traced; its ``nn.Conv2d``,
    ``nn.ConvTranspose2d``, ``nn.MaxPool2d`` and ``nn.BatchNorm2d`` become
    :class:`gconv.nn.GridConv2d`, :class:`gconv.nn.GridConvTranspose2d`,
    :class:`gconv.nn.GridMaxPool2d` and a node-wise ``nn.BatchNorm1d`` under the same
    names, and every other operation runs on node features (see
    :mod:`gconv.convert.grid_values`). An operation with no graph form is named, with
    its place in the traced graph, here rather than at the first batch. ``path`` is
    how the network runs unless a call says otherwise: ``"auto"`` (each layer's
    fastest exact path) or ``"message_passing"`` (every message along an edge).

    Example:
        >>> from gconv import images_to_graphs
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
    model = copy.deepcopy(model)
    try:
        graph = _Tracer().trace(model)
    except Exception as err:  # fx raises its own kinds on untraceable control flow
        raise GconvValueError(
            f"{OWNER}: {type(model).__name__} must be traceable by torch.fx (found "
            f"{type(err).__name__}: {err})"
        ) from None
    for node in graph.nodes:  # in the model itself: every key kept, used or not
        if node.op == "call_module":
            parent, _, name = node.target.rpartition(".")
            owner = model.get_submodule(parent) if parent else model
            setattr(owner, name, grid_modules.converted(getattr(owner, name)))
    _check(graph, model)
    return GraphNetwork(model, graph, path).train(model.training)
