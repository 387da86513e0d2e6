"""Every registered model, on every kind of input it takes: the one model surface
(``forward == forward_head(forward_features)``), shapes on each input size, gradients, a
new head, one step."""

import pytest
import torch
import torch.nn.functional as F
from torch.utils._python_dispatch import TorchDispatchMode
from torch_geometric.data import Batch, Data

from gconv.convert import images_to_graphs
from gconv.models import build_model, fits, list_models, model_entry

IMAGE_SHAPES = [(1, 28, 28), (3, 32, 32), (3, 224, 224)]
HEAVY = {"vgg16", "xception", "resnet50", "resnet34", "inception"}


def _graph_batch(in_channels: int = 5) -> Batch:
    graphs = []
    for n in (6, 9):
        edge_index = torch.randint(0, n, (2, 3 * n))
        graphs.append(Data(x=torch.randn(n, in_channels), edge_index=edge_index))
    return Batch.from_data_list(graphs)


def _cases() -> list:
    cases = []
    for name in list_models():
        for kind in model_entry(name).inputs:
            if kind in ("images", "images_dense"):
                shapes = IMAGE_SHAPES if kind == "images" else [(1, 28, 28), (3, 33, 40)]
                for shape in shapes:
                    marks = [pytest.mark.slow] if shape[-1] == 224 and name in HEAVY else []
                    cases.append(pytest.param(name, kind, shape, id=f"{name}-{shape}", marks=marks))
            else:
                shape = (1, 12, 12) if kind.startswith("pixel_grid") else None
                cases.append(pytest.param(name, kind, shape, id=f"{name}-{kind}"))
    return cases


def _data(kind: str, shape):
    """The input and the number of predictions it asks for (a ``[B, ..., H, W]`` map of
    them for dense images)."""
    if kind in ("images", "images_dense"):
        return torch.randn(2, *shape), 2
    if kind.startswith("pixel_grid"):
        rows = 2 if kind == "pixel_grid" else 2 * shape[1] * shape[2]
        return images_to_graphs(torch.randn(2, *shape)), rows
    batch = _graph_batch()
    return batch, 2 if kind == "graphs" else batch.num_nodes


@pytest.mark.parametrize(("name", "kind", "shape"), _cases())
def test_every_model(name: str, kind: str, shape) -> None:
    in_channels = shape[0] if shape else 5
    model = build_model(
        name, in_channels=in_channels, num_classes=4, input_shape=shape, input_kind=kind
    )
    # a converted CNN (grid_gnn) takes any image graph: pixel grids, or graphs with pos
    assert model.input_kind in (kind, "graphs") and fits(model, kind)
    data, rows = _data(kind, shape)

    # one surface: forward is forward_head after forward_features, pre_logits included
    # a prediction per example, or per pixel of dense images: [B, K, H, W]
    grid = tuple(shape[1:]) if kind == "images_dense" else ()

    def per(width: int) -> tuple[int, ...]:
        return (rows, width, *grid)

    model.eval()
    with torch.no_grad():
        features = model.forward_features(data)
        assert features.shape == per(model.num_features), name
        torch.testing.assert_close(model(data), model.forward_head(features))
        hidden = model.forward_head(features, pre_logits=True)
        assert hidden.shape == per(model.head_hidden_size)
        logits = model.head(hidden.movedim(1, -1)).movedim(-1, 1) if grid else model.head(hidden)
        torch.testing.assert_close(logits, model(data))

    model.train()
    out = model(data)
    assert out.shape == per(4), name

    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    out.logsumexp(1).sum().backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    optimizer.step()
    changed = [k for k, v in model.state_dict().items() if not torch.equal(v, before[k])]
    assert changed, f"{name}: one optimizer step changed nothing"

    model.reset_classifier(7)
    model.eval()
    with torch.no_grad():
        assert model(data).shape == per(7)


IMAGE_MODELS = [name for name in list_models() if "images" in model_entry(name).inputs]


@pytest.mark.parametrize("name", [n for n in IMAGE_MODELS if n != "mlp"])
def test_image_model_without_input_shape_runs_down_to_its_smallest_size(name: str) -> None:
    """No ``input_shape``: every size from ``min_input_size`` up reaches the head
    (adaptive pooling), and a smaller one is refused by name, not by a torch error."""
    model = build_model(name, in_channels=1, num_classes=3).eval()
    smallest = model.min_input_size
    with torch.no_grad():
        for size in {smallest, 28, 33}:
            assert model(torch.randn(1, 1, size, size)).shape == (1, 3), size
    if smallest > 1:
        with pytest.raises(ValueError, match=f"at least {smallest}x{smallest}"):
            model(torch.randn(1, 1, smallest - 1, smallest - 1))


@pytest.mark.parametrize("name", IMAGE_MODELS)
def test_image_model_names_wrong_dtype_and_channels(name: str) -> None:
    model = build_model(name, in_channels=1, num_classes=3, input_shape=(1, 28, 28))
    with pytest.raises(TypeError, match="floating point"):
        model(torch.zeros(2, 1, 28, 28, dtype=torch.uint8))
    if name != "mlp":  # an MLP counts features, not channels
        with pytest.raises(ValueError, match="must have 1 channels"):
            model(torch.randn(2, 3, 28, 28))


@pytest.mark.parametrize(("name", "shape"), [("lenet5", (1, 4, 4)), ("inception", (1, 1, 1))])
def test_input_shape_below_the_smallest_size_fails_at_construction(name: str, shape) -> None:
    with pytest.raises(ValueError, match="input_shape must be at least"):
        build_model(name, in_channels=1, num_classes=3, input_shape=shape)


@pytest.mark.parametrize("name", ["mlp", "gcn", "gin", "sage", "gat"])
def test_a_dropout_outside_0_1_is_named_when_the_model_is_built(name: str) -> None:
    build = model_entry(name).builder
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\] \(got 1.5\)"):
        build(3, 2, dropout=1.5)
    with pytest.raises(TypeError, match="dropout must be a number"):
        build(3, 2, dropout="0.5")


class _Ops(TorchDispatchMode):
    """The aten ops a forward and backward ran."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        self.names.add(func.overloadpacket.__name__)
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize(("size", "pooled"), [(28, False), (36, True)])
def test_lenet5_pools_to_its_grid_only_off_its_input_size(size: int, pooled: bool) -> None:
    # the adaptive pool's CUDA backward has no deterministic kernel, so at its own input
    # size LeNet-5 must not run it: torch.use_deterministic_algorithms(True) trains it
    model = build_model("lenet5", in_channels=1, num_classes=10, input_shape=(1, 28, 28))
    images = torch.randn(4, 1, size, size)
    with _Ops() as ops:
        model(images).sum().backward()
    assert any("adaptive_avg_pool2d" in name for name in ops.names) == pooled
    maps = model.conv(images)
    if not pooled:  # skipping it changes nothing: at 28x28 the pool is the identity
        torch.testing.assert_close(F.adaptive_avg_pool2d(maps, 5), maps)
