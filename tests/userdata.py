"""A user's own data, made by the tests that need it: a folder of images in
torchvision's ImageFolder layout, and PyG graphs as a user builds them."""

from pathlib import Path

import numpy as np
import torch
from torch_geometric.data import Data
from torch_geometric.utils import from_networkx

CLASSES = ("cat", "dog", "eel")


def write_images(root: Path, per_class: int = 10, size=(16, 14), mode: str = "RGB") -> None:
    """A folder in ImageFolder layout: class c's images are bright in channel c."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for c, name in enumerate(CLASSES):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            pixels = rng.integers(0, 60, (*size, 3), dtype=np.uint8)
            pixels[..., c] += 180
            Image.fromarray(pixels).convert(mode).save(root / name / f"{i}.png")


def make_graphs(count: int = 40, features: bool = True) -> list[Data]:
    """Cycles (class 1) and paths (class 0) of 5 to 7 nodes."""
    import networkx as nx

    graphs = []
    for i in range(count):
        g = nx.cycle_graph(5 + i % 3) if i % 2 else nx.path_graph(5 + i % 3)
        data = from_networkx(g)
        if features:
            data.x = torch.randn(data.num_nodes, 4)
        data.y = torch.tensor([i % 2])
        graphs.append(data)
    return graphs
