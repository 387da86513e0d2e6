import pytest
import torch
from torch import nn
from torch.testing import assert_close

from gconv.graph import transposed_grid_graph
from gconv.nn import GridConvTranspose2d

# (kernel_size, stride, padding, output_padding, groups)
CONFIGS = [
    (3, 1, 0, 0, 1),
    (3, 1, 1, 0, 1),
    (2, 2, 0, 0, 1),
    (4, 2, 1, 0, 1),
    (3, 2, 1, 1, 1),
    (3, 2, 0, 1, 2),
    (5, 3, 2, 2, 1),
    (1, 2, 0, 1, 4),
]


def _images_as_nodes(images: torch.Tensor) -> torch.Tensor:
    return images.permute(0, 2, 3, 1).reshape(-1, images.size(1))


@pytest.mark.parametrize(("k", "stride", "padding", "output_padding", "groups"), CONFIGS)
@pytest.mark.parametrize("dense", [False, True], ids=["message-passing", "dense"])
def test_equals_conv_transpose2d(k, stride, padding, output_padding, groups, dense) -> None:
    torch.manual_seed(0)
    conv = nn.ConvTranspose2d(
        4, 8, k, stride=stride, padding=padding, output_padding=output_padding, groups=groups
    ).double()
    layer = GridConvTranspose2d.from_conv_transpose2d(conv)
    images = torch.randn(3, 4, 5, 6, dtype=torch.float64, requires_grad=True)
    expected = conv(images)
    edge_index, edge_type, (ho, wo) = layer.graph(5, 6, batch_size=3)
    assert (ho, wo) == tuple(expected.shape[-2:])
    x = _images_as_nodes(images)
    if dense:
        out = layer(x, edge_index, edge_type, grid_shape=(3, 5, 6))
    else:
        out = layer(x, edge_index, edge_type, size=(x.size(0), 3 * ho * wo))
    reference = _images_as_nodes(expected)
    assert_close(out, reference)
    grads = torch.autograd.grad(out.square().sum(), [images, layer.weight, layer.bias])
    expected_grads = torch.autograd.grad(reference.square().sum(), [images, conv.weight, conv.bias])
    for grad, expected_grad in zip(grads, expected_grads, strict=True):
        assert_close(grad, expected_grad)


def test_initialization_and_layout_match_conv_transpose2d() -> None:
    torch.manual_seed(1)
    conv = nn.ConvTranspose2d(6, 4, 3, stride=2, groups=2)
    torch.manual_seed(1)
    layer = GridConvTranspose2d(6, 4, 3, stride=2, groups=2)
    assert layer.weight.shape == conv.weight.shape == (6, 2, 3, 3)
    assert_close(layer.weight, conv.weight)
    assert_close(layer.bias, conv.bias)
    assert repr(layer) == "GridConvTranspose2d(6, 4, kernel_size=3, stride=2, groups=2)"


def test_graph_is_bipartite_from_coarse_to_fine() -> None:
    edge_index, edge_type, (ho, wo) = transposed_grid_graph(2, 3, 2, stride=2, batch_size=2)
    assert (ho, wo) == (4, 6)
    # stride = kernel: every fine pixel has exactly one coarse parent
    assert torch.equal(torch.bincount(edge_index[1]), torch.ones(2 * ho * wo, dtype=torch.long))
    assert int(edge_index[0].max()) == 2 * 2 * 3 - 1
    assert set(edge_type.tolist()) == {0, 1, 2, 3}


def test_dense_path_refuses_a_graph_that_is_not_the_full_grid() -> None:
    layer = GridConvTranspose2d(2, 2, 2, stride=2)
    edge_index, edge_type, _ = layer.graph(3, 3, batch_size=1)
    x = torch.randn(9, 2)
    with pytest.raises(ValueError, match="not this layer's full transposed grid"):
        layer(x, edge_index[:, :-1], edge_type[:-1], grid_shape=(1, 3, 3))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"output_padding": 2, "stride": 2}, "output_padding must be smaller than stride"),
        ({"groups": 3}, "divisible by groups"),
        ({"stride": 0}, "stride must be >= 1"),
    ],
)
def test_bad_arguments(kwargs, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        GridConvTranspose2d(4, 8, 3, **kwargs)


def test_message_passing_needs_the_fine_size() -> None:
    layer = GridConvTranspose2d(2, 2, 2, stride=2)
    edge_index, edge_type, _ = layer.graph(3, 3)
    with pytest.raises(ValueError, match=r"size=\(num_coarse, num_fine\) is needed"):
        layer(torch.randn(9, 2), edge_index, edge_type)


@pytest.mark.parametrize(("k", "stride", "padding"), [(3, 2, 1), (3, 1, 1), (5, 2, 2), (3, 3, 0)])
def test_strided_convolution_as_message_passing_equals_conv2d(k, stride, padding) -> None:
    from gconv.graph import strided_grid_graph
    from gconv.nn import GridConv2d

    torch.manual_seed(0)
    conv = nn.Conv2d(3, 5, k, stride=stride, padding=padding).double()
    layer = GridConv2d(3, 5, k).double()
    layer.load_state_dict(conv.state_dict())
    images = torch.randn(2, 3, 9, 8, dtype=torch.float64)
    edge_index, edge_type, (ho, wo) = strided_grid_graph(
        9, 8, k, stride=stride, padding=padding, batch_size=2
    )
    expected = conv(images)
    assert (ho, wo) == tuple(expected.shape[-2:])
    out = layer(_images_as_nodes(images), edge_index, edge_type, size=(2 * 72, 2 * ho * wo))
    assert_close(out, _images_as_nodes(expected))


@pytest.mark.parametrize(("k", "stride", "padding"), [(2, 2, 0), (3, 2, 1), (3, 1, 1), (2, 1, 0)])
def test_max_pool_as_message_passing_equals_max_pool2d(k, stride, padding) -> None:
    from gconv.nn import GridMaxPool2d

    images = torch.randn(2, 3, 7, 6)
    pool = GridMaxPool2d(k, stride, padding)
    edge_index, _, (ho, wo) = pool.graph(7, 6, batch_size=2)
    expected = nn.MaxPool2d(k, stride, padding)(images)
    assert (ho, wo) == tuple(expected.shape[-2:])
    out = pool(_images_as_nodes(images), edge_index, size=(2 * 42, 2 * ho * wo))
    assert_close(out, _images_as_nodes(expected))


def test_encoder_decoder_as_message_passing_equals_the_cnn() -> None:
    """Strided convolution down, transposed convolution up: the whole round trip as
    message passing gives the CNN's output."""
    from gconv.graph import strided_grid_graph
    from gconv.nn import GridConv2d

    torch.manual_seed(0)
    down = nn.Conv2d(2, 4, 3, stride=2, padding=1).double()
    up = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1).double()
    images = torch.randn(1, 2, 8, 8, dtype=torch.float64)
    expected = up(torch.relu(down(images)))
    g_down = GridConv2d(2, 4, 3).double()
    g_down.load_state_dict(down.state_dict())
    g_up = GridConvTranspose2d.from_conv_transpose2d(up)
    ei, et, (h, w) = strided_grid_graph(8, 8, 3, stride=2, padding=1)
    coarse = torch.relu(g_down(_images_as_nodes(images), ei, et, size=(64, h * w)))
    ei, et, (ho, wo) = g_up.graph(h, w)
    fine = g_up(coarse, ei, et, size=(h * w, ho * wo))
    assert (ho, wo) == (8, 8)
    assert_close(fine, _images_as_nodes(expected))


@pytest.mark.parametrize(("k", "stride", "padding"), [(4, 2, 1), (3, 2, 1), (5, 3, 2)])
@pytest.mark.parametrize("dense", [False, True], ids=["message-passing", "dense"])
def test_output_size_equals_conv_transpose2d_with_output_size(k, stride, padding, dense) -> None:
    """``output_size`` picks the fine grid as ``nn.ConvTranspose2d.forward(x, output_size)``
    does, per dimension."""
    torch.manual_seed(0)
    conv = nn.ConvTranspose2d(3, 2, k, stride=stride, padding=padding).double()
    layer = GridConvTranspose2d.from_conv_transpose2d(conv)
    images = torch.randn(2, 3, 4, 5, dtype=torch.float64)
    base = [(n - 1) * stride - 2 * padding + k for n in (4, 5)]
    for extra in [(0, 0), (stride - 1, 0), (0, stride - 1)]:
        size = (base[0] + extra[0], base[1] + extra[1])
        expected = conv(images, output_size=size)
        edge_index, edge_type, fine = layer.graph(4, 5, 2, output_size=size)
        assert fine == size == tuple(expected.shape[-2:])
        x = _images_as_nodes(images)
        if dense:
            out = layer(x, edge_index, edge_type, grid_shape=(2, 4, 5), output_size=size)
        else:
            out = layer(x, edge_index, edge_type, size=(40, 2 * size[0] * size[1]))
        assert_close(out, _images_as_nodes(expected))


@pytest.mark.parametrize("dense", [False, True], ids=["message-passing", "dense"])
def test_smaller_output_size_crops_bottom_and_right(dense) -> None:
    torch.manual_seed(0)
    conv = nn.ConvTranspose2d(3, 2, 4, stride=2, padding=1).double()
    layer = GridConvTranspose2d.from_conv_transpose2d(conv)
    images = torch.randn(1, 3, 4, 4, dtype=torch.float64)
    expected = conv(images)[..., :7, :5]  # 8x8 cropped, as FCN crops to a skip
    edge_index, edge_type, fine = layer.graph(4, 4, output_size=(7, 5))
    assert fine == (7, 5)
    x = _images_as_nodes(images)
    if dense:
        out = layer(x, edge_index, edge_type, grid_shape=(1, 4, 4), output_size=(7, 5))
    else:
        out = layer(x, edge_index, edge_type, size=(16, 35))
    assert_close(out, _images_as_nodes(expected))


def test_output_size_out_of_range_is_named() -> None:
    with pytest.raises(ValueError, match=r"output_size must be \(H, W\) with 1 <= H <= 9"):
        transposed_grid_graph(4, 4, 4, stride=2, padding=1, output_size=(10, 8))
    layer = GridConvTranspose2d(2, 2, 4, stride=2, padding=1)
    edge_index, edge_type, _ = layer.graph(4, 4)
    with pytest.raises(ValueError, match="output_size"):
        layer(torch.randn(16, 2), edge_index, edge_type, grid_shape=(1, 4, 4), output_size=(0, 8))


def test_a_transposed_graph_for_another_kernel_is_refused() -> None:
    edge_index, edge_type, (ho, wo) = transposed_grid_graph(4, 4, 2, stride=2)
    layer = GridConvTranspose2d(3, 2, kernel_size=4, stride=2, padding=1)
    with pytest.raises(ValueError, match=r"made for a 2x2 kernel .* not this layer's 4x4"):
        layer(torch.randn(16, 3), edge_index, edge_type, size=(16, ho * wo))
