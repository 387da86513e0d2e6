import pytest
import torch
from torch.testing import assert_close
from torch_geometric.data import Data

from gconv.graph.sparse import sparse_dropout, sparse_linear, to_sparse_features
from gconv.models import get_model
from gconv.nn import GCNLayer


def _bag_of_words(n: int = 30, f: int = 50) -> torch.Tensor:
    x = (torch.rand(n, f) < 0.05).float() * torch.rand(n, f)
    x[3] = 0  # a node without words
    return x


def test_sparse_linear_equals_dense_with_gradients() -> None:
    x = _bag_of_words()
    weight = torch.randn(8, 50, requires_grad=True)
    bias = torch.randn(8)
    dense = x @ weight.t() + bias
    (grad_dense,) = torch.autograd.grad(dense.pow(2).sum(), weight)
    sparse = sparse_linear(to_sparse_features(x), weight, bias)
    (grad_sparse,) = torch.autograd.grad(sparse.pow(2).sum(), weight)
    assert_close(sparse, dense)
    assert_close(grad_sparse, grad_dense)


def test_sparse_dropout_touches_only_non_zeros() -> None:
    x = to_sparse_features(_bag_of_words())
    dropped = sparse_dropout(x, 0.5, training=True)
    values = dropped.values()
    kept = values != 0
    assert_close(values[kept], 2 * x.values()[kept])  # survivors scaled by 1 / (1 - p)
    assert 0 < int(kept.sum()) < x.values().numel()
    assert torch.equal(dropped.col_indices(), x.col_indices())
    assert sparse_dropout(x, 0.5, training=False) is x


def test_gcn_layer_takes_sparse_features() -> None:
    x = _bag_of_words()
    edge_index = torch.randint(0, 30, (2, 80))
    layer = GCNLayer(50, 4)
    assert_close(layer(to_sparse_features(x), edge_index), layer(x, edge_index))


@pytest.mark.parametrize("sparse_input", [None, True])
def test_gcn_model_sparse_path_equals_dense(sparse_input) -> None:
    data = Data(x=_bag_of_words(), edge_index=torch.randint(0, 30, (2, 80)))
    torch.manual_seed(0)
    fast = get_model("gcn", in_channels=50, num_classes=3, sparse_input=sparse_input).eval()
    torch.manual_seed(0)
    plain = get_model("gcn", in_channels=50, num_classes=3, sparse_input=False).eval()
    assert_close(fast(data), plain(data))
    assert fast._sparse is not None and plain._sparse is None  # 5% dense: converted once
    cached = fast._sparse[2]
    fast(data)
    assert fast._sparse[2] is cached
    data.x[0, 0] += 1.0  # modified in place: converted again
    assert_close(fast(data), plain(data))
    assert fast._sparse[2] is not cached


def test_dense_features_stay_dense() -> None:
    data = Data(x=torch.randn(30, 5), edge_index=torch.randint(0, 30, (2, 80)))
    model = get_model("gcn", in_channels=5, num_classes=3)
    model(data)
    assert model._sparse is None
