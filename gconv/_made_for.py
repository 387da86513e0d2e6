"""What kernel a typed graph was made for: its builder marks the ``edge_type`` tensor
it returns, and a layer of another kernel refuses it instead of reading its taps as
its own (a 3x3 grid's types 0-8 are also valid taps of a 5x5 kernel).

The mark lives beside the tensor (by identity, dropped with it), so a graph that is
rebuilt, sliced or collated (PyG's ``Batch.from_data_list``) carries none and is
checked by its values alone."""

from __future__ import annotations

import weakref

from torch import Tensor

_MADE: dict[int, tuple[weakref.ref[Tensor], tuple[int, int]]] = {}


def mark(edge_type: Tensor, kernel: tuple[int, int]) -> Tensor:
    """``edge_type``, marked as the taps of a ``kernel`` (``(k_h, k_w)``)."""
    key = id(edge_type)
    _MADE[key] = (weakref.ref(edge_type, lambda _: _MADE.pop(key, None)), kernel)
    return edge_type


def made_for(edge_type: Tensor) -> tuple[int, int] | None:
    """The kernel ``edge_type`` was marked for, or ``None``."""
    entry = _MADE.get(id(edge_type))
    if entry is None or entry[0]() is not edge_type:
        return None
    return entry[1]
