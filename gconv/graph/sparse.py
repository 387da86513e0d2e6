"""Sparse node features: bag-of-words matrices that are 99% zeros stay sparse.

On a CPU, dropout and the first linear layer over a dense 2708 x 1433 Cora feature
matrix cost far more than the graph convolution itself. Kept as a CSR tensor, dropout
touches only the non-zeros and the product with the weight is an ``embedding_bag``.
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F
from torch import Tensor

from gconv.errors import GconvValueError


def is_sparse_csr(x: Tensor) -> bool:
    return x.layout == torch.sparse_csr


def to_sparse_features(x: Tensor) -> Tensor:
    """A dense ``[N, F]`` feature matrix as a CSR tensor."""
    if x.dim() != 2:
        raise GconvValueError(
            f"to_sparse_features: x must be 2-D [N, F] (got shape {tuple(x.shape)})"
        )
    with warnings.catch_warnings():  # "sparse CSR support is in beta": we use a stable subset
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return x.to_sparse_csr()


def density(x: Tensor) -> float:
    """Share of non-zero entries."""
    return float((x != 0).sum()) / max(1, x.numel())


def sparse_dropout(x: Tensor, p: float, training: bool) -> Tensor:
    """Dropout on the non-zeros of a CSR tensor (zeros stay zero either way)."""
    if not training or p == 0.0:
        return x
    values = F.dropout(x.values(), p, training=True)
    # the indices are those of a valid tensor, so its invariants hold without a check
    return torch.sparse_csr_tensor(
        x.crow_indices(), x.col_indices(), values, x.shape, check_invariants=False
    )


def sparse_linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    r""":math:`X W^\top + b` for a CSR ``x`` of shape ``[N, F]`` and ``weight`` ``[O, F]``.

    Each row is a weighted sum of the weight columns its non-zeros select, which is what
    ``F.embedding_bag`` computes (with gradients to the weight and to the values).
    """
    out = F.embedding_bag(
        x.col_indices(),
        weight.t(),
        x.crow_indices()[:-1],
        mode="sum",
        per_sample_weights=x.values(),
        include_last_offset=False,
    )
    return out if bias is None else out + bias
