r"""Neighbour sampling in pure torch, as a PyG ``BaseSampler``.

GraphSAGE's sampler (Hamilton et al., 2017): from a batch of seed nodes, each hop draws
up to ``num_neighbors[hop]`` of every frontier node's incoming edges, uniformly and
without replacement, and the nodes they come from become the next frontier. The graph is
held once as CSC (incoming edges grouped by target); a hop is a handful of vectorized
tensor operations, whatever the batch size.

The output is PyG's ``SamplerOutput`` with PyG's conventions: the seed nodes come first
in ``node``, ``row``/``col`` are local ids of source and target (messages flow from the
sampled neighbour to the node that sampled it), ``edge`` holds the ids of the sampled
edges in the original graph, and ``num_sampled_nodes``/``num_sampled_edges`` count per
hop. Randomness comes from torch's generator, so ``torch.manual_seed`` repeats a run.

Paper: `Inductive Representation Learning on Large Graphs
<https://arxiv.org/abs/1706.02216>`_.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor
from torch_geometric.sampler import (
    BaseSampler,
    EdgeSamplerInput,
    NodeSamplerInput,
    SamplerOutput,
)

from gconv._checks import check_edge_index
from gconv.errors import GconvTypeError, GconvValueError


def _check_fanout(owner: str, num_neighbors: object) -> list[int]:
    if not isinstance(num_neighbors, Sequence) or isinstance(num_neighbors, str):
        raise GconvTypeError(
            f"{owner}: num_neighbors must be a list of ints, one per hop "
            f"(got {type(num_neighbors).__name__})"
        )
    fanout = list(num_neighbors)
    if not fanout or any(
        isinstance(k, bool) or not isinstance(k, int) or (k < 1 and k != -1) for k in fanout
    ):
        raise GconvValueError(
            f"{owner}: num_neighbors must be a non-empty list of ints >= 1, or -1 for every "
            f"neighbour (got {num_neighbors!r})"
        )
    return fanout


class TorchNeighborSampler(BaseSampler):
    """Samples ``num_neighbors[i]`` incoming edges per node at hop ``i`` (``-1``: all).

    Args:
        data: a PyG ``Data`` with ``edge_index`` (and ``num_nodes``).
        num_neighbors: fan-out of each hop, e.g. ``[10, 5]``.
        replace: draw each node's ``k`` neighbours with replacement (any ``k`` from a
            node with neighbours, repeats possible), as PyG's ``replace=True``.
    """

    def __init__(self, data: Any, num_neighbors: Sequence[int], replace: bool = False) -> None:
        owner = type(self).__name__
        self.num_neighbors = _check_fanout(owner, num_neighbors)
        if not isinstance(replace, bool):
            raise GconvTypeError(f"{owner}: replace must be a bool (got {replace!r})")
        self.replace = replace
        edge_index = getattr(data, "edge_index", None)
        num_nodes = getattr(data, "num_nodes", None)
        if not isinstance(num_nodes, int):
            raise GconvTypeError(f"{owner}: data must be a PyG Data with num_nodes (got {data!r})")
        edge_index = check_edge_index(owner, edge_index, num_nodes).long()
        self.num_nodes = num_nodes
        source, target = edge_index[0], edge_index[1]
        # CSC: incoming edges grouped by target, in one stable sort
        self.edge_ids = torch.argsort(target, stable=True)
        self.sources = source[self.edge_ids]
        self.colptr = torch.zeros(num_nodes + 1, dtype=torch.long)
        self.colptr[1:] = torch.bincount(target, minlength=num_nodes).cumsum(0)

    def _sample_hop(self, frontier: Tensor, k: int) -> tuple[Tensor, Tensor, Tensor]:
        """``(positions, targets)`` of up to ``k`` incoming edges of every frontier node:
        CSC positions of the edges, and the frontier index each belongs to."""
        start, end = self.colptr[frontier], self.colptr[frontier + 1]
        degree = end - start
        if self.replace and k >= 0:  # k uniform draws per node that has neighbours
            draws = torch.where(degree > 0, k, 0)
            owner = torch.repeat_interleave(torch.arange(frontier.numel()), draws)
            offsets = (torch.rand(owner.numel()) * degree[owner]).long()
            return start[owner] + offsets, owner, degree
        total = int(degree.sum())
        owner = torch.repeat_interleave(torch.arange(frontier.numel()), degree)
        offsets = torch.arange(total) - torch.repeat_interleave(degree.cumsum(0) - degree, degree)
        positions = start[owner] + offsets
        if k >= 0 and total:
            # without replacement: a random key per candidate, the k smallest per node
            keys = torch.rand(total) + owner.to(torch.get_default_dtype())
            order = torch.argsort(keys)
            owner, positions = owner[order], positions[order]
            rank = torch.arange(total) - torch.repeat_interleave(degree.cumsum(0) - degree, degree)
            keep = rank < k
            owner, positions = owner[keep], positions[keep]
        return positions, owner, degree

    def sample_from_nodes(self, inputs: NodeSamplerInput, **kwargs: Any) -> SamplerOutput:
        seeds = inputs.node.long()
        local = torch.full((self.num_nodes,), -1, dtype=torch.long)
        local[seeds] = torch.arange(seeds.numel())
        nodes, rows, cols, edges = [seeds], [], [], []
        num_nodes, num_edges = [seeds.numel()], []
        frontier, frontier_local, count = seeds, local[seeds], seeds.numel()
        for k in self.num_neighbors:
            positions, owner, _ = self._sample_hop(frontier, k)
            src = self.sources[positions]
            # nodes not seen before join in order of first appearance
            new = src[local[src] < 0]
            if new.numel():
                uniq, inverse = torch.unique(new, return_inverse=True)
                first = torch.full((uniq.numel(),), new.numel(), dtype=torch.long)
                first.scatter_reduce_(0, inverse, torch.arange(new.numel()), "amin")
                fresh = uniq[torch.argsort(first)]
                local[fresh] = torch.arange(count, count + fresh.numel())
                count += fresh.numel()
            else:
                fresh = new
            rows.append(local[src])
            cols.append(frontier_local[owner])
            edges.append(self.edge_ids[positions])
            nodes.append(fresh)
            num_nodes.append(fresh.numel())
            num_edges.append(positions.numel())
            frontier, frontier_local = fresh, local[fresh]
        return SamplerOutput(
            node=torch.cat(nodes),
            row=torch.cat(rows),
            col=torch.cat(cols),
            edge=torch.cat(edges),
            batch=None,
            num_sampled_nodes=num_nodes,
            num_sampled_edges=num_edges,
            metadata=(inputs.input_id, inputs.time),
        )

    def sample_from_edges(
        self, inputs: EdgeSamplerInput, neg_sampling: Any = None
    ) -> SamplerOutput:
        """Link-level sampling, for PyG's ``LinkLoader``: the neighbourhoods of both ends
        of every seed link, with ``edge_label_index`` in the batch's local ids."""
        if neg_sampling is not None:
            raise GconvValueError(
                f"{type(self).__name__}: neg_sampling must be None; give negative links as "
                f"labelled edges instead (got {neg_sampling!r})"
            )
        ends = torch.cat([inputs.row, inputs.col]).long()
        nodes, local = torch.unique(ends, return_inverse=True)
        out = self.sample_from_nodes(NodeSamplerInput(input_id=None, node=nodes))
        out.metadata = (inputs.input_id, local.view(2, -1), inputs.label, inputs.time)
        return out

    @property
    def edge_permutation(self) -> None:
        return None  # ``edge`` holds the original edge ids already
