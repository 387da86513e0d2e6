"""GridConv2d and GridConvTranspose2d against the inputs PyTorch tests its own
``F.conv2d`` and ``F.conv_transpose2d`` with (the OpInfo ``sample_inputs`` of
``nn.functional.conv2d`` and ``conv_transpose2d``): values and gradients, float32 and
float64; convolutions as message passing over :func:`gconv.graph.conv_graph`,
transposed ones on the dense path and as message passing over their own graph."""

import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

from gconv.graph import conv_graph
from gconv.nn import GridConv2d, GridConvTranspose2d

pytest.importorskip("expecttest")  # torch.testing._internal needs it
from torch.testing._internal.common_methods_invocations import op_db

CONV2D = next(op for op in op_db if op.name == "nn.functional.conv2d")


def _samples(dtype: torch.dtype) -> list:
    return list(CONV2D.sample_inputs("cpu", dtype, requires_grad=True))


def _nodes(images: torch.Tensor) -> torch.Tensor:
    return images.permute(0, 2, 3, 1).reshape(-1, images.size(1))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_every_conv2d_sample_equals_f_conv2d(dtype: torch.dtype) -> None:
    samples = _samples(dtype)
    assert len(samples) == 30  # PyTorch 2.14's set; a change here means a new set to read
    for sample in samples:
        weight, *rest = sample.args
        bias = rest[0] if rest else None
        options = dict(sample.kwargs)
        images = sample.input if sample.input.dim() == 4 else sample.input.unsqueeze(0)
        b, c, h, w = images.shape
        groups = options.get("groups", 1)
        layer = GridConv2d(
            c, weight.size(0), tuple(weight.shape[-2:]), groups=groups, bias=bias is not None
        ).to(dtype)
        with torch.no_grad():
            layer.weight.copy_(weight)
            if bias is not None:
                layer.bias.copy_(bias)
        edge_index, edge_type, (ho, wo) = conv_graph(
            h,
            w,
            tuple(weight.shape[-2:]),
            stride=options.get("stride", 1),
            padding=options.get("padding", 0),
            dilation=options.get("dilation", 1),
            batch_size=b,
        )
        x = _nodes(images.detach()).requires_grad_()
        out = layer(x, edge_index, edge_type, size=(b * h * w, b * ho * wo))
        reference = images.detach().requires_grad_()
        ref_weight = weight.detach().requires_grad_()
        ref_bias = None if bias is None else bias.detach().requires_grad_()
        expected = F.conv2d(reference, ref_weight, ref_bias, **options)

        def say(message: str, sample=sample) -> str:
            return f"{tuple(sample.input.shape)}, {sample.kwargs}: {message}"

        assert_close(out, _nodes(expected), msg=say)
        upstream = torch.randn_like(expected)
        (out * _nodes(upstream)).sum().backward()
        (expected * upstream).sum().backward()
        assert_close(x.grad, _nodes(reference.grad), msg=say)
        assert_close(layer.weight.grad, ref_weight.grad, msg=say)
        if ref_bias is not None:
            assert_close(layer.bias.grad, ref_bias.grad, msg=say)


CONV_TRANSPOSE2D = next(op for op in op_db if op.name == "nn.functional.conv_transpose2d")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_every_conv_transpose2d_sample_equals_f_conv_transpose2d(dtype: torch.dtype) -> None:
    samples = list(CONV_TRANSPOSE2D.sample_inputs("cpu", dtype, requires_grad=True))
    assert len(samples) == 12  # PyTorch 2.14's set
    for sample in samples:
        weight, *rest = sample.args
        bias = rest[0] if rest else None
        options = dict(sample.kwargs)
        images = sample.input if sample.input.dim() == 4 else sample.input.unsqueeze(0)
        b, c, h, w = images.shape
        groups = options.get("groups", 1)
        layer = GridConvTranspose2d(
            c,
            weight.size(1) * groups,
            tuple(weight.shape[-2:]),
            options.get("stride", 1),
            options.get("padding", 0),
            options.get("output_padding", 0),
            groups,
            bias=bias is not None,
            dilation=options.get("dilation", 1),
        ).to(dtype)
        with torch.no_grad():
            layer.weight.copy_(weight)
            if bias is not None:
                layer.bias.copy_(bias)
        reference = images.detach().requires_grad_()
        ref_weight = weight.detach().requires_grad_()
        ref_bias = None if bias is None else bias.detach().requires_grad_()
        expected = F.conv_transpose2d(reference, ref_weight, ref_bias, **options)

        def say(message: str, sample=sample) -> str:
            return f"{tuple(sample.input.shape)}, {sample.kwargs}: {message}"

        ho, wo = expected.shape[-2:]
        assert layer.output_size(h, w) == (ho, wo)
        for dense in (False, True):
            edge_index, edge_type, _ = layer.graph(h, w, b)
            x = _nodes(images.detach()).requires_grad_()
            if dense:
                out = layer(x, edge_index, edge_type, grid_shape=(b, h, w))
            else:
                out = layer(x, edge_index, edge_type, size=(b * h * w, b * ho * wo))
            assert_close(out, _nodes(expected), msg=say)
            upstream = torch.randn_like(expected)
            (out * _nodes(upstream)).sum().backward()
            reference.grad = ref_weight.grad = None
            (expected * upstream).sum().backward(retain_graph=True)
            assert_close(x.grad, _nodes(reference.grad), msg=say)
            assert_close(layer.weight.grad, ref_weight.grad, msg=say)
            layer.zero_grad()
