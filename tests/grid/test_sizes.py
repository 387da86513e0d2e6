import itertools

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from gconv.grid import conv_output_size, conv_transpose_output_size, pool_output_size


def _torch_conv(size: int, k: int, s: int, p: int, d: int) -> int | None:
    try:
        conv = nn.Conv1d(1, 1, k, stride=s, padding=p, dilation=d)
        return conv(torch.zeros(1, 1, size)).shape[-1]
    except RuntimeError:
        return None


def _torch_pool(size: int, k: int, s: int, p: int, d: int, ceil: bool) -> int | None:
    try:
        pool = nn.MaxPool1d(k, stride=s, padding=p, dilation=d, ceil_mode=ceil)
        return pool(torch.zeros(1, 1, size)).shape[-1]
    except RuntimeError:
        return None


def _torch_transpose(size: int, k: int, s: int, p: int, op: int, d: int) -> int | None:
    try:
        conv = nn.ConvTranspose1d(1, 1, k, stride=s, padding=p, output_padding=op, dilation=d)
        return conv(torch.zeros(1, 1, size)).shape[-1]
    except RuntimeError:
        return None


GRID = list(itertools.product([1, 2, 5, 7, 28], [1, 2, 3, 5], [1, 2, 3], [0, 1, 2], [1, 2]))


@pytest.mark.parametrize(("size", "k", "s", "p", "d"), GRID)
def test_conv_output_size_equals_conv1d(size: int, k: int, s: int, p: int, d: int) -> None:
    expected = _torch_conv(size, k, s, p, d)
    if expected is None:
        with pytest.raises(ValueError, match="conv_output_size"):
            conv_output_size(size, k, s, p, d)
    else:
        assert conv_output_size(size, k, s, p, d) == expected


@pytest.mark.parametrize("ceil", [False, True])
@pytest.mark.parametrize(("size", "k", "s", "p", "d"), GRID)
def test_pool_output_size_equals_maxpool(
    size: int, k: int, s: int, p: int, d: int, ceil: bool
) -> None:
    expected = _torch_pool(size, k, s, p, d, ceil)
    if expected is None:
        with pytest.raises(ValueError, match="pool_output_size"):
            pool_output_size(size, k, s, p, d, ceil_mode=ceil)
    else:
        assert pool_output_size(size, k, s, p, d, ceil_mode=ceil) == expected


@pytest.mark.parametrize("op", [0, 1, 2])
@pytest.mark.parametrize(("size", "k", "s", "p", "d"), GRID)
def test_conv_transpose_output_size_equals_conv_transpose(
    size: int, k: int, s: int, p: int, d: int, op: int
) -> None:
    expected = _torch_transpose(size, k, s, p, op, d)
    if expected is None:
        with pytest.raises(ValueError, match="conv_transpose_output_size"):
            conv_transpose_output_size(size, k, s, p, op, d)
    else:
        assert conv_transpose_output_size(size, k, s, p, op, d) == expected


@settings(max_examples=60, deadline=None)
@given(
    h=st.integers(1, 40),
    w=st.integers(1, 40),
    k=st.integers(1, 7),
    s=st.integers(1, 4),
    p=st.integers(0, 3),
)
def test_conv2d_shape_property(h: int, w: int, k: int, s: int, p: int) -> None:
    conv = nn.Conv2d(1, 1, k, stride=s, padding=p)
    try:
        expected = tuple(conv(torch.zeros(1, 1, h, w)).shape[-2:])
    except RuntimeError:
        with pytest.raises(ValueError):
            conv_output_size((h, w), k, s, p)
        return
    assert conv_output_size((h, w), k, s, p) == expected


def test_tuple_arguments_broadcast_per_dimension() -> None:
    conv = nn.Conv2d(1, 1, (3, 5), stride=(1, 2), padding=(1, 0))
    expected = tuple(conv(torch.zeros(1, 1, 32, 32)).shape[-2:])
    assert conv_output_size((32, 32), (3, 5), (1, 2), (1, 0)) == expected
    assert conv_output_size(32, (3, 5)) == (30, 28)
    assert pool_output_size(28, 2) == 14  # stride defaults to kernel_size


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: conv_output_size(0, 3), "size must be >= 1"),
        (lambda: conv_output_size(28, 0), "kernel_size must be >= 1"),
        (lambda: conv_output_size(28, 3, stride=0), "stride must be >= 1"),
        (lambda: conv_output_size(28, 3, padding=-1), "padding must be >= 0"),
        (lambda: conv_output_size(4, 7), "larger than the padded input"),
        (lambda: conv_output_size((4, 4), (3, 3, 3)), "same length"),
        (lambda: pool_output_size(28, 2, padding=2), "at most half"),
        (lambda: pool_output_size(2, 5), "larger than the padded input"),
        (lambda: conv_transpose_output_size(3, 3, stride=2, output_padding=2), "smaller than"),
        (lambda: conv_transpose_output_size(1, 1, padding=1), "must be positive"),
    ],
)
def test_bad_sizes_raise_value_error(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_non_int_raises_type_error() -> None:
    with pytest.raises(TypeError, match="conv_output_size: size must be an int"):
        conv_output_size(28.0, 3)  # type: ignore[arg-type]
