"""cnn_to_gnn beyond the grid: a converted CNN on image graphs given by positions and
edges (superpixels), which on a full pixel grid is the CNN itself."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import pytest
import torch
import torchvision.models as tvm
from torch import Tensor, nn
from torch.testing import assert_close
from torch_geometric.data import Batch, Data

from gconv.convert import cnn_to_gnn, grid_graph, superpixel_graph
from gconv.errors import GconvValueError
from gconv.nn import GridConv2d

TIGHT = {"rtol": 1e-10, "atol": 1e-10}


def _as_graphs(images: Tensor, kernel_size: int = 3, step: int = 1) -> Batch:
    """Each image as a graph with pos and the grid's neighbours (those ``step`` apart:
    a dilated kernel's), without its grid shape: what the converter sees of a graph
    that is not known to be a grid."""
    graphs = []
    for image in images:
        g = grid_graph(image.size(1), image.size(2), kernel_size=kernel_size)
        offset = g.pos[g.edge_index[0]] - g.pos[g.edge_index[1]]
        keep = (offset != 0).any(1) & (offset.remainder(step) == 0).all(1)
        x = image.permute(1, 2, 0).reshape(-1, image.size(0))
        graphs.append(Data(x=x, edge_index=g.edge_index[:, keep], pos=g.pos.to(image)))
    return Batch.from_data_list(graphs)


class SmallNet(nn.Module):
    """Every operation that is exact on a pixel grid seen as an irregular graph with
    its 8 neighbours: 'same' convolutions (groups, a 1x3 kernel), norms, a residual sum,
    squeeze-excitation, a concatenation, pools whose window is their stride, a global
    mean and a linear head."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(2, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.wide = nn.Conv2d(8, 8, 3, padding=1, groups=2)
        self.dilated = nn.Conv2d(8, 4, 3, padding=1)
        self.row = nn.Conv2d(8, 4, (1, 3), padding=(0, 1))
        self.pool = nn.MaxPool2d(2)
        self.squeeze = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(8, 8, 1), nn.Sigmoid())
        self.down = nn.Conv2d(8, 6, 1)
        self.avg = nn.AvgPool2d(2)
        self.head = nn.Linear(6, 3)

    def forward(self, x: Tensor) -> Tensor:
        x = self.stem(x)
        x = x + self.wide(x)
        x = torch.cat([self.dilated(x), self.row(x)], dim=1)
        x = self.pool(torch.relu(x))
        x = x * self.squeeze(x)
        x = self.avg(self.down(x))
        return self.head(x.mean((2, 3)))


def test_on_a_pixel_grid_it_is_the_cnn() -> None:
    torch.manual_seed(0)
    cnn = SmallNet().double().eval()
    gnn = cnn_to_gnn(cnn)
    images = torch.randn(3, 2, 8, 12, dtype=torch.double, requires_grad=True)
    data = _as_graphs(images.detach())
    data.x.requires_grad_(True)
    out, ref = gnn(data), cnn(images)
    assert_close(out, ref, **TIGHT)
    grads = torch.autograd.grad(out.square().sum(), [data.x, *gnn.parameters()])
    refs = torch.autograd.grad(ref.square().sum(), [images, *cnn.parameters()])
    assert_close(grads[0], refs[0].permute(0, 2, 3, 1).reshape(-1, 2), **TIGHT)
    for got, want in zip(grads[1:], refs[1:], strict=True):
        assert_close(got, want, **TIGHT)


@pytest.mark.parametrize(
    ("conv", "step"),
    [(nn.Conv2d(2, 3, 5, padding=2), 1), (nn.Conv2d(2, 3, 3, padding=2, dilation=2), 2)],
)
def test_kernels_of_a_wider_reach(conv: nn.Conv2d, step: int) -> None:
    """A 5x5 kernel over the grid of its reach, and a 3x3 one of dilation 2 over the
    grid of its taps: offsets are counted in dilations."""
    cnn = nn.Sequential(conv, nn.AdaptiveAvgPool2d(1), nn.Flatten()).double()
    images = torch.randn(2, 2, 7, 9, dtype=torch.double)
    graphs = _as_graphs(images, kernel_size=5, step=step)
    assert_close(cnn_to_gnn(cnn)(graphs), cnn(images), **TIGHT)


def test_patchify_convolutions() -> None:
    """A convolution whose stride is its kernel, even or odd (ConvNeXt's stem and
    downsampling): each cell reads its nodes at the tap of their place."""
    cnn = nn.Sequential(
        nn.Conv2d(2, 3, 2, stride=2), nn.ReLU(), nn.Conv2d(3, 4, 3, stride=3),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(),
    ).double()  # fmt: skip
    images = torch.randn(2, 2, 12, 6, dtype=torch.double)
    assert_close(cnn_to_gnn(cnn)(_as_graphs(images)), cnn(images), **TIGHT)


def test_adaptive_pool_to_a_grid_and_a_flatten_head() -> None:
    """An adaptive pool to 2x2 gives a pixel grid back (each graph's bounding box in
    2x2 cells), so a flatten head follows; exact on 8x8 grids."""
    torch.manual_seed(1)
    cnn = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(),
        nn.Linear(16, 5),
    ).double()  # fmt: skip
    images = torch.randn(2, 1, 8, 8, dtype=torch.double)
    assert_close(cnn_to_gnn(cnn)(_as_graphs(images)), cnn(images), **TIGHT)


def _superpixels(count: int, size: int = 28, channels: int = 1, seed: int = 0) -> Batch:
    torch.manual_seed(seed)
    graphs = []
    for _ in range(count):
        image = torch.rand(channels, size, size)
        g = superpixel_graph(image, n_segments=40, compactness=0.25 if channels == 1 else 10)
        graphs.append(Data(x=g.x[:, :channels], edge_index=g.edge_index, pos=g.pos))
    return Batch.from_data_list(graphs)


def test_on_superpixels_node_order_does_not_matter() -> None:
    """On superpixels (positions in [0, 1], so one pixel is 1 / 27), every layer reads
    positions, not node numbers: the same graphs with their nodes shuffled give the
    same logits, and every weight gets a gradient."""
    torch.manual_seed(0)
    cnn = SmallNet().double().eval()
    gnn = cnn_to_gnn(cnn, pixel_size=1 / 27)
    data = _superpixels(3, channels=2)
    data.x = data.x.double()
    data.pos = data.pos.double()
    out = gnn(data)
    assert out.shape == (3, 3) and bool(torch.isfinite(out).all())
    order = torch.randperm(data.num_nodes)
    inverse = torch.empty_like(order)
    inverse[order] = torch.arange(order.numel())
    shuffled = Batch(
        x=data.x[order], pos=data.pos[order], edge_index=inverse[data.edge_index],
        batch=data.batch[order],
    )  # fmt: skip
    shuffled._num_graphs = 3
    assert_close(gnn(shuffled), out, **TIGHT)
    gnn(data).sum().backward()
    assert all(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in gnn.parameters())


def test_the_pixel_size_sets_the_cells() -> None:
    """A 2x2 pool coarsens by cells of two pixels: positions in pixels with
    ``pixel_size=1`` and in [0, 1] with ``1 / (H - 1)`` give the same network."""
    torch.manual_seed(2)
    cnn = SmallNet().double().eval()
    data = _superpixels(2, channels=2, seed=3)
    data.x, data.pos = data.x.double(), data.pos.double()
    in_pixels = data.clone()
    in_pixels.pos = data.pos * 27
    assert_close(cnn_to_gnn(cnn, pixel_size=1 / 27)(data), cnn_to_gnn(cnn)(in_pixels), **TIGHT)
    assert not torch.allclose(cnn_to_gnn(cnn)(data), cnn_to_gnn(cnn)(in_pixels))


TORCHVISION: dict[str, Callable[[], nn.Module]] = {
    "resnet18": partial(tvm.resnet18, num_classes=7),
    "mobilenet_v3_small": partial(tvm.mobilenet_v3_small, num_classes=7),
    "efficientnet_b0": partial(tvm.efficientnet_b0, num_classes=7),
    "shufflenet_v2_x0_5": partial(tvm.shufflenet_v2_x0_5, num_classes=7),
    "densenet121": partial(tvm.densenet121, num_classes=7),
    "convnext_tiny": partial(tvm.convnext_tiny, num_classes=7),
    "regnet_y_400mf": partial(tvm.regnet_y_400mf, num_classes=7),
}


@pytest.mark.parametrize("name", list(TORCHVISION))
def test_torchvision_classifiers_run_on_superpixels(name: str) -> None:
    """Strided convolutions, 3x3 pools of stride 2, depthwise convolutions,
    squeeze-excitation, channel shuffles, dense concatenations and ConvNeXt's
    channels-last blocks, on RGB superpixel graphs, in training mode too."""
    torch.manual_seed(0)
    gnn = cnn_to_gnn(TORCHVISION[name](), pixel_size=1 / 63).eval()
    data = _superpixels(2, size=64, channels=3)
    out = gnn(data)
    assert out.shape == (2, 7) and bool(torch.isfinite(out).all())
    gnn.train()(data).sum().backward()


def test_refused_on_graphs_that_are_not_grids() -> None:
    data = _superpixels(1)
    flat = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.Flatten(), nn.Linear(2 * 28 * 28, 3))
    with pytest.raises(GconvValueError, match=r"^cnn_to_gnn: a Flatten has no form.*pool first\)$"):
        cnn_to_gnn(flat)(data)
    up = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ConvTranspose2d(2, 2, 2, stride=2))
    with pytest.raises(GconvValueError, match="GridConvTranspose2d has no form"):
        cnn_to_gnn(up)(data)
    even = nn.Sequential(nn.Conv2d(1, 2, 2), nn.AdaptiveAvgPool2d(1))
    with pytest.raises(GconvValueError, match="even kernel"):
        cnn_to_gnn(even)(data)
    with pytest.raises(GconvValueError, match="pos"):
        cnn_to_gnn(even)(Data(x=torch.rand(5, 1), edge_index=torch.zeros(2, 0, dtype=torch.long)))
    with pytest.raises(GconvValueError, match="pixel_size must be > 0"):
        cnn_to_gnn(even, pixel_size=0)


def test_grid_conv_weighted_edges_one_sparse_product() -> None:
    """``edge_weight`` scales each message: the sparse product of ``auto`` equals
    PyG's per-edge ``propagate`` (values and gradients, groups too); weights that need
    gradients take ``propagate`` and get theirs."""
    torch.manual_seed(0)
    for groups in (1, 2):
        layer = GridConv2d(4, 6, (3, 5), groups=groups).double()
        edge_index = torch.randint(0, 30, (2, 200))
        edge_type = torch.randint(0, 15, (200,))
        weight = torch.rand(200, dtype=torch.double)
        x = torch.randn(30, 4, dtype=torch.double, requires_grad=True)
        outs = [layer(x, edge_index, edge_type, edge_weight=weight, path=p)
                for p in ("auto", "scatter")]  # fmt: skip
        assert_close(outs[0], outs[1], **TIGHT)
        grads = [torch.autograd.grad(o.square().sum(), [x, layer.weight]) for o in outs]
        for a, b in zip(*grads, strict=True):
            assert_close(a, b, **TIGHT)
    weight.requires_grad_(True)
    layer(x, edge_index, edge_type, edge_weight=weight).sum().backward()
    assert weight.grad is not None
    with pytest.raises(GconvValueError, match="edge_weight needs path"):
        layer(x, edge_index, edge_type, edge_weight=weight, path="table")
