"""FCN: any input size, outputs the input's size, and its message-passing twin computes
the same function with its weights."""

import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

from gconv.convert import images_to_graphs
from gconv.models import freeze, get_model
from gconv.models.fcn import upsampler


def _as_images(x: torch.Tensor, b: int, h: int, w: int) -> torch.Tensor:
    return x.view(b, h, w, -1).permute(0, 3, 1, 2)


@pytest.mark.parametrize("size", [(64, 64), (96, 80), (30, 31), (4, 5)])
def test_fcn_output_has_the_input_size(size) -> None:
    model = get_model("fcn", in_channels=1, num_classes=11).eval()
    with torch.no_grad():
        out = model(torch.randn(2, 1, *size))
    assert out.shape == (2, 11, *size)
    with pytest.raises(ValueError, match="at least 4x4"):
        model(torch.randn(1, 1, 3, 8))


@pytest.mark.parametrize("size", [(64, 64), (30, 31), (9, 6)])
@pytest.mark.parametrize("dense", [True, False], ids=["dense", "message-passing"])
def test_grid_fcn_with_fcn_weights_gives_identical_masks(size, dense) -> None:
    torch.manual_seed(0)
    cnn = get_model("fcn", in_channels=2, num_classes=5, hidden_channels=(4, 8, 8)).double()
    gnn = get_model("grid_fcn", in_channels=2, num_classes=5, hidden_channels=(4, 8, 8))
    gnn = gnn.double()
    gnn.path = "auto" if dense else "message_passing"
    assert set(gnn.state_dict()) == set(cnn.state_dict())
    gnn.load_state_dict(cnn.state_dict())
    images = torch.randn(3, 2, *size, dtype=torch.float64)
    for train in (True, False):  # batch statistics and running statistics
        cnn.train(train)
        gnn.train(train)
        expected = cnn(images)
        out = _as_images(gnn(images_to_graphs(images)), 3, *size)
        assert_close(out, expected)
        assert torch.equal(out.argmax(1), expected.argmax(1))


def _both_paths_agree(layer, unused: tuple[str, ...] = ()):
    """grid_fcn with ``layer`` in its encoder: the fast paths and message passing give
    the same logits and gradients; parameters named in ``unused`` get none on either."""
    kwargs = {"hidden_channels": (4, 8, 8), "convs_per_stage": 1, "layer": layer}
    torch.manual_seed(0)
    dense = get_model("grid_fcn", in_channels=1, num_classes=3, **kwargs).double()
    sparse = get_model("grid_fcn", in_channels=1, num_classes=3, **kwargs).double()
    sparse.path = "message_passing"
    sparse.load_state_dict(dense.state_dict())
    batch = images_to_graphs(torch.randn(2, 1, 12, 10, dtype=torch.float64))
    out = dense(batch)
    assert_close(sparse(batch), out, rtol=1e-10, atol=1e-10)
    out.square().sum().backward()
    sparse(batch).square().sum().backward()
    for (name, a), (_, b) in zip(dense.named_parameters(), sparse.named_parameters(), strict=True):
        if any(part in name for part in unused):
            assert a.grad is None and b.grad is None, name
        else:
            assert_close(b.grad, a.grad, rtol=1e-9, atol=1e-9, msg=name)
    return dense, batch


def test_grid_fcn_with_gcn_layers_is_one_network_on_both_paths() -> None:
    # the graph U-Net of the segmentation comparison: GCNLayer in the encoder, the same
    # pools, scores and transposed graphs back; the stencil path equals propagate
    from functools import partial

    from torch_geometric.nn import GCNConv

    from gconv.nn import GCNLayer

    dense, batch = _both_paths_agree(partial(GCNLayer, cached=True))
    ref = GCNConv(1, 4).double()
    ref.load_state_dict(dense.encoder.convs[0].state_dict())
    assert_close(dense.encoder.convs[0](batch.x, batch.edge_index), ref(batch.x, batch.edge_index))


def test_grid_fcn_with_gated_gcn_layers_is_one_network_on_both_paths() -> None:
    # the segmentation comparison's gated_gcn row: the image-view gating (dense) equals
    # the gathering path over the edges, values and every gradient (the grid's edges
    # carry no features, so C's weight takes no part)
    from functools import partial

    from gconv.nn import GatedGCNLayer

    layer = partial(GatedGCNLayer, batch_norm=False, residual=False, fused=True)
    _both_paths_agree(layer, unused=("edge_lin.weight",))


def test_grid_fcn_gradients_equal_fcn_gradients() -> None:
    torch.manual_seed(0)
    cnn = get_model("fcn", in_channels=1, num_classes=3, hidden_channels=(4, 6)).double()
    gnn = get_model("grid_fcn", in_channels=1, num_classes=3, hidden_channels=(4, 6)).double()
    gnn.load_state_dict(cnn.state_dict())
    images = torch.randn(2, 1, 10, 7, dtype=torch.float64)
    masks = torch.randint(0, 3, (2, 10, 7))
    F.cross_entropy(cnn(images), masks).backward()
    F.cross_entropy(gnn(images_to_graphs(images, masks)), masks.reshape(-1)).backward()
    grads = dict(gnn.named_parameters())
    for name, param in cnn.named_parameters():
        assert_close(grads[name].grad, param.grad, msg=name)


def test_grid_fcn_names_what_it_needs() -> None:
    gnn = get_model("grid_fcn", in_channels=1, num_classes=3)
    batch = images_to_graphs(torch.randn(1, 1, 8, 8))
    del batch.grid_shape, batch.grid_size  # what makes graphs pixel grids
    with pytest.raises(ValueError, match="GraphNetwork: the graphs must be full pixel grids"):
        gnn(batch)
    batch.grid_shape = torch.tensor([2, 8, 8])
    with pytest.raises(ValueError, match=r"grid_shape \(2, 8, 8\) has 128 pixels \(got 64 nodes\)"):
        gnn(batch)
    with pytest.raises(ValueError, match=r"GraphNetwork: grids must be at least 4x4 \(got 3x8\)"):
        gnn(images_to_graphs(torch.randn(1, 1, 3, 8)))


def test_upsampler_starts_as_bilinear_interpolation() -> None:
    """FCN's initialization: inside the border, the 2x transposed convolution is
    ``F.interpolate(..., mode="bilinear")``."""
    up = upsampler(3, 2).double()
    x = torch.randn(2, 3, 6, 5, dtype=torch.float64)
    expected = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
    assert_close(up(x)[..., 1:-1, 1:-1], expected[..., 1:-1, 1:-1])


@pytest.mark.parametrize(
    ("shape", "strides"), [((3, 96, 80), [8, 16, 32]), ((1, 28, 28), [4, 8, 16])]
)
def test_fcn_resnet18_any_size_and_transfer(shape, strides) -> None:
    torch.manual_seed(0)
    backbone = get_model("resnet18", in_channels=shape[0], num_classes=10, input_shape=shape)
    model = get_model("fcn_resnet18", in_channels=shape[0], num_classes=21, backbone=backbone)
    assert model.encoder.strides == strides
    assert model.encoder.layer4 is backbone.layer4  # the trained stages, not copies
    model.eval()
    with torch.no_grad():
        assert model(torch.randn(1, *shape)).shape == (1, 21, *shape[1:])
        assert model(torch.randn(1, shape[0], 37, 45)).shape == (1, 21, 37, 45)
    # transfer: a frozen encoder, a new per-pixel head
    freeze(model.encoder)
    model.reset_classifier(3)
    model.train()
    model(torch.randn(2, *shape)).sum().backward()
    assert all(p.grad is None for p in model.encoder.parameters())
    assert model.head.weight.grad is not None and model.head.out_features == 3
    with pytest.raises(ValueError, match="backbone takes 3 channels"):
        get_model("fcn_resnet18", in_channels=1, backbone=get_model("resnet18"))
