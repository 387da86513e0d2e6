"""Which task some data is: by name, or by a look at its first example or batch."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from torch import Tensor
from torch.utils.data import Dataset
from torch_geometric.data import Batch, Data
from torch_geometric.data import Dataset as PyGDataset
from torch_geometric.loader import ClusterLoader, NodeLoader

from gconv._checks import check_choice
from gconv.convert.grid_shape import grid_shape_of
from gconv.errors import GconvTypeError
from gconv.train.segmentation import SegmentationTask
from gconv.train.tasks import GraphTask, ImageTask, NodeTask, Task

TASKS: dict[str, type[Task]] = {
    "image": ImageTask,
    "node": NodeTask,
    "graph": GraphTask,
    "segmentation": SegmentationTask,
}


def get_task(name: str) -> Task:
    check_choice("Trainer", "task", name, tuple(TASKS))
    return TASKS[name]()


def _first(data: Any) -> Any:
    if isinstance(data, (list, tuple, Dataset)):
        return data[0] if len(data) else None  # type: ignore[arg-type]
    return next(iter(data), None)


def _graph_task(first: Any) -> Task:
    if isinstance(first, (list, tuple)):
        first = first[0]
    if grid_shape_of(first) is None:
        return GraphTask("graphs")
    y = getattr(first, "y", None)
    graphs = getattr(first, "num_graphs", 1)  # a Batch's, or one Data
    per_node = isinstance(y, Tensor) and y.numel() == first.num_nodes > graphs
    return SegmentationTask("pixel_grid_dense") if per_node else GraphTask("pixel_grid")


def infer_task(data: Any) -> Task:
    """The task of some data (peeking at its first example or batch);
    ``Trainer(task=...)`` overrides it. Images whose target is itself an image (a
    ``[H, W]`` mask) are segmentation, and so are pixel grids labelled per node."""
    if (isinstance(data, Data) and not isinstance(data, Batch)) or isinstance(
        data, (NodeLoader, ClusterLoader)
    ):
        return NodeTask()
    if isinstance(data, PyGDataset) or (
        isinstance(data, (list, tuple)) and data and isinstance(data[0], Data)
    ):  # graphs: pixel grids when the first is one (gconv.convert.grid_graph's grid_size)
        return _graph_task(data[0]) if len(data) else GraphTask()
    if isinstance(data, (Dataset, Iterable)):
        first = _first(data)
        if isinstance(first, Data) or (
            isinstance(first, (list, tuple)) and len(first) == 2 and isinstance(first[0], Data)
        ):
            return _graph_task(first)
        if isinstance(first, (list, tuple)) and len(first) == 1 and isinstance(first[0], Tensor):
            return ImageTask()  # unlabelled images: TensorDataset(images), for predict
        if isinstance(first, (list, tuple)) and len(first) == 2:
            target = first[1]
            if isinstance(target, Tensor) and target.dim() >= 2 and first[0].dim() >= 3:
                return SegmentationTask("images_dense")
            return ImageTask()
    raise GconvTypeError(
        "Trainer: cannot tell the task from data of type "
        f"{type(data).__name__}; expected a PyG Data (node), a PyG dataset or loader "
        "(graph), or a dataset or loader of (x, y) tensors (image, or segmentation when "
        "y is a mask)"
    )
