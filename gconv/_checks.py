"""Argument and input checks shared by the public API.

Every message names the caller, the argument, what was expected and what came, so that
``GridConv2d: kernel_size must be odd (got 4)`` is what a user reads instead of an
``IndexError`` from deep inside a scatter.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import Tensor

from gconv.errors import GconvTypeError, GconvValueError


def _describe(value: object) -> str:
    if isinstance(value, Tensor):
        return f"Tensor of shape {tuple(value.shape)} and dtype {value.dtype}"
    return repr(value)


def check_positive_int(owner: str, name: str, value: object, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise GconvTypeError(f"{owner}: {name} must be an int (got {_describe(value)})")
    if value < minimum:
        raise GconvValueError(f"{owner}: {name} must be >= {minimum} (got {value})")
    return value


def check_probability(owner: str, name: str, value: object) -> float:
    """A probability such as a dropout rate: a number in [0, 1], as ``nn.Dropout`` takes."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise GconvTypeError(f"{owner}: {name} must be a number (got {_describe(value)})")
    if not 0.0 <= value <= 1.0:
        raise GconvValueError(f"{owner}: {name} must be in [0, 1] (got {value})")
    return float(value)


def check_bool(owner: str, name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise GconvTypeError(f"{owner}: {name} must be a bool (got {_describe(value)})")
    return value


def check_folder(owner: str, name: str, path: str | os.PathLike[str]) -> Path:
    """``path`` may be made a folder: neither it nor a parent is an existing file."""
    folder = Path(path)
    for part in (folder, *folder.parents):
        if part.exists() and not part.is_dir():
            prefix = f"{owner}: " if owner else ""
            raise GconvValueError(
                f"{prefix}{name} must be a folder (got {str(folder)!r}, and {str(part)!r} is "
                "a file)"
            )
    return folder


def check_odd_kernel(owner: str, kernel_size: object) -> int:
    k = check_positive_int(owner, "kernel_size", kernel_size)
    if k % 2 == 0:
        raise GconvValueError(f"{owner}: kernel_size must be odd (got {k})")
    return k


def check_choice(owner: str, name: str, value: object, choices: Sequence[object]) -> None:
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise GconvValueError(f"{owner}: {name} must be one of {allowed} (got {value!r})")


class BipartiteInputError(GconvTypeError, ValueError):
    """A pair of feature tensors given to a layer that takes one. gconv's checks raise
    ``TypeError`` for a wrong type, PyG raises ``ValueError`` for this one: the error is
    both, so code written for either catches it."""


def checking() -> bool:
    """False while ``torch.compile`` traces: a check that reads tensor values (a sync,
    a data-dependent branch) runs in eager calls and is left out of compiled graphs."""
    return not torch.compiler.is_compiling()


def check_tensor(owner: str, name: str, value: object) -> Tensor:
    if not isinstance(value, Tensor):
        raise GconvTypeError(f"{owner}: {name} must be a torch.Tensor (got {type(value).__name__})")
    return value


def check_features(
    owner: str,
    x: object,
    *,
    channels: int | None = None,
    num_nodes: int | None = None,
    static: bool = False,
) -> Tensor:
    """``x`` must be a floating ``[num_nodes, channels]`` node feature matrix; with
    ``static``, also ``[batch, num_nodes, channels]`` (one graph, many signals: PyG's
    static graphs)."""
    if isinstance(x, (tuple, list)):
        raise BipartiteInputError(
            f"{owner}: x must be one node feature tensor; this layer does not do bipartite "
            f"message passing (got a {type(x).__name__}); PyG's SAGEConv or GraphConv do"
        )
    x = check_tensor(owner, "x", x)
    if x.dim() != 2 and not (static and x.dim() == 3 and x.layout == torch.strided):
        shapes = "2-D [num_nodes, channels]" + (
            " or 3-D [batch, num_nodes, channels]" if static else ""
        )
        raise GconvValueError(f"{owner}: x must be {shapes} (got shape {tuple(x.shape)})")
    if not x.is_floating_point():
        raise GconvTypeError(f"{owner}: x must be a floating point tensor (got dtype {x.dtype})")
    if x.dim() == 3:
        if channels is not None and x.size(-1) != channels:
            raise GconvValueError(
                f"{owner}: x must have {channels} channels (in_channels) in its last "
                f"dimension (got shape {tuple(x.shape)})"
            )
        return x
    if channels is not None and x.size(1) != channels:
        raise GconvValueError(
            f"{owner}: x must have {channels} columns (in_channels) (got shape {tuple(x.shape)})"
        )
    if num_nodes is not None and x.size(0) != num_nodes:
        raise GconvValueError(
            f"{owner}: x must have one row per node, {num_nodes} rows (got {x.size(0)})"
        )
    return x


def check_dtype(owner: str, x: Tensor, weight: Tensor) -> None:
    """Features must have the weights' floating type (autocast, which casts for itself,
    excepted)."""
    if x.dtype != weight.dtype and not torch.is_autocast_enabled(x.device.type):
        raise GconvTypeError(
            f"{owner}: the input must have the weights' dtype {weight.dtype} (got {x.dtype}); "
            f"convert one of them, e.g. x.to({weight.dtype}) or model.to({x.dtype})"
        )


def check_edge_index(owner: str, edge_index: object, num_nodes: int | None) -> Tensor:
    """``edge_index`` must be an integer ``[2, num_edges]`` tensor with ids in range."""
    edge_index = check_tensor(owner, "edge_index", edge_index)
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise GconvValueError(
            f"{owner}: edge_index must have shape [2, num_edges] (got {tuple(edge_index.shape)})"
        )
    if edge_index.dtype not in (torch.long, torch.int32):
        raise GconvTypeError(
            f"{owner}: edge_index must be an integer tensor (torch.long) (got {edge_index.dtype})"
        )
    if edge_index.numel() > 0 and checking():
        lo, hi = _id_range(edge_index)
        if lo < 0:
            raise GconvValueError(f"{owner}: edge_index must hold node ids >= 0 (got {lo})")
        if num_nodes is not None and hi >= num_nodes:
            raise GconvValueError(
                f"{owner}: edge_index holds node id {hi}, out of range for {num_nodes} nodes"
            )
    return edge_index


class TensorMemo:
    """A value computed from a tensor, remembered while that very tensor lives
    unmodified (its identity and in-place version, as ``gconv.graph._cache`` keys a
    normalization), so a check that needs a device sync is paid once per tensor.

    A tensor cannot be a ``WeakKeyDictionary`` key (its ``==`` is elementwise); entries
    are keyed by ``id`` and hold a weak reference that tells a reused id apart.
    """

    def __init__(self) -> None:
        self._seen: dict[int, tuple[weakref.ref[Tensor], int, object]] = {}

    def get(self, tensor: Tensor) -> object | None:
        seen = self._seen.get(id(tensor))
        if seen is not None and seen[0]() is tensor and seen[1] == tensor._version:
            return seen[2]
        return None

    def __contains__(self, tensor: Tensor) -> bool:
        return self.get(tensor) is not None

    def put(self, tensor: Tensor, value: object) -> None:
        if len(self._seen) > 64:  # forget tensors that are gone
            for key in [k for k, (ref, *_) in self._seen.items() if ref() is None]:
                del self._seen[key]
        self._seen[id(tensor)] = (weakref.ref(tensor), tensor._version, value)


# every layer and epoch that sees the same edge_index, unmodified, reads its range once
_ranges = TensorMemo()


def _id_range(edge_index: Tensor) -> tuple[int, int]:
    seen = _ranges.get(edge_index)
    if seen is not None:
        return seen  # type: ignore[return-value]
    lo, hi = (int(v) for v in edge_index.aminmax())
    _ranges.put(edge_index, (lo, hi))
    return lo, hi


def check_edge_weight(owner: str, edge_weight: Tensor | None, num_edges: int) -> Tensor | None:
    if edge_weight is None:
        return None
    edge_weight = check_tensor(owner, "edge_weight", edge_weight)
    if edge_weight.dim() != 1 or edge_weight.numel() != num_edges:
        raise GconvValueError(
            f"{owner}: edge_weight must have shape [{num_edges}] (one weight per edge) "
            f"(got {tuple(edge_weight.shape)})"
        )
    if not edge_weight.is_floating_point():
        raise GconvTypeError(
            f"{owner}: edge_weight must be floating point (got {edge_weight.dtype})"
        )
    return edge_weight


def check_images(owner: str, images: object, *, channels: int | None = None) -> Tensor:
    """``images`` must be a floating ``[B, C, H, W]`` tensor."""
    images = check_tensor(owner, "images", images)
    if images.dim() != 4:
        raise GconvValueError(
            f"{owner}: images must be 4-D [B, C, H, W] (got shape {tuple(images.shape)})"
        )
    if not images.is_floating_point():  # a layer would fail later on the dtype, deep inside
        raise GconvTypeError(
            f"{owner}: images must be floating point (got {images.dtype}); scale them first, "
            "e.g. images.float() / 255 as torchvision's ToTensor does"
        )
    if channels is not None and images.size(1) != channels:
        raise GconvValueError(
            f"{owner}: images must have {channels} channels (got shape {tuple(images.shape)})"
        )
    return images


def check_feature_map(owner: str, x: object, channels: int) -> Tensor:
    """A CNN block's input: a floating ``[B, channels, H, W]`` tensor, or an unbatched
    ``[channels, H, W]`` one as ``nn.Conv2d`` takes it (said here, not as a
    convolution's shape error deep inside the block). A ``torch.fx`` trace (torchvision's
    ``create_feature_extractor``) passes a ``Proxy`` with no shape: nothing to check."""
    if isinstance(x, torch.fx.Proxy):
        return x  # type: ignore[return-value]
    x = check_tensor(owner, "input", x)
    if x.dim() not in (3, 4) or x.size(-3) != channels:
        raise GconvValueError(
            f"{owner}: input must be [B, {channels}, H, W] or [{channels}, H, W] "
            f"(got shape {tuple(x.shape)})"
        )
    if not x.is_floating_point():
        raise GconvTypeError(f"{owner}: input must be floating point (got {x.dtype})")
    return x


def plural(count: int, word: str) -> str:
    """``1 epoch``, ``2 epochs``: a count and its noun, as people write them."""
    return f"{count:,} {word}{'' if count == 1 else 's'}"
