"""The three tasks the trainer knows: how to batch their data and what a step computes.

- image: a dataset or loader of ``(x, y)`` tensors; the model takes ``x``;
- node: one PyG ``Data`` with ``train_mask``/``val_mask``/``test_mask``, full batch; the
  model takes the ``Data`` and the loss counts the nodes of the phase's mask;
- graph: a PyG dataset or loader of graphs; the model takes the ``Batch`` and returns one
  row per graph.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset
from torch_geometric.data import Batch, Data
from torch_geometric.data import Dataset as PyGDataset
from torch_geometric.loader import DataLoader as PyGDataLoader

TASKS = ("image", "node", "graph")
MASKS = {"train": "train_mask", "val": "val_mask", "test": "test_mask"}


def infer_task(data: Any) -> str:
    """Guesses the task from the data; ``Trainer(task=...)`` overrides it."""
    if isinstance(data, Data) and not isinstance(data, Batch):
        return "node"
    if isinstance(data, (PyGDataset, PyGDataLoader)):
        return "graph"
    if isinstance(data, (list, tuple)) and data and isinstance(data[0], Data):
        return "graph"
    if isinstance(data, Dataset) and not isinstance(data, PyGDataset):
        first = data[0]
        return "graph" if isinstance(first, Data) else "image"
    if isinstance(data, Iterable):
        first = next(iter(data))
        if isinstance(first, Data):
            return "graph"
        if isinstance(first, (list, tuple)) and len(first) == 2:
            return "graph" if isinstance(first[0], Data) else "image"
    raise TypeError(
        "Trainer: cannot tell the task from data of type "
        f"{type(data).__name__}; expected a PyG Data (node), a PyG dataset or loader "
        "(graph), or a dataset or loader of (x, y) tensors (image)"
    )


def batches(task: str, data: Any, *, batch_size: int, shuffle: bool) -> Iterable[Any]:
    """What one epoch iterates over: loaders pass through, datasets get one."""
    if task == "node":
        return [data]
    if task == "graph" and isinstance(data, (PyGDataset, list, tuple)):
        return PyGDataLoader(data, batch_size=batch_size, shuffle=shuffle)
    if task == "image" and isinstance(data, Dataset):
        return DataLoader(data, batch_size=batch_size, shuffle=shuffle)
    if isinstance(data, Iterable):
        return data
    raise TypeError(f"Trainer: {task} data must be iterable (got {type(data).__name__})")


def to_device(task: str, batch: Any, device: torch.device) -> Any:
    if task == "image":
        x, y = batch
        return x.to(device, non_blocking=True), y.to(device, non_blocking=True)
    if isinstance(batch, (list, tuple)):  # a graph loader over (Data, label) pairs
        graphs, labels = batch
        graphs = graphs.to(device)
        graphs.y = labels.to(device)
        return graphs
    return batch.to(device)


def forward(task: str, model: nn.Module, batch: Any, phase: str) -> tuple[Tensor, Tensor]:
    """``(logits, targets)`` of one step; a node task keeps the phase's nodes only."""
    if task == "image":
        x, y = batch
        return model(x), y
    out = model(batch)
    if task == "graph":
        return out, batch.y.view(-1)
    mask = getattr(batch, MASKS[phase], None)
    if mask is None:
        raise ValueError(f"Trainer: node data needs a {MASKS[phase]} (got none)")
    return out[mask], batch.y[mask]


def count(data: Any) -> int | None:
    try:
        return len(data)
    except TypeError:
        return None
