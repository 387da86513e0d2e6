import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

from gconv.grid import FILTER_KINDS, gaussian_kernel, make_kernel
from gconv.nn import FixedFilter2d


@pytest.mark.parametrize(("k", "sigma"), [(3, 0.5), (5, 1.0), (7, 2.0), (1, 1.0)])
def test_gaussian_sums_to_one_and_is_symmetric(k: int, sigma: float) -> None:
    kernel = gaussian_kernel(k, sigma, dtype=torch.float64)
    assert_close(kernel.sum(), torch.tensor(1.0, dtype=torch.float64))
    assert_close(kernel, kernel.t())
    assert_close(kernel, kernel.flip(0))
    assert kernel.argmax() == (k * k) // 2  # peak at the centre


def test_gaussian_matches_separable_formula() -> None:
    g = torch.exp(-(torch.tensor([-1.0, 0.0, 1.0]) ** 2) / 2)
    assert_close(gaussian_kernel(3, 1.0), torch.outer(g, g) / torch.outer(g, g).sum())


def test_box_is_the_mean() -> None:
    image = torch.rand(1, 1, 9, 9)
    out = FixedFilter2d("box", kernel_size=3)(image)
    assert_close(out[0, 0, 4, 4], image[0, 0, 3:6, 3:6].mean())


def test_laplacian_of_constant_is_zero_inside() -> None:
    out = FixedFilter2d("laplacian", channels=2)(torch.full((1, 2, 8, 8), 3.0))
    assert_close(out[..., 1:-1, 1:-1], torch.zeros(1, 2, 6, 6))
    assert out[0, 0, 0, 0] != 0  # zero padding: the border sees the edge


def test_laplacian_of_quadratic_is_constant() -> None:
    r = torch.arange(10.0).view(-1, 1)
    c = torch.arange(10.0).view(1, -1)
    image = (r**2 + c**2).expand(1, 1, 10, 10)
    out = FixedFilter2d("laplacian")(image)
    assert_close(out[..., 1:-1, 1:-1], torch.full((1, 1, 8, 8), 4.0))


@pytest.mark.parametrize(("kind", "axis"), [("sobel_x", 1), ("sobel_y", 0)])
def test_sobel_of_ramp_is_constant(kind: str, axis: int) -> None:
    ramp = torch.arange(12.0).view(1, 12) if axis == 1 else torch.arange(12.0).view(12, 1)
    image = (2.5 * ramp).expand(12, 12).reshape(1, 1, 12, 12)
    out = FixedFilter2d(kind)(image)
    assert_close(out[..., 1:-1, 1:-1], torch.full((1, 1, 10, 10), 8 * 2.5))
    other = "sobel_y" if kind == "sobel_x" else "sobel_x"
    assert_close(FixedFilter2d(other)(image)[..., 1:-1, 1:-1], torch.zeros(1, 1, 10, 10))


@pytest.mark.parametrize("kind", FILTER_KINDS)
def test_filter_is_per_channel_and_fixed(kind: str) -> None:
    layer = FixedFilter2d(kind, channels=3)
    x = torch.randn(2, 3, 10, 10)
    kernel = make_kernel(kind).view(1, 1, 3, 3)
    for c in range(3):
        assert_close(layer(x)[:, c : c + 1], F.conv2d(x[:, c : c + 1], kernel, padding=1))
    assert list(layer.parameters()) == []
    assert "weight" in layer.state_dict()


@pytest.mark.parametrize("mode", ["reflect", "replicate"])
def test_padding_modes_keep_constants_constant(mode: str) -> None:
    out = FixedFilter2d("gaussian", kernel_size=5, padding_mode=mode)(torch.ones(1, 1, 6, 6))
    assert_close(out, torch.ones(1, 1, 6, 6))


def test_float64_input() -> None:
    out = FixedFilter2d("box")(torch.ones(1, 1, 4, 4, dtype=torch.float64))
    assert out.dtype == torch.float64


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (lambda: FixedFilter2d("sharpen"), ValueError, "FixedFilter2d: kind must be one of"),
        (lambda: FixedFilter2d("box", kernel_size=4), ValueError, "kernel_size must be odd"),
        (lambda: FixedFilter2d("laplacian", kernel_size=5), ValueError, "kernel_size 3"),
        (lambda: gaussian_kernel(3, sigma=0), ValueError, "sigma must be a positive"),
        (lambda: FixedFilter2d("box", padding_mode="circle"), ValueError, "padding_mode"),
        (lambda: FixedFilter2d("box", channels=2)(torch.ones(1, 3, 4, 4)), ValueError, "input"),
    ],
)
def test_bad_filter_arguments(build, error, message: str) -> None:
    with pytest.raises(error, match=message):
        build()
