import pytest
import torch
from torch.testing import assert_close
from torch_geometric.data import Batch

from gconv.convert import superpixel_graph
from gconv.graph import gcn_normalize, normalized_sparse
from gconv.models import DeepGNN
from gconv.nn import GCNLayer
from gconv.transforms import DirectionalEdgeType


def _batch() -> Batch:
    torch.manual_seed(0)
    graphs = [DirectionalEdgeType()(superpixel_graph(torch.rand(28, 28))) for _ in range(3)]
    return Batch.from_data_list(graphs)


@pytest.mark.parametrize("conv", ["gcn", "sage", "gat", "gin", "gated_gcn", "grid_conv"])
def test_every_layer_trains(conv: str) -> None:
    batch = _batch()
    model = DeepGNN(conv, 3, 10, 16, 4)
    out = model(batch)
    assert out.shape == (3, 10)
    out.logsumexp(-1).sum().backward()
    # the last gated layer's new edge features feed nothing, as in Dwivedi et al.'s model
    unused = ("layers.3.norm_e.",) if conv == "gated_gcn" else ()
    for name, p in model.named_parameters():
        assert (p.grad is None) == name.startswith(unused), name


def test_gcn_layers_multiply_by_the_normalized_batch() -> None:
    # one sparse normalization per batch equals the layer normalizing the graph itself
    batch = _batch()
    n = batch.num_nodes
    adj = normalized_sparse(batch.edge_index, batch.edge_weight, n)
    index, weight = gcn_normalize(batch.edge_index, batch.edge_weight, n)
    dense = torch.zeros(n, n).index_put_((index[1], index[0]), weight, accumulate=True)
    assert_close(adj.matrix.to_dense(), dense)
    assert_close(adj.transpose.to_dense(), dense.T)
    h = torch.randn(n, 8, requires_grad=True)
    layer = GCNLayer(8, 8)
    plain = GCNLayer(8, 8, normalize="none", add_self_loops=False)
    plain.load_state_dict(layer.state_dict())
    out, expected = plain(h, adj), layer(h, batch.edge_index, batch.edge_weight)
    assert_close(out, expected)
    grads = [torch.autograd.grad(y.square().sum(), h)[0] for y in (out, expected)]
    assert_close(*grads)


def test_checks() -> None:
    with pytest.raises(ValueError, match="DeepGNN: conv must be one of"):
        DeepGNN("cheb", 3, 10)
    with pytest.raises(ValueError, match="hidden_channels must be a multiple of heads=4"):
        DeepGNN("gat", 3, 10, 30)
    batch = _batch()
    del batch.edge_type
    with pytest.raises(ValueError, match="grid_conv needs edge_type"):
        DeepGNN("grid_conv", 3, 10, 8)(batch)


@pytest.mark.parametrize("conv", ["gcn", "sage", "gat", "gin", "gated_gcn", "grid_conv"])
def test_every_layer_trains_under_bfloat16_autocast(conv: str) -> None:
    # the comparison's --amp: sparse products (gcn's normalized adjacency) stay float32
    batch = _batch()
    torch.manual_seed(0)
    model = DeepGNN(conv, 3, 10, 16, 4).eval()
    reference = model(batch)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(batch)
    assert out.dtype == torch.bfloat16
    assert_close(out.float(), reference, rtol=0.1, atol=0.1)
    out.float().logsumexp(-1).sum().backward()
    assert all(p.grad is None or p.grad.isfinite().all() for p in model.parameters())


def test_a_layer_object_is_what_a_name_builds() -> None:
    """A GraphLayer passed in builds and runs the network a name picks, and a user's own
    (PyG's GraphConv here) trains in the same form."""
    from torch_geometric.nn import GraphConv, SAGEConv

    from gconv.models.graph_layers import EdgeLayer, graph_layers

    batch = _batch()
    for name, kind in graph_layers().items():
        torch.manual_seed(0)
        named = DeepGNN(name, 3, 10, 16, 4).eval()
        torch.manual_seed(0)
        passed = DeepGNN(kind, 3, 10, 16, 4).eval()
        assert list(named.state_dict()) == list(passed.state_dict())
        assert_close(named(batch), passed(batch))
    own = DeepGNN(EdgeLayer("graph_conv", lambda w: GraphConv(w, w)), 3, 10, 16, 2)
    assert own.conv == "graph_conv" and isinstance(own.layers[0], GraphConv)
    own(batch).logsumexp(-1).sum().backward()
    assert all(p.grad is not None for p in own.parameters())
    torch.manual_seed(0)
    sage = DeepGNN(EdgeLayer("sage", lambda w: SAGEConv(w, w)), 3, 10, 16, 4).eval()
    torch.manual_seed(0)
    assert_close(sage(batch), DeepGNN("sage", 3, 10, 16, 4).eval()(batch))
    with pytest.raises(TypeError, match="DeepGNN: conv must be a GraphLayer"):
        DeepGNN(SAGEConv(16, 16), 3, 10)  # type: ignore[arg-type]


def test_graph_net_takes_a_layer_builder() -> None:
    from functools import partial

    from torch_geometric.nn import GraphConv, SAGEConv

    from gconv.models import GraphNet

    batch = _batch()
    torch.manual_seed(0)
    named = GraphNet("sage", 3, 10, 16, readout="mean").eval()
    torch.manual_seed(0)
    passed = GraphNet(SAGEConv, 3, 10, 16, readout="mean").eval()
    assert_close(named(batch), passed(batch))
    own = GraphNet(partial(GraphConv, aggr="mean"), 3, 10, 16, readout="mean")
    assert isinstance(own.convs[1], GraphConv) and own.convs[1].in_channels == 16
    own(batch).logsumexp(-1).sum().backward()
    assert all(p.grad is not None for p in own.parameters())
    assert GraphNet("gat", 3, 10, 30, heads=4).convs[0].out_channels == 7  # 30 // 4 each
    with pytest.raises(ValueError, match="GraphNet: conv must be one of 'sage', 'gat'"):
        GraphNet("cheb", 3, 10)
    with pytest.raises(TypeError, match="GraphNet: conv must be 'sage', 'gat' or a callable"):
        GraphNet(3, 3, 10)  # type: ignore[arg-type]
