"""A user's graphs as a :class:`LoadedDataset`: one graph whose nodes are classified, or
many graphs each with one label (see :func:`gconv.data.load_dataset`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data

from gconv.data.loaded import LoadedDataset
from gconv.data.splits import carve_splits, class_ids, first_fold_split, stratified_folds
from gconv.errors import GconvTypeError, GconvValueError

OWNER = "load_dataset"


def per_node(data: Any) -> bool:
    y = getattr(data, "y", None)
    return isinstance(y, Tensor) and y.dim() >= 1 and y.size(0) == data.num_nodes > 1


def with_features(data: Data, owner: str) -> Data:
    """A graph with floating node features: ones where it has none (PyG's
    ``from_networkx`` without ``group_node_attrs``), floats where they are integers."""
    if not isinstance(getattr(data, "edge_index", None), Tensor):
        raise GconvValueError(f"{owner} must have an edge_index (got {data})")
    x = getattr(data, "x", None)
    if isinstance(x, Tensor) and x.is_floating_point():
        return data
    data = data.clone()
    if x is None:
        data.x = torch.ones(data.num_nodes, 1)
    else:
        data.x = x.float().view(data.num_nodes, -1)
    return data


def nodes_dataset(name: str, data: Data, shares: tuple[float, float], seed: int) -> LoadedDataset:
    data = with_features(data, f"{OWNER}: the graph")
    y = getattr(data, "y", None)
    if not isinstance(y, Tensor) or y.dim() != 1 or y.numel() != data.num_nodes:
        got = "none" if y is None else f"shape {tuple(y.shape)}"
        raise GconvValueError(
            f"{OWNER}: node classification needs one label y per node ({data.num_nodes}) "
            f"(got {got})"
        )
    masks = [
        m
        for m in ("train_mask", "val_mask", "test_mask")
        if isinstance(getattr(data, m, None), Tensor)
    ]
    if len(masks) == 3:
        made = "the graph's own train_mask, val_mask and test_mask"
    elif masks:
        missing = sorted({"train_mask", "val_mask", "test_mask"} - set(masks))
        raise GconvValueError(
            f"{OWNER}: the graph must have all of train_mask, val_mask, test_mask or none "
            f"(it lacks {', '.join(missing)})"
        )
    else:
        labels = class_ids(y)
        index, made = carve_splits(labels, {"all": None}, shares, seed)
        data = data.clone()
        for split, chosen in index.items():
            mask = torch.zeros(data.num_nodes, dtype=torch.bool)
            mask[torch.as_tensor(chosen)] = True
            data[f"{split}_mask"] = mask
        made = made.replace("examples", "nodes") + " (as node masks)"
    num_classes = int(y.max()) + 1
    return LoadedDataset(
        name,
        "node",
        "nodes",
        data,
        data,
        data,
        data.num_features,
        num_classes,
        dataset=[data],
        split_method=made,
    )


def graphs_dataset(name: str, graphs: list[Any], seed: int, folds: int) -> LoadedDataset:
    if not graphs:
        raise GconvValueError(f"{OWNER}: graph classification needs at least one graph (got none)")
    fixed: list[Data] = []
    for i, graph in enumerate(graphs):
        if not isinstance(graph, Data):
            raise GconvTypeError(
                f"{OWNER}: graph {i} must be a PyG Data (got {type(graph).__name__})"
            )
        graph = with_features(graph, f"{OWNER}: graph {i}")
        y = getattr(graph, "y", None)
        if not isinstance(y, Tensor) or y.numel() != 1:
            got = "none" if y is None else f"shape {tuple(y.shape)}"
            raise GconvValueError(
                f"{OWNER}: graph classification needs one label y per graph (graph {i} has {got})"
            )
        fixed.append(graph)
    widths = {g.num_node_features for g in fixed}
    if len(widths) > 1:
        raise GconvValueError(
            f"{OWNER}: every graph must have the same number of node features (found "
            f"{sorted(widths)})"
        )
    labels = class_ids(torch.cat([g.y.view(-1) for g in fixed]))
    counts = np.bincount(labels)
    smallest = int(counts[counts > 0].min())
    folds = max(2, min(folds, smallest))
    splits = stratified_folds(labels, folds, seed)
    train, val, test = first_fold_split(labels, splits, seed)
    made = (
        f"train/val/test from the first of {folds} stratified folds (val: a tenth of its "
        f"training part), seed {seed}"
    )
    # pixel grids of one size (ImageToGridGraph, grid_graph, images_to_graphs' graphs)
    grids = {tuple(g.grid_size.view(-1).tolist()) if "grid_size" in g else None for g in fixed}
    grid = next(iter(grids)) if len(grids) == 1 else None
    shape = (fixed[0].num_node_features, *grid) if grid is not None else None
    return LoadedDataset(
        name,
        "graph",
        "graphs" if shape is None else "pixel_grid",
        [fixed[i] for i in train],
        [fixed[i] for i in val],
        [fixed[i] for i in test],
        fixed[0].num_node_features,
        int(labels.max()) + 1,
        shape,
        dataset=fixed,
        folds=splits,
        split_method=made,
    )
