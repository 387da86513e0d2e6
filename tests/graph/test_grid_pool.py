"""GridMaxPool2d's gradient is nn.MaxPool2d's, ties and zero maxima included; and a
strided GridConv2d whose outputs all land in padding gives the bias, as F.conv2d."""

import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

from gconv.convert import images_to_graphs
from gconv.graph import strided_grid_graph
from gconv.nn import GridConv2d, GridMaxPool2d


def _nodes(images: torch.Tensor) -> torch.Tensor:
    return images.permute(0, 2, 3, 1).reshape(-1, images.size(1))


@pytest.mark.parametrize(
    ("window", "grad"),
    [
        ([0.0, -1.0, -2.0, -3.0], [1.0, 0.0, 0.0, 0.0]),  # a maximum of 0
        ([0.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]),  # all tied at 0: the first
        ([1.0, 3.0, 3.0, 2.0], [0.0, 1.0, 0.0, 0.0]),  # a tie: the first in window order
    ],
)
def test_gradient_goes_to_the_first_maximum_as_in_torch(window, grad) -> None:
    """PyG's max aggregation splits the gradient between ties (and with the zero it
    starts from): [0.5, 0, 0, 0] for the first window, 0.2 each for the second."""
    pool = GridMaxPool2d(2)
    edge_index, _, _ = pool.graph(2, 2)
    x = torch.tensor(window).view(4, 1).requires_grad_()
    pool(x, edge_index, size=(4, 1)).sum().backward()
    image = torch.tensor(window).view(1, 1, 2, 2).requires_grad_()
    F.max_pool2d(image, 2).sum().backward()
    assert x.grad.view(-1).tolist() == grad == image.grad.view(-1).tolist()


@pytest.mark.parametrize(("k", "stride", "padding"), [(2, 2, 0), (3, 2, 1), (3, 1, 1), (2, 1, 0)])
def test_gradient_equals_max_pool2d_with_many_ties(k, stride, padding) -> None:
    images = torch.randint(-1, 2, (2, 3, 7, 6)).double()  # three values: ties everywhere
    upstream = torch.randn(2, 3, *F.max_pool2d(images, k, stride, padding).shape[-2:]).double()
    pool = GridMaxPool2d(k, stride, padding)
    edge_index, _, (ho, wo) = pool.graph(7, 6, batch_size=2)
    x = _nodes(images).requires_grad_()
    out = pool(x, edge_index, size=(2 * 42, 2 * ho * wo))
    (out * _nodes(upstream)).sum().backward()
    reference = images.clone().requires_grad_()
    expected = F.max_pool2d(reference, k, stride, padding)
    (expected * upstream).sum().backward()
    assert_close(out, _nodes(expected))
    assert_close(x.grad, _nodes(reference.grad))


@pytest.mark.parametrize("side", [1, 2])
@pytest.mark.parametrize("path", ["auto", "table", "scatter"])
def test_strided_conv_with_every_output_in_padding_gives_the_bias(side: int, path: str) -> None:
    """k=1, stride 3, padding 1 on a 1x1 or 2x2 image: no output reads a pixel, so the
    graph has no edges and F.conv2d returns the bias (this used to crash)."""
    conv = torch.nn.Conv2d(2, 3, 1, stride=3, padding=1).double()
    layer = GridConv2d(2, 3, 1).double()
    layer.load_state_dict(conv.state_dict())
    images = torch.randn(1, 2, side, side, dtype=torch.float64, requires_grad=True)
    edge_index, edge_type, (ho, wo) = strided_grid_graph(side, side, 1, stride=3, padding=1)
    assert edge_index.size(1) == 0
    x = _nodes(images.detach()).requires_grad_()
    out = layer(x, edge_index, edge_type, size=(side * side, ho * wo), path=path)
    expected = conv(images)
    assert_close(out, _nodes(expected))
    out.sum().backward()
    expected.sum().backward()
    assert_close(x.grad, _nodes(images.grad))
    assert_close(layer.bias.grad, conv.bias.grad)
    assert_close(layer.weight.grad, conv.weight.grad)


def test_empty_edge_index_gives_the_bias_on_every_path() -> None:
    layer = GridConv2d(2, 3, 3)
    x = torch.randn(4, 2, requires_grad=True)
    empty, types = torch.empty(2, 0, dtype=torch.long), torch.empty(0, dtype=torch.long)
    for path in ("auto", "table", "scatter"):
        out = layer(x, empty, types, path=path)
        assert_close(out, layer.bias.expand(4, 3))
        (grad,) = torch.autograd.grad(out.sum(), x)
        assert_close(grad, torch.zeros_like(x))


@pytest.mark.parametrize("kernel", [2, 3, (1, 4)])
def test_a_nan_propagates_as_torchs_max_pool(kernel: object) -> None:
    images = torch.randn(2, 3, 6, 8)
    images[0, 1, 2, 3] = float("nan")
    images[1, 0, 0, :4] = float("nan")  # several NaNs in one window: torch takes the last
    pool = GridMaxPool2d(kernel, return_indices=True)
    edge_index, _, (ho, wo) = pool.graph(6, 8, batch_size=2)
    x = images.permute(0, 2, 3, 1).reshape(-1, 3).requires_grad_()
    out, index = pool(x, edge_index, size=(x.size(0), 2 * ho * wo))
    expected, expected_index = F.max_pool2d(images, kernel, return_indices=True)
    torch.testing.assert_close(out.view(2, ho, wo, 3).permute(0, 3, 1, 2), expected, equal_nan=True)
    assert torch.equal((index % 48).view(2, ho, wo, 3).permute(0, 3, 1, 2), expected_index)


def test_a_batch_of_images_to_graphs_is_pooled_over_its_strided_graph() -> None:
    images = torch.randn(4, 3, 8, 8)
    batch = images_to_graphs(images)
    pool = GridMaxPool2d(2)
    b, h, w = batch.grid_shape
    edge_index, _, (ho, wo) = pool.graph(h, w, batch_size=b)
    out = pool(batch.x, edge_index, size=(b * h * w, b * ho * wo))
    expected = F.max_pool2d(images, 2).permute(0, 2, 3, 1).reshape(-1, 3)
    torch.testing.assert_close(out, expected)
