"""A batch of a user's own gconv.convert.grid_graph graphs, made by PyG's DataLoader, is a pixel
grid for the grid models, exactly as images_to_graphs' batches are."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close
from torch_geometric.data import Batch, Data
from torch_geometric.loader import DataLoader

from gconv.convert import grid_graph, grid_shape_of, images_to_graphs
from gconv.models import get_model
from gconv.train import GraphTask, SegmentationTask, Trainer
from gconv.train.infer import infer_task


def _graphs(images: torch.Tensor, labels: torch.Tensor) -> list[Data]:
    graphs = []
    for image, label in zip(images, labels, strict=True):
        g = grid_graph(image.size(1), image.size(2))
        g.x = image.permute(1, 2, 0).reshape(-1, image.size(0))  # row-major pixels
        g.y = label.reshape(-1) if label.dim() else label.reshape(1)
        graphs.append(g)
    return graphs


def test_grid_shape_of_reads_grid_shape_or_grid_size() -> None:
    assert grid_shape_of(images_to_graphs(torch.rand(3, 1, 5, 4))) == (3, 5, 4)
    assert grid_shape_of(grid_graph(5, 4)) == (1, 5, 4)
    assert grid_shape_of(Batch.from_data_list([grid_graph(5, 4)] * 2)) == (2, 5, 4)
    assert grid_shape_of(Batch.from_data_list([grid_graph(5, 4), grid_graph(4, 5)])) is None
    plain = Data(edge_index=torch.tensor([[0], [1]]), num_nodes=2)
    assert grid_shape_of(plain) is None


def test_grid_gnn_on_a_dataloader_of_grid_graphs_is_grid_gnn_on_the_images() -> None:
    torch.manual_seed(0)
    images, labels = torch.randn(8, 2, 8, 8), torch.arange(8) % 3
    model = get_model(
        "grid_gnn", in_channels=2, num_classes=3, input_shape=(2, 8, 8), pool=True
    ).eval()
    batch = next(iter(DataLoader(_graphs(images, labels), batch_size=8)))
    assert grid_shape_of(batch) == (8, 8, 8)
    assert_close(model(batch), model(images_to_graphs(images, labels)))
    model.path = "message_passing"  # the message-passing path agrees as well
    assert_close(model(batch), model(images_to_graphs(images, labels)), atol=1e-5, rtol=1e-4)


def test_the_trainer_takes_grid_graphs_as_pixel_grids_and_says_what_is_missing() -> None:
    torch.manual_seed(0)
    graphs = _graphs(torch.randn(8, 1, 8, 8), torch.arange(8) % 2)
    task = infer_task(graphs)
    assert isinstance(task, GraphTask) and task.input_kind == "pixel_grid"
    model = get_model("grid_gnn", in_channels=1, num_classes=2, input_shape=(1, 8, 8), pool=True)
    history = Trainer(max_epochs=1, batch_size=4, progress=False).fit(model, graphs, graphs)
    assert len(history.history["val_accuracy"]) == 1
    model.eval()
    with_grid = model(next(iter(DataLoader(graphs, batch_size=8))))
    for g in graphs:  # no grid size: image graphs with pos, the same function on a grid
        del g.grid_size
    assert_close(model(next(iter(DataLoader(graphs, batch_size=8)))), with_grid)
    Trainer(max_epochs=1, batch_size=4, progress=False).fit(model, graphs, graphs)
    for g in graphs:
        del g.pos
    with pytest.raises(
        ValueError, match=r"grid_size \(gconv.convert.grid_graph\), or image graphs with pos"
    ):
        Trainer(max_epochs=1, progress=False).fit(model, graphs, graphs)


def test_grid_graphs_labelled_per_pixel_are_segmentation() -> None:
    masks = torch.randint(0, 3, (4, 6, 6))
    task = infer_task(_graphs(torch.randn(4, 1, 6, 6), masks))
    assert isinstance(task, SegmentationTask) and task.input_kind == "pixel_grid_dense"
