"""What :func:`gconv.convert.cnn_to_gnn` returns: a CNN's modules as graph layers and
its traced graph, run over the node features of pixel grid graphs."""

from __future__ import annotations

import operator
from typing import Any

from torch import Tensor, fx, nn

from gconv._checks import check_choice
from gconv._head import HeadSurface
from gconv.convert import grid_modules, grid_values, irregular, irregular_values
from gconv.convert.grid_shape import grid_shape_of
from gconv.convert.grid_values import ATTRIBUTES, FUNCTIONS, METHODS, Grid
from gconv.convert.irregular_values import Irregular
from gconv.errors import GconvTypeError, GconvValueError

# the CNN's -> ours: a classifier takes any image graph (pixel grids, or graphs with pos)
KINDS = {"images": "graphs", "images_dense": "pixel_grid_dense"}


class GraphNetwork(HeadSurface):
    """A CNN converted by :func:`~gconv.convert.cnn_to_gnn`: its modules as graph
    layers, its traced graph run over pixel grid graphs, under the CNN's
    ``state_dict`` keys.

    ``forward(data, path=None)`` takes a batch of pixel grids (what
    :func:`gconv.convert.images_to_graphs` returns, or PyG's ``DataLoader`` batch of
    :func:`gconv.convert.grid_graph` graphs) and returns what the CNN returns: logits per image,
    or per-pixel outputs as the node features of the output grid. Other image graphs
    with ``pos`` (superpixels) run as :mod:`gconv.convert.irregular` says, with
    ``pixel_size`` the distance of two neighbouring pixels in ``pos``'s units. It reads the nodes'
    ``x`` and the grids' shape; each layer builds its own graph of the grid it works
    on. ``path`` (``"auto"`` or ``"message_passing"``, see
    :mod:`gconv.convert.grid_modules`) is the network's own unless a call names one.

    A CNN with timm's surface (gconv's models) keeps it: ``forward_features`` (per
    image, or per pixel node), ``forward_head``, ``num_features``, ``reset_classifier``;
    ``input_kind`` is ``"graphs"`` (``"pixel_grid_dense"`` for a per-pixel model).
    """

    def __init__(
        self,
        model: nn.Module,
        graphs: dict[str, fx.Graph],
        geometry: dict[str, Any],
        path: str = "auto",
        pixel_size: float = 1.0,
    ) -> None:
        super().__init__()
        check_choice(type(self).__name__, "path", path, grid_modules.PATHS)
        self.path, self.pixel_size = path, pixel_size
        for name, child in model.named_children():
            self.add_module(name, child)
        for name, value in list(model.named_parameters(recurse=False)):
            self.register_parameter(name, value)
        for name, buffer in list(model.named_buffers(recurse=False)):
            self.register_buffer(name, buffer)
        self.graphs, self.geometry = graphs, geometry
        self.input_kind = KINDS.get(getattr(model, "input_kind", "images"), "graphs")
        self.min_input_size = int(getattr(model, "min_input_size", 1))
        if hasattr(model, "num_features"):
            features: Any = model.num_features
            self.num_features = features
        self._cache: dict[tuple[Any, ...], Any] = {}

    def _graph(self, key: tuple[Any, ...], build: Any) -> Any:
        """A layer's graph for one batch shape, built once."""
        if key not in self._cache:
            if len(self._cache) > 64:
                self._cache.clear()
            self._cache[key] = build()
        return self._cache[key]

    def _run(self, which: str, data: Any, path: str | None) -> Any:
        owner = type(self).__name__
        path = self.path if path is None else path
        check_choice(owner, "path", path, grid_modules.PATHS)
        x = getattr(data, "x", None)
        if not isinstance(x, Tensor):
            raise GconvTypeError(
                f"{owner}: data must be a batch of pixel grid graphs with x "
                "(gconv.convert.images_to_graphs, or PyG's DataLoader over "
                "gconv.convert.grid_graph graphs) "
                f"(got {type(data).__name__})"
            )
        shape = grid_shape_of(data)
        dense = self.input_kind == "pixel_grid_dense"  # per-pixel outputs: grids only
        if shape is None and not dense and getattr(data, "pos", None) is not None:
            value = irregular_values.from_data(data, self.pixel_size)
            return _nodes(_Runner(self, self.graphs[which], path).run(value))
        if shape is None:
            raise GconvValueError(
                f"{owner}: the graphs must be full pixel grids of one size, with grid_shape "
                "(gconv.convert.images_to_graphs) or grid_size (gconv.convert.grid_graph), "
                "or image graphs with pos (row, column), such as superpixels"
            )
        if shape[0] * shape[1] * shape[2] != x.size(0):
            raise GconvValueError(
                f"{owner}: grid_shape {tuple(shape)} has {shape[0] * shape[1] * shape[2]} "
                f"pixels (got {x.size(0)} nodes)"
            )
        if min(shape[1:]) < self.min_input_size:
            raise GconvValueError(
                f"{owner}: grids must be at least {self.min_input_size}x"
                f"{self.min_input_size} (got {shape[1]}x{shape[2]})"
            )
        return _nodes(_Runner(self, self.graphs[which], path).run(Grid(x, shape)))

    def forward(self, data: Any, path: str | None = None) -> Any:
        return self._run("forward", data, path)

    def forward_features(self, data: Any, path: str | None = None) -> Any:
        """The CNN's ``forward_features``: one vector per image, or per pixel node."""
        if "forward_features" not in self.graphs:
            raise GconvTypeError(
                f"{type(self).__name__}: the CNN converted had no forward_features"
            )
        return self._run("forward_features", data, path)


def _nodes(value: Any) -> Any:
    """Grids in the output become their node features."""
    if isinstance(value, (Grid, Irregular)):
        return value.x
    if isinstance(value, dict):
        return type(value)((k, _nodes(v)) for k, v in value.items())
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(_nodes(v) for v in value))
    if isinstance(value, (list, tuple)):
        return type(value)(_nodes(v) for v in value)
    return value


def _has(kind: type, args: Any) -> bool:
    return any(
        isinstance(a, kind)
        or (isinstance(a, (list, tuple)) and any(isinstance(b, kind) for b in a))
        for a in args
    )


def _name(target: Any) -> str:
    return str(getattr(target, "__name__", target))


class _Runner(fx.Interpreter):
    """Runs a traced graph with grids for the CNN's tensors."""

    def __init__(self, net: GraphNetwork, graph: fx.Graph, path: str) -> None:
        super().__init__(net, garbage_collect_values=True, graph=graph)
        self.extra_traceback = False  # gconv's errors stay one line
        self.net, self.path = net, path

    def call_module(self, target: Any, args: Any, kwargs: Any) -> Any:
        if args and isinstance(args[0], Irregular):
            geometry = self.net.geometry.get(target)
            on_graph = isinstance(geometry, grid_modules.OnGrid)
            return irregular.run(self.fetch_attr(target), args[0], geometry, on_graph)
        if args and isinstance(args[0], Grid):
            module = self.fetch_attr(target)
            geometry = self.net.geometry.get(target)
            return grid_modules.run(module, args[0], self.path, self.net._graph, geometry, **kwargs)
        return super().call_module(target, args, kwargs)

    def call_function(self, target: Any, args: Any, kwargs: Any) -> Any:
        if args and isinstance(args[0], Irregular) and target in grid_modules.POOLS:
            module, geometry = grid_modules.pool_module(target, *args[1:], **kwargs)
            return irregular.run(module.to(args[0].x.device), args[0], geometry, False)
        if args and (
            isinstance(args[0], Irregular)
            or (_has(Irregular, args) and target is not operator.getitem)  # not a[i] of a list
        ):
            return _on_irregular(irregular_values.FUNCTIONS, target, args, kwargs)
        if target is getattr and isinstance(args[0], Grid):
            return ATTRIBUTES[args[1]](args[0])
        if target is operator.getitem and isinstance(args[0], Grid):
            return grid_values.crop(args[0], args[1])
        if args and isinstance(args[0], Grid) and target in grid_modules.POOLS:
            return grid_modules.run_function(
                target, args[0], self.path, self.net._graph, *args[1:], **kwargs
            )
        if _has(Grid, args) and target in FUNCTIONS:
            return FUNCTIONS[target](_name(target), *args, **kwargs)
        return super().call_function(target, args, kwargs)

    def call_method(self, target: Any, args: Any, kwargs: Any) -> Any:
        if args and isinstance(args[0], Irregular):
            return _on_irregular(irregular_values.METHODS, target, args, kwargs)
        if args and isinstance(args[0], Grid):
            return METHODS[target](target, *args, **kwargs)
        return super().call_method(target, args, kwargs)


def _on_irregular(table: dict[Any, Any], target: Any, args: Any, kwargs: Any) -> Any:
    if target not in table:
        raise GconvValueError(
            f"{grid_values.OWNER}: {_name(target)} has no form on graphs that are not pixel "
            "grids (a flatten or reshape needs a grid: read out with a mean or an adaptive "
            "pool instead)"
        )
    return table[target](_name(target), *args, **kwargs)
