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

from gconv._checks import check_choice, check_edge_index
from gconv.errors import GconvTypeError, GconvValueError
from gconv.loader._hops import Seen, candidates, choose


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


SUBGRAPH_TYPES = ("directional", "bidirectional", "induced")
TEMPORAL_STRATEGIES = ("uniform", "last")


def _edge_attr(
    owner: str, data: Any, name: str | None, csc: Tensor, argument: str
) -> Tensor | None:
    """``data[name]``, one value per edge, in the sampler's CSC order."""
    if name is None:
        return None
    value = getattr(data, name, None)
    if not isinstance(value, Tensor) or value.shape[:1] != (csc.numel(),):
        got = tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__
        raise GconvValueError(
            f"{owner}: {argument}={name!r} must name a tensor of one value per edge "
            f"({csc.numel()}) (got {got})"
        )
    return value[csc]


class TorchNeighborSampler(BaseSampler):
    """Samples ``num_neighbors[i]`` incoming edges per node at hop ``i`` (``-1``: all),
    with PyG's ``NeighborSampler`` options.

    Args:
        data: a PyG ``Data`` with ``edge_index`` (and ``num_nodes``).
        num_neighbors: fan-out of each hop, e.g. ``[10, 5]``.
        replace: draw each node's ``k`` neighbours with replacement (any ``k`` from a
            node with neighbours, repeats possible), as PyG's ``replace=True``.
        subgraph_type: ``"directional"`` (the sampled edges), ``"bidirectional"`` (and
            their reverses, PyG's ``SamplerOutput.to_bidirectional``) or ``"induced"``
            (every edge between the sampled nodes).
        disjoint: each seed its own subgraph (a node sampled by two seeds appears
            twice; ``batch`` says whose each node is), as PyG's.
        temporal_strategy: ``"uniform"`` among the neighbours in time, or ``"last"``:
            the most recent ones.
        time_attr: a node attribute (a neighbour is in time if its time is at most its
            seed's) or an edge attribute (an edge is, if its time is); temporal
            sampling is disjoint, as PyG's. The seeds' times are the loader's
            ``input_time`` (default, for node times: the seeds' own).
        weight_attr: an edge attribute: neighbours drawn in proportion to it (a weight of
            zero is never drawn).
    """

    def __init__(
        self,
        data: Any,
        num_neighbors: Sequence[int],
        replace: bool = False,
        subgraph_type: str = "directional",
        disjoint: bool = False,
        temporal_strategy: str = "uniform",
        time_attr: str | None = None,
        weight_attr: str | None = None,
    ) -> None:
        owner = type(self).__name__
        self.num_neighbors = _check_fanout(owner, num_neighbors)
        for name, flag in (("replace", replace), ("disjoint", disjoint)):
            if not isinstance(flag, bool):
                raise GconvTypeError(f"{owner}: {name} must be a bool (got {flag!r})")
        subgraph_type = str(getattr(subgraph_type, "value", subgraph_type))  # PyG's enum
        check_choice(owner, "subgraph_type", subgraph_type, SUBGRAPH_TYPES)
        check_choice(owner, "temporal_strategy", temporal_strategy, TEMPORAL_STRATEGIES)
        self.replace, self.subgraph_type = replace, subgraph_type
        self.temporal_strategy = temporal_strategy
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
        self.weight = _edge_attr(owner, data, weight_attr, self.edge_ids, "weight_attr")
        self.node_time: Tensor | None = None
        self.edge_time: Tensor | None = None
        if time_attr is not None:
            value = getattr(data, time_attr, None)
            if isinstance(value, Tensor) and data.is_node_attr(time_attr):
                self.node_time = value
            else:
                self.edge_time = _edge_attr(owner, data, time_attr, self.edge_ids, "time_attr")
        self.disjoint = disjoint or self.is_temporal

    @property
    def is_temporal(self) -> bool:
        return self.node_time is not None or self.edge_time is not None

    def _seed_time(self, inputs: NodeSamplerInput, seeds: Tensor) -> Tensor | None:
        if not self.is_temporal:
            return None
        if inputs.time is not None:
            return inputs.time
        if self.node_time is None:
            raise GconvValueError(
                f"{type(self).__name__}: edge-level temporal sampling needs input_time, "
                "the seeds' times"
            )
        return self.node_time[seeds]

    def _hop(
        self, frontier: Tensor, tree: Tensor, k: int, seed_time: Tensor | None
    ) -> tuple[Tensor, Tensor]:
        """``(positions, owner)`` of the edges drawn into each frontier entry."""
        positions, owner = candidates(self.colptr, frontier)
        recency = None
        if seed_time is not None:  # temporal: only what is not later than the seed
            time = (
                self.node_time[self.sources[positions]]
                if self.node_time is not None
                else self.edge_time[positions]  # type: ignore[index]
            )
            ok = time <= seed_time[tree[owner]]
            positions, owner, time = positions[ok], owner[ok], time[ok]
            recency = time if self.temporal_strategy == "last" else None
        weight = None if self.weight is None else self.weight[positions]
        pick = choose(
            owner, frontier.numel(), k, replace=self.replace, weight=weight, recency=recency
        )
        return positions[pick], owner[pick]

    def sample_from_nodes(self, inputs: NodeSamplerInput, **kwargs: Any) -> SamplerOutput:
        seeds = inputs.node.long()
        seed_time = self._seed_time(inputs, seeds)
        seen = Seen(self.num_nodes, self.disjoint)
        trees = torch.arange(seeds.numel()) if self.disjoint else torch.zeros_like(seeds)
        seen.add(seen.key(seeds, trees))
        nodes, batch, rows, cols, edges = [seeds], [trees], [], [], []
        num_nodes, num_edges = [seeds.numel()], []
        frontier, tree, frontier_local = seeds, trees, torch.arange(seeds.numel())
        for k in self.num_neighbors:
            positions, owner = self._hop(frontier, tree, k, seed_time)
            src, src_tree = self.sources[positions], tree[owner]
            keys = seen.key(src, src_tree)
            fresh = seen.add(keys)
            rows.append(seen.lookup(keys))
            cols.append(frontier_local[owner])
            edges.append(self.edge_ids[positions])
            frontier = fresh % self.num_nodes if self.disjoint else fresh
            tree = fresh // self.num_nodes if self.disjoint else torch.zeros_like(fresh)
            frontier_local = seen.lookup(fresh)
            nodes.append(frontier)
            batch.append(tree)
            num_nodes.append(fresh.numel())
            num_edges.append(positions.numel())
        node, node_tree = torch.cat(nodes), torch.cat(batch)
        row, col, edge = torch.cat(rows), torch.cat(cols), torch.cat(edges)
        sampled_edges: list[int] | None = num_edges
        if self.subgraph_type == "induced":  # every edge between the sampled nodes
            positions, owner = candidates(self.colptr, node)
            found = seen.lookup(seen.key(self.sources[positions], node_tree[owner]))
            keep = found >= 0
            row, col, edge = found[keep], owner[keep], self.edge_ids[positions[keep]]
            sampled_edges = None
        out = SamplerOutput(
            node=node,
            row=row,
            col=col,
            edge=edge,
            batch=node_tree if self.disjoint else None,
            num_sampled_nodes=num_nodes,
            num_sampled_edges=sampled_edges,
            metadata=(inputs.input_id, inputs.time),
        )
        if self.subgraph_type == "bidirectional":
            out = out.to_bidirectional()
        return out

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
