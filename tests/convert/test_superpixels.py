import torch

from gconv.convert.superpixels import superpixel_graph


def test_two_halves_make_touching_regions() -> None:
    image = torch.zeros(1, 16, 16)
    image[:, :, 8:] = 1.0
    graph = superpixel_graph(image, n_segments=8)
    n = graph.num_nodes
    assert 2 <= n <= 16 and graph.x.shape == (n, 3)
    assert set(graph.x[:, 0].unique().tolist()) <= {0.0, 1.0}  # regions follow the edge
    assert (graph.pos >= 0).all() and (graph.pos <= 1).all()
    src, dst = graph.edge_index
    assert (src != dst).all()
    pairs = set(zip(src.tolist(), dst.tolist(), strict=True))
    assert pairs == {(b, a) for a, b in pairs}  # undirected
    # the regions left and right of column 8 touch, so some edge joins 0 and 1 intensities
    assert ((graph.x[src, 0] == 0) & (graph.x[dst, 0] == 1)).any()


def test_centroids_match_the_regions() -> None:
    image = torch.rand(28, 28)
    graph = superpixel_graph(image)
    assert graph.num_nodes > 20  # about 75 asked for
    assert torch.allclose(graph.x[:, 1:], graph.pos)
