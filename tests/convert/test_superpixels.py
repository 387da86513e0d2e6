import pytest
import torch
from torch.testing import assert_close
from torch.utils.data import TensorDataset
from torch_geometric.data import Data

from gconv.convert import grid_graph, knn_edges, superpixel_graph
from gconv.data.superpixels import superpixel_dataset, superpixel_key
from gconv.transforms import DirectionalEdgeType


def test_knn_edges_are_the_k_nearest_with_gaussian_weights() -> None:
    generator = torch.Generator().manual_seed(0)
    pos = torch.rand(12, 2, generator=generator)
    edge_index, weight = knn_edges(pos, 3)
    assert edge_index.shape == (2, 36) and weight.shape == (36,)
    dist = torch.cdist(pos, pos)
    for i in range(12):  # brute force: the 3 other nodes nearest to node i
        sources = edge_index[0, edge_index[1] == i]
        order = dist[i].clone()
        order[i] = float("inf")
        assert set(sources.tolist()) == set(order.topk(3, largest=False).indices.tolist())
        d = dist[i, sources]
        assert_close(weight[edge_index[1] == i], torch.exp(-((d / d.mean()) ** 2)))
    assert (edge_index[0] != edge_index[1]).all()
    few, _ = knn_edges(pos[:3], 8)  # fewer nodes than k: every other node
    assert few.shape == (2, 6)


def test_two_halves_make_regions_with_knn_edges() -> None:
    image = torch.zeros(1, 16, 16)
    image[:, :, 8:] = 1.0
    graph = superpixel_graph(image, n_segments=8, k=3)
    n = graph.num_nodes
    assert 2 <= n <= 16 and graph.x.shape == (n, 3)
    assert set(graph.x[:, 0].unique().tolist()) <= {0.0, 1.0}  # regions follow the edge
    assert (graph.pos >= 0).all() and (graph.pos <= 1).all()
    assert graph.edge_index.size(1) == n * min(3, n - 1)
    assert ((graph.edge_weight > 0) & (graph.edge_weight <= 1)).all()


def test_centroids_match_the_regions() -> None:
    graph = superpixel_graph(torch.rand(28, 28))
    assert graph.num_nodes > 20  # about 75 asked for
    assert torch.allclose(graph.x[:, 1:], graph.pos)
    assert graph.edge_index.size(1) == 8 * graph.num_nodes


def test_directions_on_a_pixel_grid_are_grid_graph_edge_types() -> None:
    grid = grid_graph(6, 7)  # with self-loops, edge_type = (dy + 1) * 3 + (dx + 1)
    plain = Data(edge_index=grid.edge_index[:, grid.edge_type != 4], pos=grid.pos, num_nodes=42)
    typed = DirectionalEdgeType()(plain)
    expected = set(zip(*grid.edge_index.tolist(), grid.edge_type.tolist(), strict=True))
    got = set(zip(*typed.edge_index.tolist(), typed.edge_type.tolist(), strict=True))
    assert got == expected


def test_directions_bin_angles_into_eight_sectors() -> None:
    # neighbours of node 0 at angles 0, 30, 50, 100 and 200 degrees (row = sin, col = cos)
    angles = torch.tensor([0.0, 30.0, 50.0, 100.0, 200.0]) * torch.pi / 180
    pos = torch.cat([torch.zeros(1, 2), torch.stack([angles.sin(), angles.cos()], 1)])
    edge_index = torch.stack([torch.arange(1, 6), torch.zeros(5, dtype=torch.long)])
    data = DirectionalEdgeType(self_loops=False)(Data(edge_index=edge_index, pos=pos))
    # (dy, dx): (0, 1), (1, 1), (1, 1), (1, 0), (0, -1)
    assert data.edge_type.tolist() == [5, 8, 8, 7, 3]
    with pytest.raises(ValueError, match=r"DirectionalEdgeType: data must have pos of shape"):
        DirectionalEdgeType()(Data(edge_index=edge_index, num_nodes=6))


def test_superpixel_cache_is_keyed_by_data_and_parameters(tmp_path) -> None:
    images = torch.rand(6, 1, 28, 28)
    labels = torch.arange(6)
    split = TensorDataset(images, labels)
    graphs = superpixel_dataset(split, tmp_path, workers=2, progress=False, name="t")
    assert len(graphs) == 6 and [int(g.y) for g in graphs] == list(range(6))
    assert len(list(tmp_path.glob("t-*.pt"))) == 1
    again = superpixel_dataset(split, tmp_path, workers=1, progress=False, name="t")
    assert all(torch.equal(a.x, b.x) for a, b in zip(graphs, again, strict=True))
    superpixel_dataset(split, tmp_path, k=4, progress=False, name="t")  # a new parameter
    assert len(list(tmp_path.glob("t-*.pt"))) == 2
    params = {"n_segments": 75, "compactness": 0.25, "k": 8}
    assert superpixel_key(images, labels, params) != superpixel_key(images, labels + 1, params)


@pytest.mark.parametrize(
    ("image", "kwargs", "error", "match"),
    [
        (torch.rand(2, 3, 8, 8), {}, ValueError, r"one image, \[C, H, W\] or \[H, W\]"),
        (torch.rand(8), {}, ValueError, "one image"),
        ([[0.0]], {}, TypeError, "image must be a torch.Tensor"),
        (torch.rand(8, 8), {"n_segments": 0}, ValueError, "n_segments must be >= 1"),
        (torch.rand(8, 8), {"k": 0}, ValueError, "k must be >= 1"),
        (torch.rand(8, 8), {"compactness": 0}, ValueError, r"compactness must be > 0"),
        (torch.rand(8, 8), {"compactness": "low"}, TypeError, "compactness must be a number"),
    ],
)
def test_a_wrong_argument_is_named(image, kwargs, error, match) -> None:
    with pytest.raises(error, match=f"superpixel_graph: .*{match}"):
        superpixel_graph(image, **kwargs)


def test_colour_images_give_their_mean_colour_per_region() -> None:
    image = torch.zeros(3, 16, 16)
    image[0, :, :8] = 1.0  # a red half and a blue half
    image[2, :, 8:] = 1.0
    graph = superpixel_graph(image, n_segments=8, compactness=10)
    assert graph.x.size(1) == 5  # r, g, b, row, col
    colours = {tuple(row.tolist()) for row in graph.x[:, :3].round(decimals=3)}
    assert colours == {(1.0, 0.0, 0.0), (0.0, 0.0, 1.0)}  # no region straddles the halves
    left = graph.x[:, 0] == 1.0
    assert bool((graph.pos[left, 1] < 0.5).all()) and bool((graph.pos[~left, 1] > 0.5).all())
