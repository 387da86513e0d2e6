r"""Squeeze-and-excitation: channel attention from global context."""

from __future__ import annotations

from torch import Tensor, nn

from gconv._checks import check_feature_map, check_positive_int
from gconv.grid.conv import LayerFactory


class SqueezeExcite(nn.Module):
    r"""Squeeze-and-excitation block (Hu et al., 2018).

    Each channel is rescaled by a gate computed from the global average of all channels:

    .. math::
        s = \sigma\big(W_2 \, \delta(W_1 \, \mathrm{avgpool}(x) + b_1) + b_2\big), \quad
        y_{c} = s_c \, x_{c}

    with :math:`\delta` the ReLU and :math:`\sigma` the sigmoid. The parameters are named
    ``fc1`` and ``fc2`` (1x1 convolutions) as in ``torchvision.ops.SqueezeExcitation``, so
    that state dicts move between the two.

    Paper: `Squeeze-and-Excitation Networks <https://arxiv.org/abs/1709.01507>`_.

    Args:
        channels: channels of the input and output.
        squeeze_channels: width of the bottleneck; defaults to ``channels // reduction``.
        reduction: reduction ratio :math:`r` used when ``squeeze_channels`` is not given.
        act_layer: activation :math:`\delta` of the bottleneck.
        gate_layer: gate :math:`\sigma`.

    Shapes:
        - input: :math:`(B, C, H, W)`
        - output: :math:`(B, C, H, W)`

    Example:
        >>> SqueezeExcite(64)(torch.randn(2, 64, 8, 8)).shape
        torch.Size([2, 64, 8, 8])
    """

    def __init__(
        self,
        channels: int,
        squeeze_channels: int | None = None,
        *,
        reduction: int = 16,
        act_layer: LayerFactory = nn.ReLU,
        gate_layer: LayerFactory = nn.Sigmoid,
    ) -> None:
        super().__init__()
        owner = type(self).__name__
        check_positive_int(owner, "channels", channels)
        check_positive_int(owner, "reduction", reduction)
        if squeeze_channels is None:
            squeeze_channels = max(1, channels // reduction)
        check_positive_int(owner, "squeeze_channels", squeeze_channels)
        self.channels = channels
        self.squeeze_channels = squeeze_channels
        self.reduction = reduction
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, channels, 1)
        self.activation = act_layer()
        self.scale_activation = gate_layer()

    def forward(self, x: Tensor) -> Tensor:
        check_feature_map("SqueezeExcite", x, self.channels)
        scale = self.fc2(self.activation(self.fc1(self.avgpool(x))))
        return x * self.scale_activation(scale)

    def extra_repr(self) -> str:
        return f"{self.channels}, squeeze_channels={self.squeeze_channels}"
