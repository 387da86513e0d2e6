"""Confusion matrices and graph drawings."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from gconv.errors import GconvTypeError, GconvValueError
from gconv.viz._figure import save, subplots


def plot_confusion_matrix(
    y_true: Tensor | Sequence[int],
    y_pred: Tensor | Sequence[int],
    path: str | os.PathLike[str] | None = None,
    *,
    class_names: Sequence[str] | None = None,
    normalize: bool = False,
) -> Any:
    """Plots scikit-learn's confusion matrix (rows: true class, columns: predicted)."""
    from sklearn.metrics import confusion_matrix

    true = torch.as_tensor(y_true).cpu().numpy()
    pred = torch.as_tensor(y_pred).cpu().numpy()
    if true.shape != pred.shape:
        raise GconvValueError(
            f"plot_confusion_matrix: y_true {true.shape} and y_pred {pred.shape} differ"
        )
    labels = (
        list(range(int(max(true.max(), pred.max())) + 1))
        if class_names is None
        else list(range(len(class_names)))
    )
    matrix = confusion_matrix(true, pred, labels=labels, normalize="true" if normalize else None)
    names = list(class_names) if class_names is not None else [str(i) for i in labels]
    size = max(4.0, 0.5 * len(names))
    fig, ax = subplots(figsize=(size, size))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(names)), names, rotation=45)
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(len(names)):
        for j in range(len(names)):
            text = f"{matrix[i, j]:.2f}" if normalize else str(int(matrix[i, j]))
            ax.text(j, i, text, ha="center", va="center", fontsize=7)
    fig.tight_layout()
    return save(fig, path)


def draw_graph(
    data: Any, path: str | os.PathLike[str] | None = None, *, node_color: Tensor | None = None
) -> Any:
    """Draws a PyG graph with networkx: a molecule (colored by its one-hot node type) or a
    small grid graph (laid out at its ``pos``)."""
    import networkx as nx
    from torch_geometric.utils import to_networkx

    if getattr(data, "edge_index", None) is None:
        raise GconvTypeError(
            f"draw_graph: expected a PyG Data with edge_index (got {type(data).__name__})"
        )
    graph = to_networkx(data, to_undirected=True, remove_self_loops=True)
    pos = getattr(data, "pos", None)
    if pos is not None:  # (row, col): draw rows downwards
        layout = {i: (float(p[1]), -float(p[0])) for i, p in enumerate(pos)}
    else:
        layout = (
            nx.kamada_kawai_layout(graph)
            if graph.number_of_nodes() > 1
            else nx.spring_layout(graph)
        )
    if node_color is None and getattr(data, "x", None) is not None and data.x.dim() == 2:
        node_color = data.x.argmax(1) if data.x.size(1) > 1 else data.x[:, 0]
    style: dict[str, Any] = {"node_color": "tab:blue"}
    if node_color is not None:  # a colormap only where there are values to map
        categorical = not node_color.is_floating_point()
        cmap = "tab10" if categorical else "viridis"
        style = {"node_color": node_color.cpu().numpy(), "cmap": cmap}
    fig, ax = subplots(figsize=(5, 5))
    nx.draw(graph, layout, ax=ax, node_size=80, width=0.8, **style)
    ax.set_title(f"{data.num_nodes} nodes, {graph.number_of_edges()} edges", fontsize=9)
    return save(fig, path)
