"""cnn_to_gnn: every CNN torchvision builds, and gconv's own, as graph networks with the
CNN's outputs and gradients, on both paths."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
import torch
import torchvision.models as tvm
from torch import Tensor, nn
from torch.testing import assert_close
from torch_geometric.data import Batch
from torch_geometric.loader import DataLoader
from torchvision.models import resnet

from gconv.convert import GraphNetwork, cnn_to_gnn, grid_graph, images_to_graphs
from gconv.models import get_model

TIGHT = {"rtol": 1e-10, "atol": 1e-10}  # float64; atol is scaled to each tensor's size
SEG = {"weights": None, "weights_backbone": None, "num_classes": 3, "aux_loss": False}


def _small_head(build: Callable[..., nn.Module]) -> nn.Module:
    """VGG with its classifier's 4096-wide layers at 64 (the same modules): 120M float64
    parameters would make the test a minute long."""
    model = build(num_classes=7)
    model.classifier = nn.Sequential(  # type: ignore[assignment]
        nn.Linear(512 * 7 * 7, 64), nn.ReLU(True), nn.Dropout(), nn.Linear(64, 7)
    )
    return model


# every classification and segmentation family torchvision has; the largest members are
# built by the same classes at fewer blocks, so that CI stays short
TORCHVISION: dict[str, tuple[Callable[[], nn.Module], int]] = {
    "resnet18": (partial(tvm.resnet18, num_classes=7), 32),
    "resnext": (partial(resnet.ResNet, resnet.Bottleneck, [1, 1, 1, 1], num_classes=7,
                        groups=4, width_per_group=4), 32),
    "wide_resnet": (partial(resnet.ResNet, resnet.Bottleneck, [1, 1, 1, 1], num_classes=7,
                            width_per_group=128), 32),
    "vgg11": (partial(_small_head, tvm.vgg11), 32),
    "vgg11_bn": (partial(_small_head, tvm.vgg11_bn), 32),
    "alexnet": (partial(tvm.alexnet, num_classes=7), 64),
    "squeezenet1_0": (partial(tvm.squeezenet1_0, num_classes=7), 48),
    "squeezenet1_1": (partial(tvm.squeezenet1_1, num_classes=7), 48),
    "densenet121": (partial(tvm.densenet121, num_classes=7), 32),
    "googlenet": (partial(tvm.googlenet, num_classes=7, aux_logits=False, init_weights=True), 32),
    "inception_v3": (partial(tvm.inception_v3, num_classes=7, aux_logits=False,
                             init_weights=True), 80),
    "mobilenet_v2": (partial(tvm.mobilenet_v2, num_classes=7), 32),
    "mobilenet_v3_small": (partial(tvm.mobilenet_v3_small, num_classes=7), 32),
    "mnasnet0_5": (partial(tvm.mnasnet0_5, num_classes=7), 32),
    "shufflenet_v2_x0_5": (partial(tvm.shufflenet_v2_x0_5, num_classes=7), 32),
    "efficientnet_b0": (partial(tvm.efficientnet_b0, num_classes=7), 32),
    "efficientnet_v2_s": (partial(tvm.efficientnet_v2_s, num_classes=7), 32),
    "regnet_y_400mf": (partial(tvm.regnet_y_400mf, num_classes=7), 32),
    "convnext_tiny": (partial(tvm.convnext_tiny, num_classes=7), 32),
    "fcn_resnet50": (partial(tvm.segmentation.fcn_resnet50, **SEG), 32),
    "deeplabv3_mobilenet_v3_large": (
        partial(tvm.segmentation.deeplabv3_mobilenet_v3_large, **SEG), 32),
    "lraspp_mobilenet_v3_large": (partial(tvm.segmentation.lraspp_mobilenet_v3_large,
                                          weights=None, weights_backbone=None,
                                          num_classes=3), 32),
}  # fmt: skip


def _main(out: Any) -> Tensor:
    return out["out"] if isinstance(out, dict) else out


def _as_nodes(out: Tensor) -> Tensor:
    """A CNN's output as the graph network gives it: per-pixel maps as node features."""
    return out.permute(0, 2, 3, 1).reshape(-1, out.size(1)) if out.dim() == 4 else out


def _close(actual: Tensor, expected: Tensor, **tol: Any) -> None:
    """Equal to ``tol``, ``atol`` taken relative to the largest value of ``expected``
    (a deep network's gradients run to the thousands)."""
    if "atol" in tol:
        tol = {**tol, "atol": tol["atol"] * max(1.0, float(expected.abs().max()))}
    assert_close(actual, expected, **tol)


def _compare(cnn: nn.Module, images: Tensor, path: str, **tol: float) -> None:
    """Outputs, input gradients and every parameter's gradient, by state_dict name."""
    cnn.zero_grad(set_to_none=True)
    gnn = cnn_to_gnn(cnn)
    assert isinstance(gnn, GraphNetwork)
    assert gnn.state_dict().keys() == cnn.state_dict().keys()
    images = images.clone().requires_grad_()
    expected = _main(cnn(images))
    batch = images_to_graphs(images.detach())
    x = batch.x.requires_grad_()
    out = _main(gnn(batch, path=path))
    assert float(expected.detach().abs().max()) > 0  # not a network that outputs nothing
    _close(out, _as_nodes(expected.detach()), **tol)
    weights = torch.randn_like(expected)
    (expected * weights).sum().backward()
    (out * _as_nodes(weights)).sum().backward()
    b, c, h, w = images.shape
    _close(x.grad.view(b, h, w, c).permute(0, 3, 1, 2), images.grad, **tol)
    grads = {k: p.grad for k, p in gnn.named_parameters()}
    for name, p in cnn.named_parameters():
        if p.grad is not None:
            _close(grads[name].view_as(p.grad), p.grad, **tol, msg=name)


@pytest.mark.parametrize("path", ["auto", "message_passing"])
@pytest.mark.parametrize("name", list(TORCHVISION))
def test_torchvision_networks_are_equal_in_float64(name: str, path: str) -> None:
    build, size = TORCHVISION[name]
    torch.manual_seed(0)
    cnn = build().double().eval()
    images = torch.randn(2, 3, size, size, dtype=torch.float64)
    _compare(cnn, images, path, **TIGHT)


@pytest.mark.parametrize("name", ["lenet5", "alexnet", "grid_cnn", "inception", "mobilenet",
                                  "resnet18", "se_resnet18", "vgg11", "xception"])  # fmt: skip
def test_gconvs_own_cnns_are_equal(name: str) -> None:
    torch.manual_seed(0)
    cnn = get_model(name, in_channels=1, num_classes=10).double().eval()
    images = torch.randn(2, 1, 32 if name != "lenet5" else 28, 32 if name != "lenet5" else 28)
    for path in ("auto", "message_passing"):
        _compare(cnn, images.double(), path, **TIGHT)


@pytest.mark.parametrize("name", ["fcn", "fcn_resnet18"])
def test_gconvs_fcns_are_equal_where_they_crop(name: str) -> None:
    # at 33x35 FCN's decoder crops each upsampled map to its skip's size
    torch.manual_seed(0)
    cnn = get_model(name, in_channels=1, num_classes=3).double().eval()
    for path in ("auto", "message_passing"):
        _compare(cnn, torch.randn(2, 1, 33, 35, dtype=torch.float64), path, **TIGHT)


class _Crop(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return nn.functional.relu(x[..., 1:, :-2]) + x[:, :, 1:, 2:]


def test_a_crop_is_a_window_of_nodes() -> None:
    cnn = nn.Sequential(nn.Conv2d(2, 3, 3), _Crop()).double()
    _compare(cnn, torch.randn(2, 2, 7, 6, dtype=torch.float64), "message_passing", **TIGHT)


def test_training_mode_trains_the_same_function() -> None:
    torch.manual_seed(0)
    cnn = tvm.resnet18(num_classes=5).double().train()  # batch statistics, running averages
    gnn = cnn_to_gnn(cnn)
    images = torch.randn(4, 3, 32, 32, dtype=torch.float64)
    batch = images_to_graphs(images)
    assert_close(gnn(batch, path="message_passing"), cnn(images), **TIGHT)
    for key, value in cnn.state_dict().items():  # the running statistics moved alike
        assert_close(gnn.state_dict()[key].view_as(value), value, **TIGHT, msg=key)


def test_float32_at_torchs_tolerances() -> None:
    torch.manual_seed(0)
    cnn = tvm.mobilenet_v3_small(num_classes=5).eval()
    for path in ("auto", "message_passing"):
        _compare(cnn, torch.randn(2, 3, 32, 32), path)


def test_weights_load_both_ways() -> None:
    cnn = tvm.resnet18(num_classes=4).eval()
    gnn = cnn_to_gnn(tvm.resnet18(num_classes=4)).eval()
    gnn.load_state_dict({k: v.view_as(gnn.state_dict()[k]) for k, v in cnn.state_dict().items()})
    images = torch.randn(2, 3, 32, 32)
    assert_close(gnn(images_to_graphs(images)), cnn(images))
    other = tvm.resnet18(num_classes=4).eval()
    other.load_state_dict(
        {k: v.view_as(other.state_dict()[k]) for k, v in gnn.state_dict().items()}
    )
    assert_close(other(images), cnn(images))


def test_takes_pygs_batches_of_grid_graphs() -> None:
    cnn = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(64, 3))
    images = torch.randn(3, 2, 4, 4)
    graphs = []
    for image in images:
        graph = grid_graph(4, 4)
        graph.x = image.permute(1, 2, 0).reshape(16, 2)
        graphs.append(graph)
    batch = next(iter(DataLoader(graphs, batch_size=3)))
    assert isinstance(batch, Batch)
    assert_close(cnn_to_gnn(cnn)(batch), cnn(images))


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
def test_every_conv2d_option_on_the_message_passing_path() -> None:
    torch.manual_seed(0)
    cnn = nn.Sequential(
        nn.Conv2d(4, 4, (2, 3), padding="same", dilation=3),
        nn.Conv2d(4, 4, 3, padding=1, padding_mode="reflect"),
        nn.Conv2d(4, 4, (3, 5), stride=2, padding=(1, 2), padding_mode="replicate"),
        nn.Conv2d(4, 4, 3, padding="same", dilation=2, groups=2, padding_mode="circular"),
        nn.Conv2d(4, 6, 3, stride=(2, 1), padding=(0, 2), groups=2),
        nn.ConvTranspose2d(6, 3, 3, stride=2, padding=1, output_padding=1),
        nn.MaxPool2d(3, 2, padding=1, ceil_mode=True),
        nn.AvgPool2d(3, 2, padding=1, ceil_mode=True, count_include_pad=False),
        nn.Upsample(scale_factor=2, mode="bilinear"),
    ).double()
    images = torch.randn(2, 4, 21, 20, dtype=torch.float64)
    for path in ("auto", "message_passing"):
        _compare(cnn, images, path, **TIGHT)


class _Channel(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return x[:, 0] + 1


class _Sort(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return torch.sort(x, dim=1).values


@pytest.mark.parametrize(
    ("module", "message"),
    [
        (_Sort(), r"call_function sort \(node 'sort'\)"),
    ],
)
def test_what_has_no_graph_form_is_named_where_it_is(module: nn.Module, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        cnn_to_gnn(module)


def test_an_index_into_a_grid_is_named_when_it_runs() -> None:
    gnn = cnn_to_gnn(_Channel())
    with pytest.raises(ValueError, match="crops rows and columns only"):
        gnn(images_to_graphs(torch.randn(1, 1, 4, 4)))


def test_its_input_must_be_pixel_grids() -> None:
    gnn = cnn_to_gnn(nn.Sequential(nn.Conv2d(1, 1, 3)))
    with pytest.raises(TypeError, match="batch of pixel grid graphs"):
        gnn(torch.randn(1, 1, 4, 4))
    with pytest.raises(TypeError, match=r"model must be an nn\.Module"):
        cnn_to_gnn(lambda x: x)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "upsample",
    [
        nn.Upsample(size=(7, 9), mode="nearest"),
        nn.Upsample(scale_factor=1.5, mode="bilinear", align_corners=True),
        nn.Upsample(scale_factor=2, mode="bicubic"),
        nn.Upsample(size=3, mode="area"),
        nn.AdaptiveMaxPool2d((3, 2)),
        nn.AvgPool2d(3, 2, padding=1, divisor_override=5),
    ],
)
def test_interpolation_and_pools_as_weighted_edges(upsample: nn.Module) -> None:
    cnn = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), upsample).double()
    _compare(cnn, torch.randn(2, 2, 5, 6, dtype=torch.float64), "message_passing", **TIGHT)
