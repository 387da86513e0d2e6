"""The model zoo: ``get_model``, ``build_model``, ``fits``, ``list_models``, ``@register_model``.

Every model is built by name (``get_model("resnet18", num_classes=10)``); the builders
are registry entries, not exported. Exported: the registry's functions and the model
classes a user builds or subclasses.
"""

from gconv.models import (  # noqa: F401  (each module registers its models)
    classic,
    classic_cnn,
    deep_gnn,
    fcn,
    gnn,
    graph_net,
    grid,
    grid_fcn,
    resnet,
    separable,
)
from gconv.models._base import Classifier
from gconv.models._registry import (
    build_model,
    fits,
    get_model,
    list_models,
    model_entry,
    register_model,
)
from gconv.models.classic import LeNet5
from gconv.models.classic_cnn import VGG, AlexNet, Inception
from gconv.models.deep_gnn import DeepGNN
from gconv.models.fcn import FCN
from gconv.models.gnn import GCN, GIN
from gconv.models.graph_net import GraphNet
from gconv.models.grid import GridCNN
from gconv.models.resnet import ResNet
from gconv.models.separable import MobileNet, Xception
from gconv.models.summary import summary
from gconv.models.transfer import TorchvisionClassifier, freeze, from_torchvision, unfreeze

__all__ = [
    "FCN",
    "GCN",
    "GIN",
    "VGG",
    "AlexNet",
    "Classifier",
    "DeepGNN",
    "GraphNet",
    "GridCNN",
    "Inception",
    "LeNet5",
    "MobileNet",
    "ResNet",
    "TorchvisionClassifier",
    "Xception",
    "build_model",
    "fits",
    "freeze",
    "from_torchvision",
    "get_model",
    "list_models",
    "model_entry",
    "register_model",
    "summary",
    "unfreeze",
]
