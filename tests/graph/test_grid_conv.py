import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.testing import assert_close
from torch_geometric.data import Batch
from torch_geometric.nn import RGCNConv

from gconv.convert import graphs_to_images, grid_graph, images_to_graphs
from gconv.graph import conv_graph
from gconv.nn import GridConv2d

PATHS = ["dense", "table", "scatter"]


def _run(conv: GridConv2d, batch: Batch, path: str) -> torch.Tensor:
    grid_shape = batch.grid_shape if path == "dense" else None
    return conv(batch.x, batch.edge_index, batch.edge_type, grid_shape=grid_shape, path=path)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("k", [1, 3, 5])
def test_equals_conv2d_on_grid_graphs(k: int, path: str, dtype: torch.dtype) -> None:
    images = torch.randn(3, 4, 9, 7, dtype=dtype)
    conv = GridConv2d(4, 6, k).to(dtype)
    batch = images_to_graphs(images, kernel_size=k)
    out = graphs_to_images(_run(conv, batch, path), 3, 9, 7)
    assert_close(out, F.conv2d(images, conv.weight, conv.bias, padding=k // 2))


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("k", [3, 5])
def test_connectivity_4_zeroes_the_corner_taps(k: int, path: str) -> None:
    images = torch.randn(2, 3, 8, 8)
    conv = GridConv2d(3, 5, k)
    batch = images_to_graphs(images, kernel_size=k, connectivity=4)
    r = k // 2
    mask = torch.zeros(k, k)
    mask[r, :] = mask[:, r] = 0
    mask[r, r - 1 : r + 2] = 1
    mask[r - 1 : r + 2, r] = 1
    expected = F.conv2d(images, conv.weight * mask, conv.bias, padding=r)
    assert_close(graphs_to_images(_run(conv, batch, path), 2, 8, 8), expected)


@pytest.mark.parametrize("path", PATHS)
def test_gradients_equal_conv2d(path: str) -> None:
    images = torch.randn(2, 3, 6, 6, dtype=torch.float64, requires_grad=True)
    conv = GridConv2d(3, 4).double()
    reference = conv.to_conv2d()
    batch = images_to_graphs(images)
    _run(conv, batch, path).pow(2).sum().backward()
    reference(images).pow(2).sum().backward()
    assert_close(conv.weight.grad, reference.weight.grad)
    assert_close(conv.bias.grad, reference.bias.grad)
    assert images.grad is not None


def test_from_and_to_conv2d() -> None:
    conv = nn.Conv2d(2, 3, 5, padding=2)
    layer = GridConv2d.from_conv2d(conv)
    images = torch.randn(2, 2, 7, 7)
    batch = images_to_graphs(images, kernel_size=5)
    out = layer(batch.x, batch.edge_index, batch.edge_type)
    assert_close(graphs_to_images(out, 2, 7, 7), conv(images))
    back = layer.to_conv2d()
    assert_close(back.weight, conv.weight) and assert_close(back(images), conv(images))
    assert GridConv2d.from_conv2d(nn.Conv2d(2, 3, 3, padding="same", bias=False)).bias is None


@pytest.mark.parametrize("path", ["dense", "table", "scatter"])
def test_grouped_convolution_on_every_path(path: str) -> None:
    conv = nn.Conv2d(4, 6, 3, padding=1, groups=2).double()
    layer = GridConv2d.from_conv2d(conv)
    assert repr(layer) == "GridConv2d(4, 6, kernel_size=3, groups=2)"
    images = torch.randn(2, 4, 5, 5, dtype=torch.float64, requires_grad=True)
    batch = images_to_graphs(images.detach())
    x = batch.x.requires_grad_()
    shape = batch.grid_shape if path == "dense" else None
    out = layer(x, batch.edge_index, batch.edge_type, grid_shape=shape, path=path)
    expected = conv(images)
    assert_close(graphs_to_images(out, 2, 5, 5), expected)
    out.square().sum().backward()
    expected.square().sum().backward()
    assert_close(graphs_to_images(x.grad, 2, 5, 5), images.grad)
    assert_close(layer.weight.grad, conv.weight.grad)
    assert_close(layer.to_conv2d().weight, conv.weight)


@pytest.mark.parametrize(
    "conv",
    [
        nn.Conv2d(2, 3, 3, stride=2, padding=1),
        nn.Conv2d(2, 3, 3, padding=0),
        nn.Conv2d(2, 4, (3, 5), padding=(1, 0), stride=(1, 2), groups=2),
        nn.Conv2d(2, 3, 4, padding=2, dilation=2, bias=False),
        nn.Conv2d(4, 1, (2, 3), padding="same", dilation=3),  # even kernel: uneven padding
        nn.Conv2d(4, 4, 3, padding="valid", groups=4),
        nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"),
        nn.Conv2d(2, 3, (3, 2), padding=(2, 1), stride=2, padding_mode="replicate"),
        nn.Conv2d(2, 4, 3, padding="same", dilation=2, groups=2, padding_mode="circular"),
        nn.Conv2d(4, 1, (2, 3), padding="same", dilation=3, padding_mode="reflect"),
    ],
)
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
def test_from_conv2d_takes_every_convolution_over_its_conv_graph(
    conv: nn.Conv2d,
) -> None:
    conv = conv.double()
    layer = GridConv2d.from_conv2d(conv)
    images = torch.randn(2, conv.in_channels, 9, 8, dtype=torch.float64, requires_grad=True)
    edge_index, edge_type, (ho, wo) = conv_graph(
        9,
        8,
        conv.kernel_size,
        stride=conv.stride,
        padding=conv.padding,
        dilation=conv.dilation,
        batch_size=2,
        padding_mode=conv.padding_mode,
    )
    x = images.detach().permute(0, 2, 3, 1).reshape(-1, conv.in_channels).requires_grad_()
    out = layer(x, edge_index, edge_type, size=(x.size(0), 2 * ho * wo))
    expected = conv(images)
    assert_close(graphs_to_images(out, 2, ho, wo), expected, rtol=1e-10, atol=1e-10)
    out.square().sum().backward()
    expected.square().sum().backward()
    assert_close(graphs_to_images(x.grad, 2, 9, 8), images.grad, rtol=1e-10, atol=1e-10)
    assert_close(layer.weight.grad, conv.weight.grad, rtol=1e-10, atol=1e-10)


def test_conv_graph_names_a_padding_it_cannot_take() -> None:
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        conv_graph(5, 5, 3, padding=1, padding_mode="mirror")
    with pytest.raises(ValueError, match=r"reflect padding .* must be smaller than the 2x5"):
        conv_graph(2, 5, 5, padding=2, padding_mode="reflect")


def test_equals_rgcn_on_a_general_typed_graph() -> None:
    # any graph with edge types: per-type weights, summed, like RGCN without root or norm
    n, e = 12, 40
    edge_index = torch.randint(0, n, (2, e))
    edge_type = torch.randint(0, 9, (e,))
    conv = GridConv2d(4, 5, bias=False)
    rgcn = RGCNConv(4, 5, num_relations=9, aggr="add", root_weight=False, bias=False)
    with torch.no_grad():
        rgcn.weight.copy_(conv.weight.flatten(2).permute(2, 1, 0))
    x = torch.randn(n, 4)
    expected = rgcn(x, edge_index, edge_type)
    assert_close(conv(x, edge_index, edge_type), expected)  # repeated pairs: scatter path
    assert_close(conv(x, edge_index, edge_type, path="scatter"), expected)
    with pytest.raises(ValueError, match="path 'table' needs at most one edge"):
        conv(x, edge_index, edge_type, path="table")


def test_table_path_on_a_general_graph() -> None:
    n = 6
    edge_index = torch.tensor([[1, 2, 3, 0, 5], [0, 0, 0, 4, 4]])
    edge_type = torch.tensor([0, 4, 8, 0, 2])
    conv = GridConv2d(3, 2)
    x = torch.randn(n, 3)
    assert_close(
        conv(x, edge_index, edge_type, path="table"),
        conv(x, edge_index, edge_type, path="scatter"),
    )


def test_single_image_grid_graph_works_without_grid_shape() -> None:
    graph = grid_graph(5, 6)
    image = torch.randn(1, 2, 5, 6)
    conv = GridConv2d(2, 3)
    x = image.permute(0, 2, 3, 1).reshape(30, 2)
    out = conv(x, graph.edge_index, graph.edge_type)
    assert_close(graphs_to_images(out, 1, 5, 6), conv.to_conv2d()(image))


def test_cache_follows_the_graph() -> None:
    conv = GridConv2d(1, 1)
    a, b = images_to_graphs(torch.randn(1, 1, 4, 4)), images_to_graphs(torch.randn(1, 1, 5, 5))
    conv(a.x, a.edge_index, a.edge_type)
    plan = conv._cache.value
    out = conv(b.x, b.edge_index, b.edge_type)
    assert conv._cache.value is not plan
    assert_close(graphs_to_images(out, 1, 5, 5), conv.to_conv2d()(graphs_to_images(b.x, 1, 5, 5)))


def test_grid_shape_that_is_not_the_graph_raises() -> None:
    batch = images_to_graphs(torch.randn(2, 1, 4, 4))
    conv = GridConv2d(1, 2)
    with pytest.raises(ValueError, match=r"grid_shape must be \(B, H, W\) with B\*H\*W = 32"):
        conv(batch.x, batch.edge_index, batch.edge_type, grid_shape=(2, 4, 5))
    with pytest.raises(ValueError, match="not the full 3x3 grid"):
        conv(batch.x, batch.edge_index, batch.edge_type, grid_shape=(2, 2, 8))
    shuffled = batch.edge_index.clone()
    shuffled[0] = shuffled[0].flip(0)
    with pytest.raises(ValueError, match="not the full 3x3 grid"):
        conv(batch.x, shuffled, batch.edge_type, grid_shape=(2, 4, 4))


def test_repr_is_api() -> None:
    assert repr(GridConv2d(16, 32)) == "GridConv2d(16, 32, kernel_size=3)"


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda c, g: c(torch.randn(16, 3), g.edge_index, g.edge_type),
            ValueError,
            "x must have 2 columns",
        ),
        (
            lambda c, g: c(torch.randn(8, 2), g.edge_index, g.edge_type),
            ValueError,
            "out of range for 8",
        ),
        (
            lambda c, g: c(torch.randn(16, 2), g.edge_index, g.edge_type[:-1]),
            ValueError,
            "edge_type must have shape",
        ),
        (
            lambda c, g: c(torch.randn(16, 2), g.edge_index, g.edge_type + 9),
            ValueError,
            r"lie in \[0, 9\)",
        ),
        (
            lambda c, g: c(torch.randn(16, 2), g.edge_index, g.edge_type.float()),
            TypeError,
            "edge_type must be an integer",
        ),
        (
            lambda c, g: c(torch.randn(16, 2), g.edge_index, g.edge_type, path="fast"),
            ValueError,
            "path must be one of",
        ),
        (
            lambda c, g: c(torch.randn(16, 2), g.edge_index, g.edge_type, path="dense"),
            ValueError,
            "needs grid_shape",
        ),
    ],
)
def test_bad_input(call, error, message: str) -> None:
    with pytest.raises(error, match=message):
        call(GridConv2d(2, 3), grid_graph(4, 4))


def test_bad_arguments() -> None:
    batch = images_to_graphs(torch.randn(1, 2, 4, 4))
    unmarked = batch.edge_type.clone()  # no mark of the 3x3 kernel it was made for
    for kernel in (4, (3, 5)):  # any kernel on conv_graph's graphs, odd square on grids
        with pytest.raises(ValueError, match=r"dense path .* needs an odd square kernel_size"):
            GridConv2d(2, 3, kernel)(
                batch.x, batch.edge_index, unmarked, grid_shape=batch.grid_shape
            )
    with pytest.raises(ValueError, match="GridConv2d: kernel_size must be >= 1"):
        GridConv2d(2, 3, kernel_size=0)
    with pytest.raises(ValueError, match="GridConv2d: kernel_size must be an int or a pair"):
        GridConv2d(2, 3, kernel_size=(3, 3, 3))
    with pytest.raises(ValueError, match="in_channels must be divisible by groups 2"):
        GridConv2d(3, 4, groups=2)


def test_table_backward_without_a_reverse_table() -> None:
    # node 0 reads node 1 at two taps: (target, tap) unique, (source, tap) unique too;
    # nodes 2 and 3 both read node 1 at tap 0: no reverse table, index_add backward
    edge_index = torch.tensor([[1, 1, 1, 1], [0, 0, 2, 3]])
    edge_type = torch.tensor([0, 4, 0, 0])
    conv = GridConv2d(2, 3).double()
    x = torch.randn(4, 2, dtype=torch.float64, requires_grad=True)
    grads = []
    for path in ("table", "scatter"):
        x.grad = None
        conv(x, edge_index, edge_type, path=path).pow(2).sum().backward()
        grads.append(x.grad.clone())
    assert conv._cache.value.slots is None
    assert_close(grads[0], grads[1])
    assert torch.autograd.gradcheck(
        lambda v: conv(v, edge_index, edge_type, path="table"), (x.detach().requires_grad_(),)
    )


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16, torch.bfloat16])
def test_from_conv2d_keeps_the_convolutions_dtype(dtype: torch.dtype) -> None:
    conv = nn.Conv2d(2, 3, 3, padding=1).to(dtype)
    layer = GridConv2d.from_conv2d(conv)
    assert layer.weight.dtype == dtype and layer.weight.device == conv.weight.device
    if dtype == torch.float64:  # CPU half kernels are patchy; float64 runs end to end
        images = torch.randn(2, 2, 5, 5, dtype=dtype)
        batch = images_to_graphs(images)
        out = layer(batch.x, batch.edge_index, batch.edge_type, grid_shape=batch.grid_shape)
        torch.testing.assert_close(out.view(2, 5, 5, 3).permute(0, 3, 1, 2), conv(images))
        assert layer.to_conv2d().weight.dtype == dtype


def test_an_unbatched_image_is_a_batch_of_one_as_in_conv2d() -> None:
    conv = nn.Conv2d(2, 3, 3, padding=1)
    layer = GridConv2d.from_conv2d(conv)
    image = torch.randn(2, 5, 6)
    batch = images_to_graphs(image, torch.tensor(7))
    assert batch.grid_shape == (1, 5, 6) and batch.y.tolist() == [7]
    out = layer(batch.x, batch.edge_index, batch.edge_type, grid_shape=batch.grid_shape)
    assert_close(graphs_to_images(out, 1, 5, 6)[0], conv(image))
    masks = images_to_graphs(image, torch.zeros(5, 6, dtype=torch.long))
    assert masks.y.shape == (30,)


@pytest.mark.parametrize("path", ["auto", "dense", "table", "scatter"])
def test_a_graph_made_for_another_kernel_is_refused(path: str) -> None:
    batch = images_to_graphs(torch.randn(2, 1, 8, 8))  # 3x3 taps
    layer = GridConv2d(1, 4, 5)
    shape = batch.grid_shape if path == "dense" else None
    with pytest.raises(ValueError, match=r"made for a 3x3 kernel .* not this layer's 5x5"):
        layer(batch.x, batch.edge_index, batch.edge_type, grid_shape=shape, path=path)
    graph = grid_graph(8, 8, kernel_size=5)  # and the other way round, from grid_graph
    with pytest.raises(ValueError, match="made for a 5x5 kernel"):
        GridConv2d(1, 4, 3)(torch.randn(64, 1), graph.edge_index, graph.edge_type, path=path)


def test_a_conv_graph_for_another_kernel_is_refused() -> None:
    edge_index, edge_type, (ho, wo) = conv_graph(8, 8, 3, stride=2)
    with pytest.raises(ValueError, match="made for a 3x3 kernel"):
        GridConv2d(2, 4, (2, 3))(torch.randn(64, 2), edge_index, edge_type, size=(64, ho * wo))
