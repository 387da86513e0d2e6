"""All gconv layers in one namespace: ``from gconv.nn import GCNLayer, GridConv2d``."""

from gconv.graph.gat import GATLayer
from gconv.graph.gated_gcn import GatedGCNLayer
from gconv.graph.gcn import GCNLayer
from gconv.graph.grid_conv import GridConv2d
from gconv.graph.grid_conv_transpose import GridConvTranspose2d
from gconv.graph.grid_pool import GridMaxPool2d
from gconv.graph.readout import Readout
from gconv.grid.conv import ConvNormAct, DepthwiseSeparableConv2d, PointwiseConv2d
from gconv.grid.filters import FixedFilter2d
from gconv.grid.inception import InceptionBlock
from gconv.grid.residual import BasicBlock, Bottleneck
from gconv.grid.squeeze_excite import SqueezeExcite

__all__ = [
    "BasicBlock",
    "Bottleneck",
    "ConvNormAct",
    "DepthwiseSeparableConv2d",
    "FixedFilter2d",
    "GATLayer",
    "GCNLayer",
    "GatedGCNLayer",
    "GridConv2d",
    "GridConvTranspose2d",
    "GridMaxPool2d",
    "InceptionBlock",
    "PointwiseConv2d",
    "Readout",
    "SqueezeExcite",
]
