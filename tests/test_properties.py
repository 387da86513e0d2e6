"""Property tests at the user's boundary: over random shapes, dtypes, labels and graphs,
each call either returns the correct result or raises gconv's own error, never a raw one
from inside torch."""

from __future__ import annotations

import re

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch.testing import assert_close
from torch.utils.data import TensorDataset

import gconv
from gconv.convert import graphs_to_images, images_to_graphs
from gconv.graph import adjacency_matrix, normalized_adjacency
from gconv.models import build_model
from gconv.nn import GCNLayer
from gconv.train import Trainer

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,  # the same examples on every CI run
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
GCONV_ERRORS = (ValueError, TypeError)
# gconv's messages name their owner first: "GCNLayer: ...", "Trainer.fit: ..."
OWNED = re.compile(r"^[A-Za-z_][\w.]*: ")

dtypes = st.sampled_from([torch.float32, torch.float64, torch.int64, torch.uint8])


def _gconv_error(err: Exception) -> None:
    assert isinstance(err, GCONV_ERRORS), repr(err)
    assert OWNED.match(str(err)), str(err)


@st.composite
def graphs(draw):
    """A graph of up to 12 nodes, sometimes with an out-of-range or negative node id.
    Repeated edges add up; a node has at most one self-loop, because normalization
    keeps one loop per node (PyG's add_remaining_self_loops), where a dense matrix
    would add repeated loops up."""
    n = draw(st.integers(1, 12))
    low = draw(st.sampled_from([0, 0, 0, -1]))
    high = draw(st.sampled_from([n - 1, n - 1, n - 1, n + 1]))
    pairs = draw(st.lists(st.tuples(st.integers(low, high), st.integers(low, high)), max_size=30))
    loops = set()
    kept = []
    for s, t in pairs:
        if s == t:
            if s in loops:
                continue
            loops.add(s)
        kept.append((s, t))
    edge_index = torch.tensor(kept, dtype=torch.long).t().reshape(2, -1)
    weights = draw(st.lists(st.floats(0.1, 2.0), min_size=len(kept), max_size=len(kept)))
    weight = torch.tensor(weights, dtype=torch.float64) if draw(st.booleans()) else None
    return n, edge_index, weight


@SETTINGS
@given(
    graph=graphs(),
    dtype=dtypes,
    improved=st.booleans(),
    normalize=st.sampled_from([True, False, "rw"]),
    channels=st.integers(1, 4),
)
def test_gcn_layer_is_the_dense_formula_or_a_gconv_error(
    graph, dtype, improved: bool, normalize, channels: int
) -> None:
    n, edge_index, weight = graph
    layer = GCNLayer(3, channels, improved=improved, normalize=normalize).double()
    x = (
        torch.randn(n, 3, dtype=torch.float64).to(dtype)
        if dtype.is_floating_point
        else (torch.randint(0, 3, (n, 3), dtype=dtype))
    )
    try:
        out = layer(x, edge_index, weight)
    except Exception as err:
        _gconv_error(err)
        valid = edge_index.numel() == 0 or (
            int(edge_index.min()) >= 0 and int(edge_index.max()) < n
        )
        assert not valid or dtype != torch.float64
        return
    assert dtype == torch.float64
    adj = adjacency_matrix(edge_index, n, weight).double()
    mode = {True: "sym", False: "none", "rw": "rw"}[normalize]
    if normalize is not False:
        diag = adj.diagonal()
        adj = adj + torch.diag(torch.where(diag == 0, 2.0 if improved else 1.0, 0.0))
    dense = normalized_adjacency(adj, mode=mode, add_self_loops=False)
    assert_close(out, dense @ x @ layer.lin.weight.t() + layer.bias)


@SETTINGS
@given(
    b=st.integers(0, 3),
    c=st.integers(1, 3),
    h=st.integers(0, 6),
    w=st.integers(1, 6),
    dtype=dtypes,
)
def test_images_to_graphs_round_trips_or_raises(b: int, c: int, h: int, w: int, dtype) -> None:
    images = torch.randn(b, c, h, w).to(dtype)
    try:
        batch = images_to_graphs(images)
    except Exception as err:
        _gconv_error(err)
        assert b == 0 or h == 0 or not dtype.is_floating_point
        return
    assert_close(graphs_to_images(batch.x, b, h, w), images)


@pytest.fixture(scope="module")
def image_models():
    return {
        name: build_model(name, in_channels=1, num_classes=3).eval()
        for name in ("lenet5", "grid_cnn", "alexnet", "resnet18")
    }


@SETTINGS
@given(
    name=st.sampled_from(["lenet5", "grid_cnn", "alexnet", "resnet18"]),
    channels=st.sampled_from([1, 1, 3]),
    size=st.integers(1, 40),
    dtype=dtypes,
)
def test_image_models_predict_or_raise(
    image_models, name: str, channels: int, size: int, dtype
) -> None:
    model = image_models[name]
    images = torch.randn(2, channels, size, size).to(dtype)
    try:
        with torch.no_grad():
            out = model(images)
    except Exception as err:
        _gconv_error(err)
        assert channels != 1 or dtype != torch.float32 or size < model.min_input_size
        return
    assert out.shape == (2, 3) and torch.isfinite(out).all()


@SETTINGS
@given(labels=st.lists(st.integers(-2, 5), min_size=1, max_size=12))
def test_trainer_takes_valid_labels_and_names_invalid_ones(labels: list[int]) -> None:
    model = build_model("mlp", in_channels=1, num_classes=3, input_shape=(1, 2, 2))
    data = TensorDataset(torch.randn(len(labels), 1, 2, 2), torch.tensor(labels))
    trainer = Trainer(max_epochs=1, progress=False, batch_size=4)
    try:
        trainer.fit(model, data)
    except Exception as err:
        _gconv_error(err)
        assert min(labels) < 0 or max(labels) >= 3
        return
    assert min(labels) >= 0 and max(labels) < 3


@SETTINGS
@given(
    name=st.sampled_from(["cora", "mutag", "nope"]),
    option=st.sampled_from([{}, {"folds": 0}, {"folds": 3}, {"seed": 1}, {"limit": 5}]),
)
def test_load_dataset_names_bad_names_and_options(name: str, option: dict) -> None:
    try:
        gconv.data.load_dataset(name, **option)
    except Exception as err:
        _gconv_error(err)
        return
    assert (name == "cora" and not option) or (name == "mutag" and "limit" not in option)
    assert option.get("folds", 2) >= 2
