"""GridMaxPool2d against the inputs PyTorch tests its own ``F.max_pool2d`` with (the
OpInfo ``sample_inputs`` of ``nn.functional.max_pool2d``: tuple and non-square
kernels, strides and padding, dilation, ``ceil_mode``, ``return_indices``): values,
indices and gradients, float32 and float64."""

import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

from gconv.nn import GridMaxPool2d

pytest.importorskip("expecttest")  # torch.testing._internal needs it
from torch.testing._internal.common_methods_invocations import op_db

MAX_POOL2D = next(op for op in op_db if op.name == "nn.functional.max_pool2d")


def _nodes(images: torch.Tensor) -> torch.Tensor:
    return images.permute(0, 2, 3, 1).reshape(-1, images.size(1))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_every_max_pool2d_sample_equals_f_max_pool2d(dtype: torch.dtype) -> None:
    samples = list(MAX_POOL2D.sample_inputs("cpu", dtype, requires_grad=True))
    assert len(samples) == 1440  # PyTorch 2.14's set
    seen = set()
    for sample in samples:
        options = dict(sample.kwargs)
        images = sample.input if sample.input.dim() == 4 else sample.input.unsqueeze(0)
        b, _, h, w = images.shape
        pool = GridMaxPool2d(
            options["kernel_size"],
            options.get("stride"),
            options.get("padding", 0),
            options.get("dilation", 1),
            options.get("return_indices", False),
            options.get("ceil_mode", False),
        )
        edge_index, _, (ho, wo) = pool.graph(h, w, b)
        x = _nodes(images.detach()).requires_grad_()
        got = pool(x, edge_index, size=(b * h * w, b * ho * wo))
        reference = images.detach().requires_grad_()
        expected = F.max_pool2d(reference, **options)

        def say(message: str, sample=sample) -> str:
            return f"{tuple(sample.input.shape)}, {sample.kwargs}: {message}"

        if options.get("return_indices", False):
            (got, indices), (expected, expected_indices) = got, expected
            assert_close(indices % (h * w), _nodes(expected_indices), msg=say)
        assert_close(got, _nodes(expected), msg=say)
        upstream = torch.randn_like(expected)
        (got * _nodes(upstream)).sum().backward()
        (expected * upstream).sum().backward()
        assert_close(x.grad, _nodes(reference.grad), msg=say)
        seen.add(tuple(sorted((k, str(v)) for k, v in options.items() if k != "return_indices")))
    assert len(seen) >= 72  # option combinations (72 in torch 2.14), not one case many times
