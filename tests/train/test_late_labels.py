"""Labels are checked before any batch runs: the test split's in ``evaluate`` (after
training, not as a raw IndexError mid-pass), and every graph's in a plain list of
graphs (not only the first batch's)."""

import pytest
import torch
from torch.utils.data import TensorDataset
from torch_geometric.data import Data

from gconv.models import build_model, get_model
from gconv.train import Trainer


def test_out_of_range_test_labels_are_gconvs_error_in_evaluate(digits) -> None:
    model = get_model("mlp", in_channels=1, num_classes=10, input_shape=(1, 8, 8))
    images, labels = digits.test.standardized(), digits.test.labels
    bad = TensorDataset(images, labels.clone().index_fill_(0, torch.tensor([len(labels) - 1]), 12))
    trainer = Trainer(max_epochs=1, progress=False)
    with pytest.raises(
        ValueError, match=r"Trainer.evaluate: test labels must be < num_classes = 10"
    ):
        trainer.evaluate(model, bad)


def test_a_bad_label_in_a_later_graph_of_a_list_is_caught_when_fit_starts(mutag) -> None:
    graphs = [Data(x=g.x, edge_index=g.edge_index, y=g.y.clone()) for g in mutag.dataset]
    graphs[-1].y[0] = 5  # MUTAG has 2 classes; the last graph is in the last batch
    model = build_model("gin", mutag)
    trainer = Trainer(max_epochs=1, batch_size=32, progress=False)
    with pytest.raises(ValueError, match=r"Trainer.fit: train labels must be < num_classes = 2"):
        trainer.fit(model, graphs)
