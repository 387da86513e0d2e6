"""Transfer learning with torchvision backbones behind gconv's model surface."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from gconv._checks import check_choice, check_positive_int
from gconv.errors import GconvFileNotFoundError, GconvValueError
from gconv.models._base import Classifier

MODES = ("finetune", "feature_extract")
_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)


def freeze(module: nn.Module, *, train_bn: bool = False) -> nn.Module:
    """Stops gradients to ``module``'s parameters.

    With ``train_bn=False`` its batch-norm layers are frozen too and stay in eval mode
    (their running statistics fixed) under a :class:`TorchvisionClassifier`.
    """
    for sub in module.modules():
        is_norm = isinstance(sub, _NORMS)
        for param in sub.parameters(recurse=False):
            param.requires_grad_(is_norm and train_bn)
    return module


def unfreeze(module: nn.Module) -> nn.Module:
    """Lets gradients reach every parameter of ``module`` again."""
    for param in module.parameters():
        param.requires_grad_(True)
    return module


def _last_linear(model: nn.Module) -> tuple[str, nn.Linear]:
    found = [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not found:
        raise GconvValueError(f"from_torchvision: {type(model).__name__} has no linear classifier")
    return found[-1]


def _set_submodule(model: nn.Module, name: str, new: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, new)


class TorchvisionClassifier(Classifier):
    """A torchvision classifier whose last linear layer became gconv's ``head``.

    ``forward_features`` runs the backbone up to (not including) that layer, so
    ``num_features`` is its input width: 512 for ResNet-18, 4096 for VGG-16.

    In ``feature_extract`` mode the backbone is frozen and its batch-norm layers stay in
    eval mode even after ``model.train()``, so their statistics never drift.

    Shapes:
        - input: :math:`(B, 3, H, W)`, as the backbone takes
        - output: :math:`(B, \\text{num\\_classes})`

    Example:
        >>> import torchvision
        >>> model = TorchvisionClassifier(torchvision.models.resnet18(), 10)
        >>> model(torch.randn(2, 3, 64, 64)).shape
        torch.Size([2, 10])
    """

    def __init__(
        self, backbone: nn.Module, num_classes: int, mode: str = "finetune", train_bn: bool = False
    ) -> None:
        super().__init__()
        check_choice("from_torchvision", "mode", mode, MODES)
        check_positive_int("from_torchvision", "num_classes", num_classes)
        name, linear = _last_linear(backbone)
        _set_submodule(backbone, name, nn.Identity())
        self.backbone = backbone
        self.classifier_name = name
        self.num_features = linear.in_features
        self.head = nn.Linear(linear.in_features, num_classes)
        self.mode, self.train_bn = mode, train_bn
        if mode == "feature_extract":
            freeze(self.backbone, train_bn=train_bn)

    def forward_features(self, data: Any) -> Tensor:
        if not isinstance(data, Tensor) or data.dim() != 4:
            got = tuple(data.shape) if isinstance(data, Tensor) else type(data).__name__
            raise GconvValueError(f"TorchvisionClassifier: input must be [B, C, H, W] (got {got})")
        return self.backbone(data)

    def train(self, mode: bool = True) -> TorchvisionClassifier:
        super().train(mode)
        if self.mode == "feature_extract" and not self.train_bn:
            for sub in self.backbone.modules():
                if isinstance(sub, _NORMS):
                    sub.eval()
        return self


def _load_state(path: Path) -> dict[str, Tensor]:
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "model" in state and isinstance(state["model"], dict):
        state = state["model"]  # a gconv checkpoint
    if not isinstance(state, dict):
        raise GconvValueError(f"from_torchvision: {path} does not hold a state dict")
    return state


def from_torchvision(
    name: str,
    *,
    num_classes: int,
    weights: str | os.PathLike[str] | None = None,
    mode: str = "finetune",
    train_bn: bool = False,
) -> TorchvisionClassifier:
    """Wraps a torchvision classifier with a new head and gconv's model surface.

    Args:
        name: a torchvision model name (``resnet18``, ``resnet50``, ``vgg16``,
            ``mobilenet_v3_small``, ...).
        num_classes: classes of the new head.
        weights: ``None`` (random), a torchvision weights name (``"DEFAULT"``,
            ``"IMAGENET1K_V1"``; downloaded when online), or a path to a local state dict
            of the torchvision model, or of a model this function built (also a gconv
            checkpoint), so that it works offline.
        mode: ``"finetune"`` (train everything) or ``"feature_extract"`` (only the head).
        train_bn: in ``feature_extract`` mode, keep batch norm trainable and updating.

    Example:
        >>> model = from_torchvision("resnet18", num_classes=10, mode="feature_extract")
        >>> model.num_features
        512
    """
    import torchvision

    check_choice("from_torchvision", "mode", mode, MODES)
    if name not in torchvision.models.list_models():
        raise GconvValueError(f"from_torchvision: {name!r} is not a torchvision model")
    path = Path(weights) if weights is not None else None
    if path is not None and (path.exists() or path.suffix in (".pt", ".pth")):
        if not path.is_file():
            raise GconvFileNotFoundError(f"from_torchvision: no weights file at {path}")
        state = _load_state(path)
        backbone = torchvision.models.get_model(name, weights=None)
        if any(k.startswith("backbone.") for k in state):  # saved from a wrapped model
            model = TorchvisionClassifier(backbone, num_classes, "finetune", train_bn)
            model.load_state_dict(state)
        else:  # the torchvision model's own state dict; its classifier gets replaced
            classifier, _ = _last_linear(backbone)
            head = {f"{classifier}.weight", f"{classifier}.bias"}
            body = {k: v for k, v in state.items() if k not in head}
            missing, unexpected = backbone.load_state_dict(body, strict=False)
            if unexpected or set(missing) - head:
                raise GconvValueError(
                    f"from_torchvision: {path} is not a state dict of torchvision's {name} "
                    f"(missing {sorted(set(missing) - head)[:3]}, unexpected {unexpected[:3]})"
                )
            model = TorchvisionClassifier(backbone, num_classes, "finetune", train_bn)
    else:
        backbone = torchvision.models.get_model(name, weights=str(weights) if weights else None)
        model = TorchvisionClassifier(backbone, num_classes, "finetune", train_bn)
    if mode == "feature_extract":
        model.mode = mode
        freeze(model.backbone, train_bn=train_bn)
    return model
