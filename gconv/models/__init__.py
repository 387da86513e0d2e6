"""The model zoo: ``get_model``, ``build_model``, ``fits``, ``list_models``, ``@register_model``."""

from gconv.models._base import Classifier, DenseClassifier
from gconv.models._registry import (
    INPUT_KINDS,
    Fit,
    ModelEntry,
    build_model,
    fits,
    get_model,
    list_models,
    model_entry,
    register_model,
)
from gconv.models.classic import MLP, LeNet5, lenet5, mlp
from gconv.models.classic_cnn import VGG, AlexNet, Inception, alexnet, inception, vgg11, vgg16
from gconv.models.deep_gnn import DeepGNN, gated_gcn
from gconv.models.fcn import FCN, ConvEncoder, ResNetEncoder, fcn, fcn_resnet18
from gconv.models.gnn import GCN, GIN, gcn, gin
from gconv.models.graph_net import GraphNet, gat, sage
from gconv.models.grid import GridCNN, grid_cnn, grid_gnn
from gconv.models.grid_fcn import grid_fcn
from gconv.models.resnet import ResNet, resnet18, resnet34, resnet50, se_resnet18
from gconv.models.separable import MobileNet, Xception, mobilenet, xception
from gconv.models.summary import ModelSummary, summary
from gconv.models.transfer import TorchvisionClassifier, freeze, from_torchvision, unfreeze

__all__ = [
    "FCN",
    "GCN",
    "GIN",
    "INPUT_KINDS",
    "MLP",
    "VGG",
    "AlexNet",
    "Classifier",
    "ConvEncoder",
    "DeepGNN",
    "DenseClassifier",
    "Fit",
    "GraphNet",
    "GridCNN",
    "Inception",
    "LeNet5",
    "MobileNet",
    "ModelEntry",
    "ModelSummary",
    "ResNet",
    "ResNetEncoder",
    "TorchvisionClassifier",
    "Xception",
    "alexnet",
    "build_model",
    "fcn",
    "fcn_resnet18",
    "fits",
    "freeze",
    "from_torchvision",
    "gat",
    "gated_gcn",
    "gcn",
    "get_model",
    "gin",
    "grid_cnn",
    "grid_fcn",
    "grid_gnn",
    "inception",
    "lenet5",
    "list_models",
    "mlp",
    "mobilenet",
    "model_entry",
    "register_model",
    "resnet18",
    "resnet34",
    "resnet50",
    "sage",
    "se_resnet18",
    "summary",
    "unfreeze",
    "vgg11",
    "vgg16",
    "xception",
]
