"""``fcn`` as message passing on pixel grids: :func:`gconv.convert.cnn_to_gnn` of
``fcn``, the same network and state dict.

Each resolution of the encoder is a batch of pixel grid graphs; a max pool is
:class:`gconv.nn.GridMaxPool2d` over the fine-to-coarse graph, a 1x1 score is
:class:`gconv.nn.GridConv2d` over each pixel's self loop, and upsampling is
:class:`gconv.nn.GridConvTranspose2d` over the coarse-to-fine graph onto the skip's
grid. With ``layer`` (e.g. :class:`gconv.nn.GCNLayer` or
:class:`gconv.nn.GatedGCNLayer`) in place of each 3x3 convolution it is the same U-Net
on the grid with that operator: the same pools, scores and transposed graphs back.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from gconv.convert import GraphNetwork, cnn_to_gnn
from gconv.models._registry import register_model
from gconv.models.fcn import fcn


@register_model(inputs=("pixel_grid_dense",))
def grid_fcn(
    in_channels: int,
    num_classes: int,
    *,
    hidden_channels: tuple[int, ...] = (16, 32, 64),
    decoder_channels: int = 32,
    convs_per_stage: int = 2,
    layer: Callable[[int, int], nn.Module] | None = None,
    input_shape: tuple[int, int, int] | None = None,
) -> GraphNetwork:
    """``fcn`` as message passing on pixel grid graphs; loads ``fcn``'s state dict."""
    cnn = fcn(
        in_channels,
        num_classes,
        hidden_channels=hidden_channels,
        decoder_channels=decoder_channels,
        convs_per_stage=convs_per_stage,
        input_shape=input_shape,
    )
    return cnn_to_gnn(cnn, layer=layer)
