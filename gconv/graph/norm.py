r"""Adjacency normalization of graph convolutions, sparse and dense.

Convention: messages flow from ``edge_index[0]`` (source) to ``edge_index[1]`` (target), as
in PyG. The dense adjacency has :math:`A_{ij}` = weight of the edge :math:`j \to i` (row =
target), so that :math:`A X` gathers into each node what flows into it and the lecture
formula :math:`D^{-1/2} (A + I) D^{-1/2} X W` reads as written. For an undirected graph
:math:`A` is the usual symmetric adjacency.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.utils import add_remaining_self_loops

from gconv._checks import (
    check_choice,
    check_edge_index,
    check_edge_weight,
    check_positive_int,
    check_tensor,
    checking,
)
from gconv.errors import GconvTypeError, GconvValueError

NORMALIZATIONS = ("sym", "rw", "none")


def _num_nodes(owner: str, edge_index: Tensor, num_nodes: int | None) -> int:
    if num_nodes is None:
        return int(edge_index.max()) + 1 if edge_index.numel() > 0 else 0
    return check_positive_int(owner, "num_nodes", num_nodes, minimum=0)


def _inverse_power(owner: str, deg: Tensor, power: float) -> Tensor:
    if checking() and bool((deg < 0).any()):
        raise GconvValueError(
            f"{owner}: a node has negative weighted in-degree {float(deg.min())}; "
            "'sym' and 'rw' normalization need non-negative edge weights"
        )
    out = deg.pow(power)
    # isolated nodes (degree 0) get 0 instead of inf, so they contribute nothing
    return out.masked_fill_(torch.isinf(out), 0.0)


def gcn_normalize(
    edge_index: Tensor,
    edge_weight: Tensor | None = None,
    num_nodes: int | None = None,
    *,
    mode: str = "sym",
    add_self_loops: bool = True,
    improved: bool = False,
    dtype: torch.dtype | None = None,
) -> tuple[Tensor, Tensor]:
    r"""Normalizes the adjacency of a graph for graph convolution.

    .. math::
        \text{sym:}\ \hat A = D^{-1/2} (A + I) D^{-1/2} \qquad
        \text{rw:}\ \hat A = D^{-1} (A + I) \qquad
        \text{none:}\ \hat A = A + I

    with :math:`D_{ii} = \sum_j (A + I)_{ij}` the weighted in-degree. ``"sym"`` is Kipf and
    Welling's renormalization and equals PyG's ``gcn_norm``; ``"rw"`` is the random-walk
    form for directed graphs, where the weights of each node's incoming edges (self-loop
    included) sum to 1, so a node averages what flows into it.

    Self-loops are added only to nodes that lack one (an existing loop keeps its weight
    and is not doubled). Nodes without incoming edges get weight 0, never NaN or inf.

    Paper: `Semi-Supervised Classification with GCNs <https://arxiv.org/abs/1609.02907>`_.

    Args:
        edge_index: ``[2, E]`` source and target node ids.
        edge_weight: ``[E]`` edge weights, ones if ``None``.
        num_nodes: number of nodes, ``edge_index.max() + 1`` if ``None``.
        mode: ``"sym"``, ``"rw"`` or ``"none"``.
        add_self_loops: add the identity :math:`I` (weight 1) where a node has no loop.
        improved: add :math:`2I` instead, as PyG's ``gcn_norm(improved=True)``.
        dtype: floating type of the weights when ``edge_weight`` is ``None`` (default:
            torch's default type).

    Returns:
        ``(edge_index, edge_weight)`` of the normalized graph, self-loops appended.

    Shapes:
        - input: ``edge_index`` :math:`(2, E)`, ``edge_weight`` :math:`(E)`
        - output: :math:`(2, E')`, :math:`(E')` with :math:`E' \le E + N`

    Example:
        >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> ei, w = gcn_normalize(edge_index, num_nodes=3)
        >>> ei.shape, w.shape
        (torch.Size([2, 7]), torch.Size([7]))
    """
    owner = "gcn_normalize"
    check_choice(owner, "mode", mode, NORMALIZATIONS)
    check_edge_index(owner, edge_index, num_nodes)
    edge_weight = check_edge_weight(owner, edge_weight, edge_index.size(1))
    n = _num_nodes(owner, edge_index, num_nodes)
    edge_index = edge_index.long()

    if edge_weight is None:  # before the loops: PyG fills loops only beside weights
        edge_weight = torch.ones(
            edge_index.size(1), dtype=dtype or torch.get_default_dtype(), device=edge_index.device
        )
    if add_self_loops:
        edge_index, edge_weight = add_remaining_self_loops(
            edge_index, edge_weight, 2.0 if improved else 1.0, n
        )
    if mode == "none":
        return edge_index, edge_weight

    source, target = edge_index[0], edge_index[1]
    deg = edge_weight.new_zeros(n).index_add_(0, target, edge_weight)
    if mode == "sym":
        deg_inv_sqrt = _inverse_power(owner, deg, -0.5)
        return edge_index, deg_inv_sqrt[source] * edge_weight * deg_inv_sqrt[target]
    return edge_index, edge_weight * _inverse_power(owner, deg, -1.0)[target]


def adjacency_matrix(
    edge_index: Tensor, num_nodes: int, edge_weight: Tensor | None = None
) -> Tensor:
    r"""Dense adjacency :math:`A` with :math:`A_{ij}` = weight of edge :math:`j \to i`.

    Repeated edges add up. This is ``to_dense_adj(edge_index, edge_attr=edge_weight)[0].T``.

    Shapes:
        - input: ``edge_index`` :math:`(2, E)`
        - output: :math:`(N, N)`

    Example:
        >>> adjacency_matrix(torch.tensor([[0], [1]]), 2)
        tensor([[0., 0.],
                [1., 0.]])
    """
    owner = "adjacency_matrix"
    check_positive_int(owner, "num_nodes", num_nodes, minimum=0)
    check_edge_index(owner, edge_index, num_nodes)
    edge_weight = check_edge_weight(owner, edge_weight, edge_index.size(1))
    if edge_weight is None:
        edge_weight = torch.ones(
            edge_index.size(1), dtype=torch.get_default_dtype(), device=edge_index.device
        )
    adj = edge_weight.new_zeros(num_nodes, num_nodes)
    adj.index_put_((edge_index[1].long(), edge_index[0].long()), edge_weight, accumulate=True)
    return adj


def normalized_adjacency(adj: Tensor, mode: str = "sym", add_self_loops: bool = True) -> Tensor:
    r"""Dense normalized adjacency, the lecture view of :func:`gcn_normalize`.

    .. math::
        \text{sym:}\ D^{-1/2} (A + I) D^{-1/2} \qquad \text{rw:}\ D^{-1} (A + I)

    As in the sparse path, :math:`I` fills only zero diagonal entries, so an existing
    self-loop keeps its weight; rows of the ``"rw"`` result sum to 1.

    Shapes:
        - input: :math:`(N, N)` with :math:`A_{ij}` = weight of edge :math:`j \to i`
        - output: :math:`(N, N)`

    Example:
        >>> adj = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
        >>> normalized_adjacency(adj)
        tensor([[0.5000, 0.5000],
                [0.5000, 0.5000]])
    """
    owner = "normalized_adjacency"
    check_choice(owner, "mode", mode, NORMALIZATIONS)
    adj = check_tensor(owner, "adj", adj)
    if adj.dim() != 2 or adj.size(0) != adj.size(1):
        raise GconvValueError(
            f"{owner}: adj must be a square [N, N] matrix (got {tuple(adj.shape)})"
        )
    if not adj.is_floating_point():
        raise GconvTypeError(f"{owner}: adj must be floating point (got {adj.dtype})")
    if add_self_loops:
        diag = adj.diagonal()
        adj = adj + torch.diag(
            torch.where(diag == 0, torch.ones_like(diag), torch.zeros_like(diag))
        )
    if mode == "none":
        return adj
    deg = adj.sum(dim=1)
    if mode == "sym":
        d = _inverse_power(owner, deg, -0.5)
        return d.view(-1, 1) * adj * d.view(1, -1)
    return _inverse_power(owner, deg, -1.0).view(-1, 1) * adj


def normalization_mode(owner: str, normalize: bool | str) -> str:
    """A layer's ``normalize`` as one of :data:`NORMALIZATIONS` (``True`` is ``"sym"``)."""
    if isinstance(normalize, bool):
        return "sym" if normalize else "none"
    check_choice(owner, "normalize", normalize, (True, False, *NORMALIZATIONS))
    return normalize
