"""The surface every gconv model shares (timm's), which makes transfer learning generic."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from torch import Tensor, nn

from gconv._checks import check_dtype
from gconv._head import HeadSurface
from gconv.models._inputs import image_input


class Classifier(HeadSurface, ABC):
    """A feature extractor, an optional ``pre_logits`` block and a linear ``head``.

    The surface of timm's models, for image and graph models alike:

    - ``forward_features(x)``: one ``num_features`` vector per example (per node for
      node-level graph models);
    - ``forward_head(features, pre_logits=False)``: ``head(pre_logits(features))``, or
      only ``pre_logits(features)`` (``head_hidden_size`` wide) with ``pre_logits=True``;
    - ``forward(x) == forward_head(forward_features(x))``, always: no subclass overrides
      ``forward``;
    - ``reset_classifier(num_classes)`` swaps ``head`` for a fresh linear layer.

    ``input_kind`` says what ``forward`` takes: ``"images"``, ``"pixel_grid"``,
    ``"nodes"`` or ``"graphs"`` (see :func:`gconv.models.fits`).

    Shapes:
        - input: what the subclass takes (an image batch, or a PyG ``Data``/``Batch``)
        - ``forward_features``: :math:`(B, F)` (or :math:`(N, F)` per node), ``F = num_features``
        - output: :math:`(B, \\text{classes})`

    Example:
        >>> from gconv.models import get_model
        >>> model = get_model("lenet5")
        >>> features = model.forward_features(torch.randn(2, 1, 28, 28))
        >>> features.shape, model.forward_head(features).shape
        (torch.Size([2, 84]), torch.Size([2, 10]))
    """

    input_kind: str = "images"
    num_features: int
    head: nn.Linear
    in_channels: int | None = None  # image models check their input against these two
    min_input_size: int = 1  # the smallest side the network maps to at least one pixel

    def __init__(self) -> None:
        super().__init__()
        self.pre_logits: nn.Module = nn.Identity()

    @abstractmethod
    def forward_features(self, data: Any) -> Tensor:
        """One feature vector per example (or per node), before the head."""

    def images(self, data: Any) -> Tensor:
        """``data`` checked to be images this model takes (see ``image_input``)."""
        x = image_input(
            type(self).__name__, data, channels=self.in_channels, min_size=self.min_input_size
        )
        weight = next(self.parameters(), None)
        if isinstance(x, Tensor) and weight is not None:
            check_dtype(type(self).__name__, x, weight)
        return x

    def forward(self, data: Any) -> Tensor:
        return self.forward_head(self.forward_features(data))


class DenseClassifier(Classifier):
    """A classifier of every pixel: ``forward_features`` gives a ``[B, num_features, H,
    W]`` map and the head (``pre_logits`` and a linear ``head``, a 1x1 convolution) is
    applied at each pixel, so ``forward`` gives ``[B, num_classes, H, W]``.

    The surface is :class:`Classifier`'s (``forward_head``, ``reset_classifier``,
    ``head_hidden_size``): transfer to new classes swaps the per-pixel head.

    Shapes:
        - input: :math:`(B, C, H, W)` images (or the pixel grid graphs the subclass takes)
        - ``forward_features``: :math:`(B, F, H, W)`
        - output: :math:`(B, \\text{classes}, H, W)`, a prediction per pixel

    Example:
        >>> from gconv.models import get_model
        >>> model = get_model("fcn", in_channels=1, num_classes=11)
        >>> model.forward_features(torch.randn(2, 1, 32, 32)).shape
        torch.Size([2, 32, 32, 32])
        >>> model.reset_classifier(3)
        >>> model(torch.randn(2, 1, 32, 32)).shape
        torch.Size([2, 3, 32, 32])
    """

    input_kind = "images_dense"

    def forward_head(self, features: Tensor, pre_logits: bool = False) -> Tensor:
        x = self.pre_logits(features.movedim(1, -1))  # channels last: linear per pixel
        return (x if pre_logits else self.head(x)).movedim(-1, 1)
