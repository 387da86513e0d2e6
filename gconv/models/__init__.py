"""The model zoo: ``get_model(name, **kwargs)``, ``list_models()``, ``@register_model``."""

from gconv.models._base import Classifier
from gconv.models._registry import get_model, list_models, model_entry, register_model
from gconv.models.classic import MLP, LeNet5, lenet5, mlp
from gconv.models.gnn import GCN, GIN, gcn, gin
from gconv.models.grid import GridCNN, GridGNN, grid_cnn, grid_gnn

__all__ = [
    "GCN",
    "GIN",
    "MLP",
    "Classifier",
    "GridCNN",
    "GridGNN",
    "LeNet5",
    "gcn",
    "get_model",
    "gin",
    "grid_cnn",
    "grid_gnn",
    "lenet5",
    "list_models",
    "mlp",
    "model_entry",
    "register_model",
]
