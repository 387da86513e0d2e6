"""PyG's own test suite for GCNConv (test/nn/conv/test_gcn_conv.py of PyG 2.8), run on
GCNLayer.

Each test keeps PyG's inputs and assertions with ``GCNConv`` replaced by ``GCNLayer``.
Relaxed, and only where the assertion is bound to PyG's names: the repr's class name,
the name of the module PyG generates ``propagate`` into (``..._propagate`` after the
class name), and PyG's private cache attribute (``_cached_edge_index``; GCNLayer's
cache is ``_cache``). One assertion is replaced: PyG scripts the layer with
``torch.jit.script``, which torch 2.14 deprecates; GCNLayer's keyword-only
``grid_shape`` does not script, and the test says so. ``gcn_norm`` stays PyG's: those
four items test PyG's function, as in PyG.
"""

import pytest
import torch
import torch_geometric.typing
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.typing import SparseTensor
from torch_geometric.utils import to_torch_coo_tensor, to_torch_csc_tensor

from gconv.nn import GCNLayer

EDGES = [[0, 0, 0, 1, 2, 3], [1, 2, 3, 0, 0, 0]]


def test_gcn_conv() -> None:
    x = torch.randn(4, 16)
    edge_index = torch.tensor(EDGES)
    value = torch.rand(edge_index.size(1))
    adj1 = to_torch_csc_tensor(edge_index, size=(4, 4))
    adj2 = to_torch_csc_tensor(edge_index, value, size=(4, 4))

    conv = GCNLayer(16, 32)
    assert str(conv) == "GCNLayer(16, 32)"  # PyG: 'GCNConv(16, 32)'

    out1 = conv(x, edge_index)
    assert out1.size() == (4, 32)
    assert torch.allclose(conv(x, adj1.t()), out1, atol=1e-6)

    out2 = conv(x, edge_index, value)
    assert out2.size() == (4, 32)
    assert torch.allclose(conv(x, adj2.t()), out2, atol=1e-6)

    if torch_geometric.typing.WITH_TORCH_SPARSE:
        adj3 = SparseTensor.from_edge_index(edge_index, sparse_sizes=(4, 4))
        adj4 = SparseTensor.from_edge_index(edge_index, value, (4, 4))
        assert torch.allclose(conv(x, adj3.t()), out1, atol=1e-6)
        assert torch.allclose(conv(x, adj4.t()), out2, atol=1e-6)

    conv.cached = True
    conv(x, edge_index)
    assert conv._cache.value is not None  # PyG: conv._cached_edge_index
    assert torch.allclose(conv(x, edge_index), out1, atol=1e-6)
    assert torch.allclose(conv(x, adj1.t()), out1, atol=1e-6)

    if torch_geometric.typing.WITH_TORCH_SPARSE:
        conv(x, adj3.t())
        assert conv._cache.value is not None  # PyG: conv._cached_adj_t
        assert torch.allclose(conv(x, adj3.t()), out1, atol=1e-6)


def test_gcn_conv_with_decomposed_layers() -> None:
    x = torch.randn(4, 16)
    edge_index = torch.tensor(EDGES)

    def hook(module, inputs):
        assert inputs[0]["x_j"].size() == (10, 32 // module.decomposed_layers)

    conv = GCNLayer(16, 32)
    conv.register_message_forward_pre_hook(hook)
    out1 = conv(x, edge_index)

    conv.decomposed_layers = 2
    assert conv.propagate.__module__.endswith("message_passing")
    out2 = conv(x, edge_index)
    assert torch.allclose(out1, out2)

    # PyG: torch.jit.script(conv) works. torch.jit is deprecated (torch 2.14) and
    # GCNLayer's keyword-only grid_shape does not script; torch.compile does
    with pytest.raises(Exception):  # noqa: B017  # torch.jit's own error types
        torch.jit.script(conv)

    conv.decomposed_layers = 1
    assert conv.propagate.__module__.endswith("GCNLayer_propagate")  # PyG: GCNConv_


def test_gcn_conv_with_sparse_input_feature() -> None:
    x = torch.sparse_coo_tensor(
        indices=torch.tensor([[0, 0], [0, 1]]),
        values=torch.tensor([1.0, 1.0]),
        size=torch.Size([4, 16]),
    )
    edge_index = torch.tensor(EDGES)

    conv = GCNLayer(16, 32)
    assert conv(x, edge_index).size() == (4, 32)


def test_static_gcn_conv() -> None:
    x = torch.randn(3, 4, 16)
    edge_index = torch.tensor(EDGES)

    conv = GCNLayer(16, 32)
    out = conv(x, edge_index)
    assert out.size() == (3, 4, 32)


def test_gcn_conv_error() -> None:
    with pytest.raises(ValueError, match="does not support adding self-loops"):
        GCNLayer(16, 32, normalize=False, add_self_loops=True)


def test_gcn_conv_flow() -> None:
    x = torch.randn(4, 16)
    edge_index = torch.tensor([[0, 0, 0], [1, 2, 3]])

    conv = GCNLayer(16, 32, flow="source_to_target")
    out1 = conv(x, edge_index)
    conv.flow = "target_to_source"
    out2 = conv(x, edge_index.flip(0))
    assert torch.allclose(out1, out2, atol=1e-6)


@pytest.mark.parametrize("requires_grad", [False, True])
@pytest.mark.parametrize("layout", [torch.sparse_coo, torch.sparse_csr])
def test_gcn_norm_gradient(requires_grad: bool, layout: torch.layout) -> None:
    edge_index = torch.tensor(EDGES)
    edge_weight = torch.ones(edge_index.size(1), requires_grad=requires_grad)
    adj = to_torch_coo_tensor(edge_index, edge_weight)
    if layout == torch.sparse_csr:
        adj = adj.to_sparse_csr()
    assert adj.requires_grad == gcn_norm(adj)[0].requires_grad
