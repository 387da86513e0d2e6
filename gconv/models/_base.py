"""The surface every gconv classifier shares, which makes transfer learning generic."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from torch import Tensor, nn

from gconv._checks import check_positive_int


class Classifier(nn.Module, ABC):
    """A feature extractor and a linear ``head``.

    ``forward_features`` maps the input to one ``num_features`` vector per example (per
    node for node-level graph models), ``forward_head`` applies the head, and
    ``reset_classifier(num_classes)`` swaps the head for a fresh one.
    """

    num_features: int
    head: nn.Module

    @abstractmethod
    def forward_features(self, data: Any) -> Tensor:
        """One feature vector per example (or per node), before the head."""

    def forward_head(self, features: Tensor) -> Tensor:
        return self.head(features)

    def forward(self, data: Any) -> Tensor:
        return self.forward_head(self.forward_features(data))

    def reset_classifier(self, num_classes: int) -> None:
        check_positive_int(type(self).__name__, "num_classes", num_classes)
        old = self.head
        self.head = nn.Linear(self.num_features, num_classes)
        if isinstance(old, nn.Linear):
            self.head = self.head.to(old.weight.device)
