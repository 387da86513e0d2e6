import pytest
import torch
from torch.testing import assert_close
from torch_geometric.data import Batch
from torch_geometric.loader import DataLoader
from torch_geometric.utils import grid
from torchvision.datasets import FakeData

from gconv.convert import graphs_to_images, grid_graph, images_to_graphs
from gconv.transforms import ImageToGridGraph


def _edge_set(edge_index: torch.Tensor) -> set[tuple[int, int]]:
    return set(map(tuple, edge_index.t().tolist()))


@pytest.mark.parametrize(("h", "w"), [(1, 1), (2, 3), (5, 4), (28, 28)])
def test_equals_pyg_grid(h: int, w: int) -> None:
    graph = grid_graph(h, w)
    edge_index, _ = grid(h, w)
    assert _edge_set(graph.edge_index) == _edge_set(edge_index)
    assert graph.edge_index.size(1) == edge_index.size(1)  # no duplicates either
    assert graph.num_nodes == h * w


@pytest.mark.parametrize("k", [1, 3, 5])
@pytest.mark.parametrize("connectivity", [4, 8])
def test_edge_types_are_kernel_taps(k: int, connectivity: int) -> None:
    h, w, r = 6, 7, k // 2
    graph = grid_graph(h, w, kernel_size=k, connectivity=connectivity)
    src, dst = graph.edge_index
    dy = torch.div(src, w, rounding_mode="floor") - torch.div(dst, w, rounding_mode="floor")
    dx = src % w - dst % w
    assert torch.equal(graph.edge_type, (dy + r) * k + (dx + r))
    assert dy.abs().max() <= r and dx.abs().max() <= r
    if connectivity == 4:
        assert (dy.abs() + dx.abs()).max() <= 1
    # every in-bounds offset is present exactly once per target
    offsets = 0
    for oy in range(-r, r + 1):
        for ox in range(-r, r + 1):
            if connectivity == 8 or abs(oy) + abs(ox) <= 1:
                offsets += (h - abs(oy)) * (w - abs(ox))
    assert graph.edge_index.size(1) == offsets
    assert torch.equal(
        graph.pos[dst.long()][:, 0], torch.div(dst, w, rounding_mode="floor").float()
    )


def test_self_loops_flag_removes_the_centre_type() -> None:
    graph = grid_graph(4, 4, self_loops=False)
    assert (graph.edge_index[0] != graph.edge_index[1]).all()
    assert 4 not in graph.edge_type.tolist()
    assert graph.edge_index.size(1) == grid_graph(4, 4).edge_index.size(1) - 16


def test_node_ids_follow_image_flattening() -> None:
    graph = grid_graph(3, 4)
    assert graph.pos[6].tolist() == [1.0, 2.0]  # node 6 = row 1, col 2
    assert torch.equal(graph.pos[:, 0] * 4 + graph.pos[:, 1], torch.arange(12.0))


def test_grid_graph_returns_fresh_tensors() -> None:
    first = grid_graph(3, 3)
    first.edge_index.zero_()
    assert grid_graph(3, 3).edge_index.max() == 8


def test_images_to_graphs_round_trip_and_layout() -> None:
    images = torch.randn(5, 3, 6, 4)
    labels = torch.arange(5)
    batch = images_to_graphs(images, labels)
    assert batch.x.shape == (5 * 24, 3) and batch.num_graphs == 5
    assert_close(batch.x[24 + 4 * 1 + 2], images[1, :, 1, 2])  # image 1, row 1, col 2
    assert torch.equal(graphs_to_images(batch.x, 5, 6, 4), images)
    assert torch.equal(batch.batch, torch.arange(5).repeat_interleave(24))
    assert batch.grid_shape == (5, 6, 4)
    assert torch.equal(batch.y, labels)


def test_images_to_graphs_equals_collating_single_graphs() -> None:
    images = torch.randn(3, 2, 4, 5)
    labels = torch.tensor([7, 8, 9])
    ours = images_to_graphs(images, labels, kernel_size=5, connectivity=4)
    transform = ImageToGridGraph(kernel_size=5, connectivity=4)
    singles = []
    for image, label in zip(images, labels, strict=True):
        data = transform(image)
        data.y = label.view(1)
        singles.append(data)
    reference = Batch.from_data_list(singles)
    for key in ("x", "edge_index", "edge_type", "pos", "batch", "ptr", "y"):
        assert torch.equal(ours[key], reference[key]), key
    for mine, theirs in zip(ours.to_data_list(), singles, strict=True):
        for key in ("x", "edge_index", "edge_type", "pos", "y"):
            assert torch.equal(mine[key], theirs[key]), key


def test_transform_feeds_pyg_loaders_from_torchvision() -> None:
    dataset = FakeData(size=6, image_size=(1, 10, 12), num_classes=3, transform=ImageToGridGraph())
    data, label = dataset[0]
    assert data.x.shape == (120, 1) and 0 <= label < 3
    batch, labels = next(iter(DataLoader(dataset, batch_size=4)))
    assert batch.num_graphs == 4 and batch.x.shape == (480, 1) and labels.shape == (4,)
    assert batch.edge_index.max() == 479


def test_transform_accepts_2d_and_integer_images() -> None:
    data = ImageToGridGraph()(torch.randint(0, 255, (5, 5), dtype=torch.uint8))
    assert data.x.shape == (25, 1) and data.x.is_floating_point()
    assert repr(ImageToGridGraph()) == "ImageToGridGraph(kernel_size=3, connectivity=8)"


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: grid_graph(0, 3), ValueError, "grid_graph: height must be >= 1"),
        (lambda: grid_graph(3, 3, kernel_size=2), ValueError, "kernel_size must be odd"),
        (lambda: grid_graph(3, 3, connectivity=6), ValueError, "connectivity must be one of"),
        (lambda: images_to_graphs(torch.randn(8, 8)), ValueError, "images must be 4-D"),
        (lambda: images_to_graphs([1, 2]), TypeError, "images must be a torch.Tensor"),
        (
            lambda: images_to_graphs(torch.zeros(2, 1, 3, 3, dtype=torch.uint8)),
            TypeError,
            r"images must be floating point \(got torch.uint8\); scale them first",
        ),
        (
            lambda: images_to_graphs(torch.randn(2, 1, 3, 3), torch.ones(3)),
            ValueError,
            r"labels must be a \[2\]",
        ),
        (lambda: graphs_to_images(torch.randn(10, 1), 1, 3, 3), ValueError, "9 rows"),
        (lambda: graphs_to_images(torch.randn(9), 1, 3, 3), ValueError, "2-D"),
        (lambda: ImageToGridGraph()(torch.randn(1, 1, 3, 3)), ValueError, r"\[C, H, W\]"),
        (lambda: ImageToGridGraph()("not an image"), TypeError, "Tensor or a PIL image"),
    ],
)
def test_bad_input(call, error, message: str) -> None:
    with pytest.raises(error, match=message):
        call()


def test_batched_template_is_shared_and_rebuilt_after_in_place_changes() -> None:
    images = torch.randn(4, 1, 5, 5)
    first, second = images_to_graphs(images), images_to_graphs(images)
    assert first.edge_index is second.edge_index  # built once per batch shape
    first.edge_index.zero_()  # someone modifies a shared tensor in place
    third = images_to_graphs(images)
    assert third.edge_index is not first.edge_index
    reference = Batch.from_data_list([ImageToGridGraph()(image) for image in images])
    assert torch.equal(third.edge_index, reference.edge_index)


@pytest.mark.parametrize("shape", [(0, 1, 8, 8), (2, 1, 0, 8)])
def test_images_to_graphs_refuses_an_empty_batch(shape) -> None:
    with pytest.raises(ValueError, match="images_to_graphs: images must hold at least one image"):
        images_to_graphs(torch.randn(*shape))


def test_per_pixel_labels_become_node_labels() -> None:
    from gconv.convert import images_to_graphs

    images = torch.rand(2, 1, 3, 4)
    masks = torch.randint(0, 5, (2, 3, 4))
    batch = images_to_graphs(images, masks)
    assert torch.equal(batch.y, masks.reshape(-1))  # node b*H*W + row*W + col
    graphs = batch.to_data_list()
    assert torch.equal(graphs[1].y, masks[1].reshape(-1))
    with pytest.raises(ValueError, match=r"labels must be a \[2\] tensor, one per image, or"):
        images_to_graphs(images, masks[:, :2])


def test_batched_grid_graph_is_the_batch_s_graph() -> None:
    from gconv.convert import batched_grid_graph, images_to_graphs

    batch = images_to_graphs(torch.rand(3, 2, 5, 4))
    edge_index, edge_type = batched_grid_graph(3, 5, 4)
    assert edge_index is batch.edge_index and edge_type is batch.edge_type  # shared
    loops, types = batched_grid_graph(2, 3, 3, kernel_size=1)
    assert torch.equal(loops, torch.arange(18).repeat(2, 1)) and not types.any()
    with pytest.raises(ValueError, match="batched_grid_graph: batch_size"):
        batched_grid_graph(0, 3, 3)


@pytest.mark.parametrize("per_pixel", [False, True])
def test_private_batch_fields_are_what_pyg_collation_writes(per_pixel: bool) -> None:
    """``images_to_graphs`` writes PyG's private ``_slice_dict``, ``_inc_dict`` and
    ``_num_graphs`` itself: pinned here against ``Batch.from_data_list``, and through
    the public calls that read them (indexing, ``index_select``), so that a PyG release
    that changes them fails this test instead of silently breaking ``to_data_list()``."""
    images = torch.randn(3, 2, 4, 5)
    labels = torch.randint(0, 4, (3, 4, 5)) if per_pixel else torch.tensor([7, 8, 9])
    ours = images_to_graphs(images, labels)
    transform = ImageToGridGraph()
    singles = []
    for image, label in zip(images, labels, strict=True):
        data = transform(image)
        data.y = label.reshape(-1) if per_pixel else label.view(1)
        singles.append(data)
    reference = Batch.from_data_list(singles)
    assert ours._num_graphs == reference._num_graphs == 3
    for key in ("x", "edge_index", "edge_type", "pos", "y"):
        assert torch.equal(ours._slice_dict[key], reference._slice_dict[key]), key
        assert torch.equal(ours._inc_dict[key], reference._inc_dict[key]), key
    for picked, expected in ((ours[1], singles[1]), (ours.index_select([2, 0])[0], singles[2])):
        for key in ("x", "edge_index", "edge_type", "pos", "y"):
            assert torch.equal(picked[key], expected[key]), key
