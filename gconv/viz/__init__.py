"""Seeing inside: feature maps, filters, training curves, confusion matrices, graphs,
segmentation masks."""

from gconv.viz.history import plot_history
from gconv.viz.maps import (
    conv_layers,
    feature_maps,
    plot_feature_maps,
    plot_filters,
    plot_image,
)
from gconv.viz.masks import plot_masks
from gconv.viz.plots import draw_graph, plot_confusion_matrix

__all__ = [
    "conv_layers",
    "draw_graph",
    "feature_maps",
    "plot_confusion_matrix",
    "plot_feature_maps",
    "plot_filters",
    "plot_history",
    "plot_image",
    "plot_masks",
]
