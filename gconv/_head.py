"""The head of a classifier, timm's surface: an optional ``pre_logits`` block and a
linear ``head`` on ``num_features``, swapped by ``reset_classifier``. gconv's models
and the graph networks :func:`gconv.convert.cnn_to_gnn` makes of them share it."""

from __future__ import annotations

from torch import Tensor, nn

from gconv._checks import check_positive_int


class HeadSurface(nn.Module):
    """``forward_head``, ``set_head``, ``head_hidden_size`` and ``reset_classifier``
    over ``self.pre_logits`` and ``self.head``."""

    num_features: int
    head: nn.Linear
    pre_logits: nn.Module

    def forward_head(self, features: Tensor, pre_logits: bool = False) -> Tensor:
        x = self.pre_logits(features)
        return x if pre_logits else self.head(x)

    def set_head(self, num_features: int, num_classes: int, hidden: int | None = None) -> None:
        """A linear ``head`` on ``num_features``, or with ``hidden`` a two-layer MLP head:
        ``pre_logits`` (linear to ``hidden``, ReLU) and a linear ``head``."""
        if hidden:
            check_positive_int(type(self).__name__, "head_hidden", hidden)
            self.pre_logits = nn.Sequential(nn.Linear(num_features, hidden), nn.ReLU())
            self.head = nn.Linear(hidden, num_classes)
        else:
            self.pre_logits = nn.Identity()
            self.head = nn.Linear(num_features, num_classes)

    @property
    def head_hidden_size(self) -> int:
        """Width of what the head reads (``forward_head(..., pre_logits=True)``)."""
        return self.head.in_features

    def reset_classifier(self, num_classes: int) -> None:
        check_positive_int(type(self).__name__, "num_classes", num_classes)
        old = self.head
        self.head = nn.Linear(old.in_features, num_classes).to(old.weight.device, old.weight.dtype)
