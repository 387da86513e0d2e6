r"""Convolution building blocks on dense ``[B, C, H, W]`` images.

``ConvNormAct`` is the conv -> norm -> activation unit every backbone repeats;
``PointwiseConv2d`` is the 1x1 convolution that mixes channels only;
``DepthwiseSeparableConv2d`` factors a k x k convolution into a per-channel (depthwise)
k x k filter and a 1x1 (pointwise) channel mix, as in Xception and MobileNet.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor, nn

from gconv._checks import check_feature_map, check_positive_int
from gconv.errors import GconvValueError

LayerFactory = Callable[..., nn.Module]


def same_padding(kernel_size: int, dilation: int = 1) -> int:
    """Padding that keeps the size of a stride-1 convolution with an odd kernel."""
    return (kernel_size - 1) // 2 * dilation


class ConvNormAct(nn.Sequential):
    r"""Convolution, normalization and activation in one module.

    .. math::
        y = \mathrm{act}(\mathrm{norm}(W \star x + b))

    The convolution carries no bias when a normalization follows it, since the norm's
    shift makes it redundant (as in ``torchvision.ops.Conv2dNormActivation``).

    Args:
        in_channels: channels of the input.
        out_channels: channels of the output.
        kernel_size: size of the square kernel.
        stride: stride of the convolution.
        padding: zero padding; ``None`` keeps the size at stride 1 (``(k - 1) // 2 * d``).
        groups: convolution groups (``in_channels`` gives a depthwise convolution).
        dilation: dilation of the kernel.
        bias: whether the convolution has a bias; ``None`` means "only without a norm".
        norm_layer: factory called with ``out_channels``, or ``None`` for no norm.
        act_layer: factory called with no argument, or ``None`` for no activation.

    Shapes:
        - input: :math:`(B, C_{in}, H, W)`
        - output: :math:`(B, C_{out}, H', W')` with :math:`H'` from :func:`conv_output_size`.

    Example:
        >>> block = ConvNormAct(3, 16, kernel_size=3, stride=2)
        >>> block(torch.randn(8, 3, 32, 32)).shape
        torch.Size([8, 16, 16, 16])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int | None = None,
        groups: int = 1,
        dilation: int = 1,
        bias: bool | None = None,
        norm_layer: LayerFactory | None = nn.BatchNorm2d,
        act_layer: LayerFactory | None = nn.ReLU,
    ) -> None:
        owner = type(self).__name__
        check_positive_int(owner, "in_channels", in_channels)
        check_positive_int(owner, "out_channels", out_channels)
        check_positive_int(owner, "kernel_size", kernel_size)
        for name, value in (("stride", stride), ("dilation", dilation), ("groups", groups)):
            check_positive_int(owner, name, value)
        if in_channels % groups or out_channels % groups:
            raise GconvValueError(
                f"{owner}: groups must divide in_channels and out_channels (got groups "
                f"{groups} for {in_channels} -> {out_channels})"
            )
        if padding is None:
            padding = same_padding(kernel_size, dilation)
        check_positive_int(owner, "padding", padding, minimum=0)
        if bias is None:
            bias = norm_layer is None
        layers: list[nn.Module] = [
            nn.Conv2d(
                in_channels,
                out_channels,
                kernel_size,
                stride=stride,
                padding=padding,
                dilation=dilation,
                groups=groups,
                bias=bias,
            )
        ]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if act_layer is not None:
            layers.append(act_layer())
        super().__init__(*layers)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        check_feature_map(type(self).__name__, x, self.in_channels)
        return super().forward(x)


class PointwiseConv2d(nn.Conv2d):
    r"""A 1x1 convolution: a linear map of channels applied at every pixel.

    .. math::
        y_{:, i, j} = W x_{:, i, j} + b, \quad W \in \mathbb{R}^{C_{out} \times C_{in}}

    Used to reduce or expand channels cheaply (Network in Network, Inception's 1x1
    reductions, the pointwise half of a depthwise-separable convolution).

    Args:
        in_channels: channels of the input.
        out_channels: channels of the output.
        stride: stride (a strided 1x1 convolution subsamples, as in ResNet shortcuts).
        bias: whether to learn an additive bias.

    Shapes:
        - input: :math:`(B, C_{in}, H, W)`
        - output: :math:`(B, C_{out}, H, W)` at stride 1.

    Example:
        >>> PointwiseConv2d(64, 16)(torch.randn(2, 64, 7, 7)).shape
        torch.Size([2, 16, 7, 7])
    """

    def __init__(
        self, in_channels: int, out_channels: int, stride: int = 1, bias: bool = True
    ) -> None:
        owner = type(self).__name__
        check_positive_int(owner, "in_channels", in_channels)
        check_positive_int(owner, "out_channels", out_channels)
        check_positive_int(owner, "stride", stride)
        super().__init__(in_channels, out_channels, kernel_size=1, stride=stride, bias=bias)

    def forward(self, x: Tensor) -> Tensor:
        check_feature_map(type(self).__name__, x, self.in_channels)
        return super().forward(x)


class DepthwiseSeparableConv2d(nn.Module):
    r"""Depthwise-separable convolution (Chollet, 2017; Howard et al., 2017).

    A depthwise k x k convolution filters each input channel on its own (``groups =
    C_in``), then a 1x1 pointwise convolution mixes channels:

    .. math::
        y = W_{pw} \, (W_{dw} \star_{\text{per channel}} x)

    Without bias it has :math:`k^2 C_{in} m + m C_{in} C_{out}` weights for depth
    multiplier :math:`m`, against :math:`k^2 C_{in} C_{out}` for a full convolution.

    Paper: `Xception <https://arxiv.org/abs/1610.02357>`_,
    `MobileNets <https://arxiv.org/abs/1704.04861>`_.

    Args:
        in_channels: channels of the input.
        out_channels: channels of the output.
        kernel_size: size of the depthwise kernel.
        stride: stride of the depthwise convolution.
        padding: zero padding; ``None`` keeps the size at stride 1.
        dilation: dilation of the depthwise kernel.
        depth_multiplier: depthwise filters per input channel (Keras' ``depth_multiplier``).
        bias: whether the pointwise convolution has a bias.
        norm_layer: optional norm after each of the two convolutions (MobileNet style).
        act_layer: optional activation after each norm.

    Shapes:
        - input: :math:`(B, C_{in}, H, W)`
        - output: :math:`(B, C_{out}, H', W')`

    Example:
        >>> conv = DepthwiseSeparableConv2d(32, 64)
        >>> conv(torch.randn(4, 32, 14, 14)).shape
        torch.Size([4, 64, 14, 14])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int | None = None,
        dilation: int = 1,
        depth_multiplier: int = 1,
        bias: bool = False,
        norm_layer: LayerFactory | None = None,
        act_layer: LayerFactory | None = None,
    ) -> None:
        super().__init__()
        owner = type(self).__name__
        check_positive_int(owner, "in_channels", in_channels)
        check_positive_int(owner, "out_channels", out_channels)
        check_positive_int(owner, "kernel_size", kernel_size)
        check_positive_int(owner, "depth_multiplier", depth_multiplier)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.depth_multiplier = depth_multiplier
        mid = in_channels * depth_multiplier
        self.depthwise = ConvNormAct(
            in_channels,
            mid,
            kernel_size,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=in_channels,
            bias=False,
            norm_layer=norm_layer,
            act_layer=act_layer if norm_layer is not None else None,
        )
        self.pointwise = ConvNormAct(
            mid, out_channels, 1, bias=bias, norm_layer=norm_layer, act_layer=act_layer
        )

    def forward(self, x: Tensor) -> Tensor:
        check_feature_map(type(self).__name__, x, self.in_channels)
        return self.pointwise(self.depthwise(x))
