import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.testing import assert_close
from torchvision.models import resnet as tv_resnet
from torchvision.ops import Conv2dNormActivation, SqueezeExcitation

from gconv.grid import conv_output_size
from gconv.nn import (
    BasicBlock,
    Bottleneck,
    ConvNormAct,
    DepthwiseSeparableConv2d,
    InceptionBlock,
    PointwiseConv2d,
    SqueezeExcite,
)


def _n_weights(module: nn.Module) -> int:
    return sum(p.numel() for name, p in module.named_parameters() if name.endswith("weight"))


@pytest.mark.parametrize(("k", "stride"), [(1, 1), (3, 1), (3, 2), (5, 2), (7, 2)])
def test_conv_norm_act_equals_torchvision(k: int, stride: int) -> None:
    ours = ConvNormAct(3, 8, k, stride=stride).eval()
    reference = Conv2dNormActivation(3, 8, k, stride=stride).eval()
    reference.load_state_dict(ours.state_dict())
    x = torch.randn(2, 3, 17, 17)
    out = ours(x)
    assert_close(out, reference(x))
    assert out.shape[-1] == conv_output_size(17, k, stride, (k - 1) // 2)


def test_conv_norm_act_bias_only_without_norm() -> None:
    assert ConvNormAct(3, 8)[0].bias is None
    plain = ConvNormAct(3, 8, norm_layer=None, act_layer=None)
    assert plain[0].bias is not None and len(plain) == 1


def test_pointwise_takes_an_unbatched_image_as_nn_conv2d_does() -> None:
    conv = PointwiseConv2d(3, 5)
    image = torch.randn(3, 6, 6)
    torch.testing.assert_close(conv(image), conv(image.unsqueeze(0))[0])


def test_pointwise_is_a_per_pixel_linear_map() -> None:
    conv = PointwiseConv2d(6, 4)
    x = torch.randn(2, 6, 5, 5)
    expected = torch.einsum("oc,bchw->bohw", conv.weight[:, :, 0, 0], x)
    assert_close(conv(x), expected + conv.bias.view(1, -1, 1, 1))
    assert conv.kernel_size == (1, 1)


@pytest.mark.parametrize(("c_in", "c_out", "k"), [(3, 8, 3), (16, 32, 3), (8, 8, 5)])
def test_depthwise_separable_weight_count(c_in: int, c_out: int, k: int) -> None:
    conv = DepthwiseSeparableConv2d(c_in, c_out, k)
    assert _n_weights(conv) == k * k * c_in + c_in * c_out
    assert _n_weights(conv) < _n_weights(nn.Conv2d(c_in, c_out, k, bias=False))


def test_depthwise_separable_equals_two_convolutions() -> None:
    conv = DepthwiseSeparableConv2d(4, 6, 3, stride=2, depth_multiplier=2)
    x = torch.randn(2, 4, 9, 9)
    dw = F.conv2d(x, conv.depthwise[0].weight, stride=2, padding=1, groups=4)
    assert_close(conv(x), F.conv2d(dw, conv.pointwise[0].weight))
    assert conv(x).shape == (2, 6, 5, 5)


def test_depthwise_separable_mobilenet_style_norms() -> None:
    conv = DepthwiseSeparableConv2d(8, 16, norm_layer=nn.BatchNorm2d, act_layer=nn.ReLU)
    kinds = [type(m) for m in conv.modules() if not isinstance(m, (nn.Sequential, ConvNormAct))]
    assert kinds[1:] == [nn.Conv2d, nn.BatchNorm2d, nn.ReLU] * 2


@pytest.mark.parametrize(("channels", "squeeze"), [(16, 4), (64, 8), (3, 1)])
def test_squeeze_excite_equals_torchvision(channels: int, squeeze: int) -> None:
    ours = SqueezeExcite(channels, squeeze)
    reference = SqueezeExcitation(channels, squeeze)
    reference.load_state_dict(ours.state_dict())
    x = torch.randn(2, channels, 7, 7)
    assert_close(ours(x), reference(x))


def test_squeeze_excite_default_reduction() -> None:
    assert SqueezeExcite(64).squeeze_channels == 4
    assert SqueezeExcite(8).squeeze_channels == 1
    with pytest.raises(ValueError, match=r"SqueezeExcite: input must be \[B, 8, H, W\]"):
        SqueezeExcite(8)(torch.randn(2, 4, 3, 3))


def test_inception_block_concatenates_its_branches() -> None:
    block = InceptionBlock(192, 64, 96, 128, 16, 32, 32).eval()
    x = torch.randn(1, 192, 12, 12)
    out = block(x)
    assert out.shape == (1, 256, 12, 12) and block.out_channels == 256
    branches = [block.branch1(x), block.branch2(x), block.branch3(x), block.branch4(x)]
    assert_close(out, torch.cat(branches, dim=1))
    kernels = [m.kernel_size for m in block.branch3.modules() if isinstance(m, nn.Conv2d)]
    assert kernels == [(1, 1), (5, 5)]  # a real 5x5, unlike torchvision's GoogLeNet


def test_inception_parameter_count() -> None:
    block = InceptionBlock(192, 64, 96, 128, 16, 32, 32, norm_layer=None)
    weights = 192 * 64 + 192 * 96 + 9 * 96 * 128 + 192 * 16 + 25 * 16 * 32 + 192 * 32
    assert _n_weights(block) == weights


def _torchvision_block(block: nn.Module) -> nn.Module:
    tv_cls = tv_resnet.BasicBlock if isinstance(block, BasicBlock) else tv_resnet.Bottleneck
    downsample = None
    if block.downsample is not None:
        downsample = nn.Sequential(
            nn.Conv2d(block.in_channels, block.out_channels, 1, block.stride, bias=False),
            nn.BatchNorm2d(block.out_channels),
        )
    planes = block.out_channels // block.expansion
    return tv_cls(block.in_channels, planes, block.stride, downsample)


@pytest.mark.parametrize(
    ("cls", "c_in", "channels", "stride"),
    [
        (BasicBlock, 16, 16, 1),
        (BasicBlock, 16, 32, 2),
        (BasicBlock, 16, 32, 1),
        (Bottleneck, 64, 16, 1),
        (Bottleneck, 32, 16, 2),
        (Bottleneck, 64, 32, 1),
    ],
)
def test_residual_blocks_equal_torchvision(cls, c_in: int, channels: int, stride: int) -> None:
    ours = cls(c_in, channels, stride)
    has_projection = stride != 1 or c_in != channels * cls.expansion
    assert (ours.downsample is not None) == has_projection
    reference = _torchvision_block(ours)
    reference.load_state_dict(ours.state_dict())
    # train mode exercises batch statistics too
    ours.train()
    reference.train()
    x = torch.randn(4, c_in, 8, 8)
    assert_close(ours(x), reference(x))
    assert ours(x).shape == (4, channels * cls.expansion, 8 // stride, 8 // stride)


def test_residual_attention_layer_gets_the_output_width() -> None:
    block = Bottleneck(64, 16, attn_layer=SqueezeExcite)
    assert isinstance(block.attn, SqueezeExcite) and block.attn.channels == 64
    assert block(torch.randn(2, 64, 4, 4)).shape == (2, 64, 4, 4)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: ConvNormAct(0, 8), "ConvNormAct: in_channels must be >= 1"),
        (lambda: PointwiseConv2d(4, -1), "PointwiseConv2d: out_channels must be >= 1"),
        (lambda: DepthwiseSeparableConv2d(4, 8, depth_multiplier=0), "depth_multiplier"),
        (lambda: InceptionBlock(8, 4, 4, 4, 4, 4, 0), "InceptionBlock: pool_proj"),
        (lambda: BasicBlock(8, 8, stride=0), "BasicBlock: stride must be >= 1"),
        (lambda: SqueezeExcite(8, reduction=0), "SqueezeExcite: reduction"),
        (lambda: ConvNormAct(3, 8, stride=0), "ConvNormAct: stride must be >= 1"),
        (lambda: ConvNormAct(3, 8, dilation=0), "ConvNormAct: dilation must be >= 1"),
        (lambda: ConvNormAct(4, 6, groups=4), "ConvNormAct: groups must divide"),
        (lambda: ConvNormAct(3, 8, padding=-1), "ConvNormAct: padding must be >= 0"),
        (lambda: PointwiseConv2d(3, 8, stride=0), "PointwiseConv2d: stride must be >= 1"),
    ],
)
def test_bad_arguments(build, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()


def test_non_int_channels_raise_type_error() -> None:
    with pytest.raises(TypeError, match="ConvNormAct: in_channels must be an int"):
        ConvNormAct(3.0, 8)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("block", "channels"),
    [
        (lambda: ConvNormAct(3, 8), 3),
        (lambda: PointwiseConv2d(3, 8), 3),
        (lambda: DepthwiseSeparableConv2d(3, 8), 3),
        (lambda: InceptionBlock(3, 4, 4, 4, 4, 4, 4), 3),
        (lambda: BasicBlock(3, 8), 3),
        (lambda: SqueezeExcite(8), 8),
    ],
)
def test_an_input_of_the_wrong_shape_or_dtype_is_named_by_the_block(block, channels) -> None:
    module = block()
    name = type(module).__name__
    expected = rf"{name}: input must be \[B, {channels}, H, W\] or \[{channels}, H, W\] "
    with pytest.raises(ValueError, match=expected):
        module(torch.randn(1, channels + 1, 8, 8))
    with pytest.raises(ValueError, match=expected):
        module(torch.randn(channels + 1, 8, 8))  # unbatched
    with pytest.raises(ValueError, match=expected):
        module(torch.randn(8, 8))
    with pytest.raises(TypeError, match=f"{name}: input must be floating point"):
        module(torch.ones(1, channels, 8, 8, dtype=torch.long))


@pytest.mark.parametrize(
    "block",
    [
        lambda: ConvNormAct(3, 8),
        lambda: PointwiseConv2d(3, 8),
        lambda: DepthwiseSeparableConv2d(3, 8),
        lambda: BasicBlock(3, 8),
        lambda: SqueezeExcite(3),
    ],
)
def test_the_input_checks_let_torch_fx_trace_the_block(block) -> None:
    module = block().eval()
    traced = torch.fx.symbolic_trace(module)  # what create_feature_extractor does
    x = torch.randn(2, 3, 8, 8)
    torch.testing.assert_close(traced(x), module(x))


def test_the_input_checks_compile_into_one_graph() -> None:
    block = BasicBlock(3, 8).eval()
    compiled = torch.compile(block, fullgraph=True, backend="aot_eager")  # no graph break
    x = torch.randn(2, 3, 8, 8)
    torch.testing.assert_close(compiled(x), block(x))
