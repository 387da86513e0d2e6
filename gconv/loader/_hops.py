"""One hop of neighbour sampling in pure torch: each frontier entry's candidate edges,
which of them are drawn, and the nodes seen so far (per seed, when disjoint)."""

from __future__ import annotations

import torch
from torch import Tensor


def candidates(colptr: Tensor, frontier: Tensor) -> tuple[Tensor, Tensor]:
    """``(positions, owner)``: the CSC positions of every incoming edge of every
    frontier node, and the frontier index each belongs to (grouped by owner)."""
    start, end = colptr[frontier], colptr[frontier + 1]
    degree = end - start
    total = int(degree.sum())
    owner = torch.repeat_interleave(torch.arange(frontier.numel()), degree)
    offsets = torch.arange(total) - torch.repeat_interleave(degree.cumsum(0) - degree, degree)
    return start[owner] + offsets, owner


def _first_of(owner: Tensor, count: int) -> Tensor:
    """Where each owner's run starts in ``owner`` (sorted), ``count`` owners."""
    size = torch.bincount(owner, minlength=count)
    return size.cumsum(0) - size


def choose(
    owner: Tensor,
    count: int,
    k: int,
    *,
    replace: bool = False,
    weight: Tensor | None = None,
    recency: Tensor | None = None,
) -> Tensor:
    """Indices of the candidates drawn: up to ``k`` of each of ``count`` owners
    (``owner`` sorted; ``-1``: all).

    Uniformly, or in proportion to ``weight`` (a weight of zero is never drawn);
    ``recency`` (temporal ``"last"``): the ``k`` most recent. Without ``replace``, the
    ``k`` smallest random keys of each owner (for weights, Efraimidis and Spirakis's
    ``-log(u) / w``); with it, ``k`` draws from each owner's cumulative weights.
    """
    n = owner.numel()
    if k < 0 or n == 0:
        return torch.arange(n)
    if replace and recency is None:
        w = torch.ones(n) if weight is None else weight.double()
        total = torch.zeros(count, dtype=w.dtype).index_add_(0, owner, w)
        draws = torch.where(total > 0, k, 0)
        drawer = torch.repeat_interleave(torch.arange(count), draws)
        cumulative = w.cumsum(0)
        first = _first_of(owner, count)
        base = cumulative[first.clamp(max=n - 1)] - w[first.clamp(max=n - 1)]
        target = base[drawer] + torch.rand(drawer.numel(), dtype=w.dtype) * total[drawer]
        index = torch.searchsorted(cumulative, target, right=True)
        last = first + torch.bincount(owner, minlength=count) - 1
        return torch.minimum(torch.maximum(index, first[drawer]), last[drawer])
    # a key in [0, 1) per candidate, the k smallest of each owner kept: owner + key sorts
    # by owner, then by key, in one sort
    if recency is not None:  # the most recent first
        time = recency.double()
        key = (time.max() - time) / (float(time.max() - time.min()) + 1.0)
    elif weight is not None:  # Efraimidis and Spirakis: -log(u) / w, squashed into [0, 1)
        race = -torch.log(torch.rand(n, dtype=torch.float64)) / weight.double()
        key = 1.0 - 1.0 / (1.0 + race)  # a weight of zero: race inf, key 1 (no NaN)
    else:
        key = torch.rand(n, dtype=torch.float64)
    order = torch.argsort(owner.double() + key.clamp(max=1.0 - 1e-9))
    rank = torch.arange(n) - _first_of(owner, count)[owner[order]]
    keep = rank < k
    if weight is not None:
        keep &= weight[order] > 0  # a weight of zero is never drawn
    return order[keep]


class Seen:
    """The nodes sampled so far and their local ids: one dense table of nodes, or
    (disjoint: each seed its own subgraph) sorted keys ``tree * num_nodes + node``."""

    def __init__(self, num_nodes: int, disjoint: bool) -> None:
        self.num_nodes, self.disjoint, self.count = num_nodes, disjoint, 0
        self.table = None if disjoint else torch.full((num_nodes,), -1, dtype=torch.long)
        self.keys = torch.empty(0, dtype=torch.long)
        self.local = torch.empty(0, dtype=torch.long)

    def key(self, node: Tensor, tree: Tensor) -> Tensor:
        return tree * self.num_nodes + node if self.disjoint else node

    def lookup(self, keys: Tensor) -> Tensor:
        """Local ids of ``keys``, ``-1`` for unseen ones."""
        if self.table is not None:
            return self.table[keys]
        if self.keys.numel() == 0:
            return torch.full_like(keys, -1)
        at = torch.searchsorted(self.keys, keys).clamp(max=self.keys.numel() - 1)
        return torch.where(self.keys[at] == keys, self.local[at], -1)

    def add(self, keys: Tensor) -> Tensor:
        """The unseen ``keys``, each once in order of first appearance, given the next
        local ids; returns them."""
        new = keys[self.lookup(keys) < 0]
        if new.numel() == 0:
            return new
        uniq, inverse = torch.unique(new, return_inverse=True)
        first = torch.full((uniq.numel(),), new.numel(), dtype=torch.long)
        first.scatter_reduce_(0, inverse, torch.arange(new.numel()), "amin")
        fresh = uniq[torch.argsort(first)]
        ids = torch.arange(self.count, self.count + fresh.numel())
        self.count += fresh.numel()
        if self.table is not None:
            self.table[fresh] = ids
        else:
            keys_all = torch.cat([self.keys, fresh])
            order = torch.argsort(keys_all)
            self.keys, self.local = keys_all[order], torch.cat([self.local, ids])[order]
        return fresh
