from pathlib import Path

import pytest
import torch
from PIL import Image

from gconv.convert import grid_graph
from gconv.models import get_model
from gconv.viz import (
    conv_layers,
    draw_graph,
    feature_maps,
    plot_confusion_matrix,
    plot_feature_maps,
    plot_filters,
    plot_history,
)


def _png_size(path: Path) -> tuple[int, int]:
    assert path.read_bytes()[:4] == b"\x89PNG"
    with Image.open(path) as image:
        return image.size


def test_feature_maps_shapes_and_files(tmp_path: Path) -> None:
    model = get_model("lenet5")
    layers = conv_layers(model)
    assert layers == ["conv.0", "conv.3"]
    maps = feature_maps(model, torch.randn(1, 28, 28), layers)
    assert maps["conv.0"].shape == (6, 28, 28) and maps["conv.3"].shape == (16, 10, 10)
    figures = plot_feature_maps(maps, tmp_path, max_channels=9)
    assert len(figures) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["conv.0.png", "conv.3.png"]
    assert figures[0].axes and len([a for a in figures[0].axes if a.images]) == 6
    assert len([a for a in figures[1].axes if a.images]) == 9
    assert min(_png_size(tmp_path / "conv.0.png")) > 100


def test_feature_maps_equal_a_forward_hook() -> None:
    model = get_model("resnet18", in_channels=1, num_classes=10, input_shape=(1, 28, 28)).eval()
    image = torch.randn(1, 28, 28)
    maps = feature_maps(model, image, ["layer2"])
    seen = {}
    model.layer2.register_forward_hook(lambda m, i, o: seen.setdefault("out", o))
    model(image.unsqueeze(0))
    torch.testing.assert_close(maps["layer2"], seen["out"][0])


def test_feature_maps_bad_layer() -> None:
    with pytest.raises(ValueError, match="layers must name modules"):
        feature_maps(get_model("lenet5"), torch.randn(1, 28, 28), ["nope"])


def test_plot_filters(tmp_path: Path) -> None:
    fig = plot_filters(get_model("lenet5"), tmp_path / "filters.png")
    assert len([a for a in fig.axes if a.images]) == 6  # 6 kernels, 1 input channel
    assert (tmp_path / "filters.png").exists()
    with pytest.raises(ValueError, match=r"no nn\.Conv2d"):
        plot_filters(get_model("mlp", in_channels=4, num_classes=2))


def test_plot_history_and_confusion_matrix(tmp_path: Path) -> None:
    history = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.5, 0.8]}
    fig = plot_history(history, tmp_path / "curves.png")
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 2 and len(fig.axes[1].lines) == 1
    fig = plot_confusion_matrix([0, 1, 2, 2], [0, 2, 2, 2], tmp_path / "cm.png")
    assert fig.axes[0].images[0].get_array().sum() == 4
    assert (tmp_path / "curves.png").exists() and (tmp_path / "cm.png").exists()


def test_draw_graph_grid_and_molecule(tmp_path: Path, mutag) -> None:
    fig = draw_graph(grid_graph(3, 3), tmp_path / "grid.png")
    assert "9 nodes, 20 edges" in fig.axes[0].get_title()  # 8-neighbour grid, no self-loops
    molecule = mutag.dataset[0]
    fig = draw_graph(molecule, tmp_path / "molecule.png")
    assert f"{molecule.num_nodes} nodes" in fig.axes[0].get_title()
    assert (tmp_path / "molecule.png").stat().st_size > 1000


def test_plots_leave_the_matplotlib_backend_and_pyplot_alone(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = f"""
import sys, matplotlib
matplotlib.use("svg")  # the user's choice, which gconv must keep
from gconv.viz import plot_history
from gconv.train import History
h = History()
h.append(0, {{"loss": 1.0, "accuracy": 0.5}})
plot_history(h, {str(tmp_path / "h.png")!r})
assert matplotlib.get_backend() == "svg", matplotlib.get_backend()
assert "matplotlib.pyplot" not in sys.modules
"""
    subprocess.run([sys.executable, "-c", code], check=True)
    assert _png_size(tmp_path / "h.png")[0] > 0


def test_plot_masks_draws_image_truth_and_prediction(tmp_path) -> None:
    from gconv.viz import plot_masks

    images = torch.rand(2, 1, 8, 8)
    masks = torch.randint(0, 3, (2, 8, 8))
    masks[0, 0] = 255  # ignored: drawn grey, not an error
    fig = plot_masks(images, masks, masks.clamp(max=2), 3, tmp_path / "m.png", titles=["a", "b"])
    assert len(fig.axes) == 6 and (tmp_path / "m.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="plot_masks: images must be"):
        plot_masks(images, masks, masks[:1], 3)
