r"""Output-size formulas of convolution, pooling and transposed convolution.

Each function takes a spatial size and the layer's hyper-parameters, either as ints (one
dimension) or as tuples (one entry per dimension, ints broadcast), and returns what
``nn.Conv2d``, ``nn.MaxPool2d`` and ``nn.ConvTranspose2d`` produce along those dimensions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import overload

from gconv.errors import GconvTypeError, GconvValueError

IntOrTuple = int | tuple[int, ...]


def _as_int(owner: str, name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise GconvTypeError(f"{owner}: {name} must be an int or a tuple of ints (got {value!r})")
    if value < minimum:
        raise GconvValueError(f"{owner}: {name} must be >= {minimum} (got {value})")
    return value


def _per_dim(owner: str, fn: Callable[..., int], args: dict[str, tuple[object, int]]) -> IntOrTuple:
    """Broadcasts tuple arguments and applies ``fn`` once per dimension."""
    lengths = {len(v) for v, _ in args.values() if isinstance(v, tuple)}
    if len(lengths) > 1:
        raise GconvValueError(f"{owner}: tuple arguments must have the same length (got {args})")
    if not lengths:
        return fn(**{k: _as_int(owner, k, v, lo) for k, (v, lo) in args.items()})
    (ndim,) = lengths
    out = []
    for d in range(ndim):
        dim_args = {k: v[d] if isinstance(v, tuple) else v for k, (v, _) in args.items()}
        out.append(fn(**{k: _as_int(owner, k, dim_args[k], lo) for k, (_, lo) in args.items()}))
    return tuple(out)


@overload
def conv_output_size(
    size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int: ...
@overload
def conv_output_size(
    size: IntOrTuple,
    kernel_size: IntOrTuple,
    stride: IntOrTuple = 1,
    padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
) -> IntOrTuple: ...
def conv_output_size(
    size: IntOrTuple,
    kernel_size: IntOrTuple,
    stride: IntOrTuple = 1,
    padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
) -> IntOrTuple:
    r"""Output size of a convolution, as ``nn.Conv1d/2d/3d`` compute it.

    .. math::
        O = \left\lfloor \frac{L + 2P - D(F - 1) - 1}{S} \right\rfloor + 1

    Args:
        size: input length :math:`L` (or one per dimension).
        kernel_size: kernel size :math:`F`.
        stride: stride :math:`S`.
        padding: zero padding :math:`P` on each side.
        dilation: dilation :math:`D`.

    Raises:
        ValueError: if a size is not positive or the dilated kernel is larger than the
            padded input, where ``nn.Conv2d`` would fail too.

    Example:
        >>> conv_output_size(28, kernel_size=5)
        24
        >>> conv_output_size((224, 224), kernel_size=7, stride=2, padding=3)
        (112, 112)
    """
    owner = "conv_output_size"

    def one(size: int, kernel_size: int, stride: int, padding: int, dilation: int) -> int:
        span = dilation * (kernel_size - 1) + 1
        if span > size + 2 * padding:
            raise GconvValueError(
                f"{owner}: kernel_size {kernel_size} (dilated span {span}) is larger than the "
                f"padded input {size} + 2*{padding} = {size + 2 * padding}"
            )
        return (size + 2 * padding - span) // stride + 1

    return _per_dim(
        owner,
        one,
        {
            "size": (size, 1),
            "kernel_size": (kernel_size, 1),
            "stride": (stride, 1),
            "padding": (padding, 0),
            "dilation": (dilation, 1),
        },
    )


@overload
def pool_output_size(
    size: int,
    kernel_size: int,
    stride: int | None = None,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> int: ...
@overload
def pool_output_size(
    size: IntOrTuple,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
) -> IntOrTuple: ...
def pool_output_size(
    size: IntOrTuple,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
) -> IntOrTuple:
    r"""Output size of max or average pooling, as ``nn.MaxPool2d`` computes it.

    .. math::
        O = \left\lfloor \frac{L + 2P - D(F - 1) - 1}{S} \right\rfloor + 1

    With ``ceil_mode=True`` the floor becomes a ceiling, except that the last window must
    start inside the input or its left padding (PyTorch drops it otherwise); a window
    larger than the padded input is then allowed as long as one output remains.

    Args:
        size: input length :math:`L` (or one per dimension).
        kernel_size: window size :math:`F`.
        stride: stride :math:`S`; defaults to ``kernel_size`` as in ``nn.MaxPool2d``.
        padding: implicit padding on each side, at most half the kernel size.
        dilation: dilation :math:`D` of the window.
        ceil_mode: round up instead of down.

    Example:
        >>> pool_output_size(28, kernel_size=2)
        14
        >>> pool_output_size(7, kernel_size=2, ceil_mode=True)
        4
    """
    owner = "pool_output_size"
    if not isinstance(ceil_mode, bool):
        raise GconvTypeError(f"{owner}: ceil_mode must be a bool (got {ceil_mode!r})")
    if stride is None:
        stride = kernel_size

    def one(size: int, kernel_size: int, stride: int, padding: int, dilation: int) -> int:
        if padding > kernel_size // 2:
            raise GconvValueError(
                f"{owner}: padding must be at most half the kernel size {kernel_size} "
                f"(got {padding})"
            )
        numerator = size + 2 * padding - dilation * (kernel_size - 1) - 1
        # floor division rounds towards -inf, as PyTorch's div_rtn does
        out = (numerator + (stride - 1 if ceil_mode else 0)) // stride + 1
        if ceil_mode and (out - 1) * stride >= size + padding:
            out -= 1
        if out < 1:
            raise GconvValueError(
                f"{owner}: kernel_size {kernel_size} (dilation {dilation}) is larger than the "
                f"padded input {size} + 2*{padding} = {size + 2 * padding}"
            )
        return out

    return _per_dim(
        owner,
        one,
        {
            "size": (size, 1),
            "kernel_size": (kernel_size, 1),
            "stride": (stride, 1),
            "padding": (padding, 0),
            "dilation": (dilation, 1),
        },
    )


@overload
def conv_transpose_output_size(
    size: int,
    kernel_size: int,
    stride: int = 1,
    padding: int = 0,
    output_padding: int = 0,
    dilation: int = 1,
) -> int: ...
@overload
def conv_transpose_output_size(
    size: IntOrTuple,
    kernel_size: IntOrTuple,
    stride: IntOrTuple = 1,
    padding: IntOrTuple = 0,
    output_padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
) -> IntOrTuple: ...
def conv_transpose_output_size(
    size: IntOrTuple,
    kernel_size: IntOrTuple,
    stride: IntOrTuple = 1,
    padding: IntOrTuple = 0,
    output_padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
) -> IntOrTuple:
    r"""Output size of a transposed convolution, as ``nn.ConvTranspose2d`` computes it.

    .. math::
        O = (L - 1) S - 2P + D(F - 1) + P_{out} + 1

    Args:
        size: input length :math:`L` (or one per dimension).
        kernel_size: kernel size :math:`F`.
        stride: stride :math:`S`.
        padding: padding :math:`P` removed from each side of the output.
        output_padding: extra size :math:`P_{out}` on one side, smaller than stride or
            dilation.
        dilation: dilation :math:`D`.

    Example:
        >>> conv_transpose_output_size(14, kernel_size=2, stride=2)
        28
    """
    owner = "conv_transpose_output_size"

    def one(
        size: int, kernel_size: int, stride: int, padding: int, output_padding: int, dilation: int
    ) -> int:
        if output_padding >= max(stride, dilation):
            raise GconvValueError(
                f"{owner}: output_padding must be smaller than stride or dilation "
                f"(got output_padding={output_padding}, stride={stride}, dilation={dilation})"
            )
        out = (size - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1
        if out < 1:
            raise GconvValueError(f"{owner}: the output size would be {out}, it must be positive")
        return out

    return _per_dim(
        owner,
        one,
        {
            "size": (size, 1),
            "kernel_size": (kernel_size, 1),
            "stride": (stride, 1),
            "padding": (padding, 0),
            "output_padding": (output_padding, 0),
            "dilation": (dilation, 1),
        },
    )
