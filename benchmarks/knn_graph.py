"""gconv's knn_graph and radius_graph against scikit-learn's neighbour search.

Two workloads: a batch of 128 small point sets (75 points in 2-D, the size of an
MNIST superpixel graph) and one cloud of 10,000 points in 3-D. The reference is
scikit-learn's ``NearestNeighbors`` (its default algorithm) run example by example,
building the same ``edge_index``; PyG's own operator joins where pyg-lib provides it.
Each contender runs in turns; the script prints median milliseconds and the ratio to
scikit-learn.

    python benchmarks/knn_graph.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import itertools
from functools import partial

import numpy as np
import torch
import torch_geometric.typing
from _timing import compare, machine
from sklearn.neighbors import NearestNeighbors

from gconv.convert import knn_graph, radius_graph


def sklearn_graph(x: torch.Tensor, batch: torch.Tensor, k: int | None, r: float | None):
    """The same edges as knn_graph (k) or radius_graph (r), by scikit-learn."""
    sources, targets = [], []
    ptr = np.concatenate([[0], np.cumsum(np.bincount(batch.numpy()))])
    points = x.numpy()
    for start, end in itertools.pairwise(ptr):
        part = points[start:end]
        if k is not None:
            search = NearestNeighbors(n_neighbors=min(k + 1, len(part))).fit(part)
            near = search.kneighbors(part, return_distance=False)[:, 1:]  # drop self
            sources.append(near.reshape(-1) + start)
            targets.append(np.repeat(np.arange(start, end), near.shape[1]))
        else:
            rows = NearestNeighbors(radius=r).fit(part).radius_neighbors(part)[1]
            for i, row in enumerate(rows):
                row = row[row != i]
                sources.append(row + start)
                targets.append(np.full(len(row), start + i))
    return torch.from_numpy(np.stack([np.concatenate(sources), np.concatenate(targets)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(machine())
    generator = torch.Generator().manual_seed(0)
    workloads = {
        "128 sets of 75 points, 2-D": (torch.rand(128 * 75, 2, generator=generator), 128),
        "one cloud of 10,000 points, 3-D": (torch.rand(10_000, 3, generator=generator), 1),
    }
    print("| workload | search | contender | ms | / scikit-learn |")
    print("| --- | --- | --- | ---: | ---: |")
    for name, (x, graphs) in workloads.items():
        batch = torch.arange(graphs).repeat_interleave(x.size(0) // graphs)
        r = 0.15 if graphs > 1 else 0.05
        searches = {
            "k = 8": (partial(knn_graph, x, 8, batch), partial(sklearn_graph, x, batch, 8, None)),
            f"r = {r}": (
                partial(radius_graph, x, r, batch),
                partial(sklearn_graph, x, batch, None, r),
            ),
        }
        for search, (ours, theirs) in searches.items():
            runs = {"scikit-learn": theirs, "gconv": partial(ours, backend="torch")}
            if torch_geometric.typing.WITH_KNN:  # PyG's own operator (pyg-lib)
                runs["PyG"] = partial(ours, backend="pyg")
            times = compare(runs, rounds=args.rounds, repeats=3, warmup=1)
            for contender, seconds in times.items():
                ratio = seconds / times["scikit-learn"]
                print(f"| {name} | {search} | {contender} | {seconds * 1e3:.1f} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
