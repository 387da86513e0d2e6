from pathlib import Path

import pytest
import torch
import torchvision
from torch.utils.data import TensorDataset

from gconv.models import freeze, from_torchvision, unfreeze
from gconv.train import Trainer


@pytest.mark.parametrize(
    ("name", "features"), [("resnet18", 512), ("mobilenet_v3_small", 1024), ("vgg11", 4096)]
)
def test_surface(name: str, features: int) -> None:
    model = from_torchvision(name, num_classes=3)
    assert model.num_features == features
    x = torch.randn(2, 3, 64, 64)
    assert model.forward_features(x).shape == (2, features)
    assert model(x).shape == (2, 3)
    model.reset_classifier(5)
    assert model(x).shape == (2, 5)


def test_weights_from_a_torchvision_state_dict_on_disk(tmp_path: Path) -> None:
    reference = torchvision.models.resnet18().eval()
    path = tmp_path / "resnet18.pth"
    torch.save(reference.state_dict(), path)
    model = from_torchvision("resnet18", num_classes=4, weights=path).eval()
    x = torch.randn(2, 3, 64, 64)
    reference.fc = torch.nn.Identity()
    torch.testing.assert_close(model.forward_features(x), reference(x))


def test_wrapped_model_round_trips_through_disk(tmp_path: Path) -> None:
    model = from_torchvision("mobilenet_v3_small", num_classes=4).eval()
    path = tmp_path / "wrapped.pt"
    torch.save(model.state_dict(), path)
    again = from_torchvision("mobilenet_v3_small", num_classes=4, weights=path).eval()
    x = torch.randn(2, 3, 64, 64)
    torch.testing.assert_close(again(x), model(x), rtol=0, atol=0)


def test_feature_extract_trains_only_the_head(tmp_path: Path) -> None:
    model = from_torchvision("resnet18", num_classes=2, mode="feature_extract")
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"head.weight", "head.bias"}
    before = {k: v.clone() for k, v in model.backbone.state_dict().items()}
    data = TensorDataset(torch.randn(16, 3, 32, 32), torch.randint(0, 2, (16,)))
    Trainer(max_epochs=1, batch_size=8, lr=0.1, progress=False).fit(model, data)
    for key, value in model.backbone.state_dict().items():  # running stats included
        assert torch.equal(value, before[key]), key
    model.train()
    norms = [m for m in model.backbone.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert norms and not any(m.training for m in norms)  # frozen BN stays in eval mode


def test_train_bn_keeps_batch_norm_learning() -> None:
    model = from_torchvision("resnet18", num_classes=2, mode="feature_extract", train_bn=True)
    model.train()
    assert all(m.training for m in model.backbone.modules() if isinstance(m, torch.nn.BatchNorm2d))
    assert model.backbone.bn1.weight.requires_grad and not model.backbone.conv1.weight.requires_grad


def test_freeze_and_unfreeze() -> None:
    net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2))
    freeze(net)
    assert not any(p.requires_grad for p in net.parameters())
    unfreeze(net)
    assert all(p.requires_grad for p in net.parameters())


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a torchvision model"):
        from_torchvision("resnet9000", num_classes=2)
    with pytest.raises(ValueError, match="mode must be one of"):
        from_torchvision("resnet18", num_classes=2, mode="freeze")
    with pytest.raises(FileNotFoundError, match="no weights file"):
        from_torchvision("resnet18", num_classes=2, weights=tmp_path / "missing.pt")
    torch.save(torchvision.models.vgg11().state_dict(), tmp_path / "vgg.pt")
    with pytest.raises(ValueError, match="not a state dict of torchvision's resnet18"):
        from_torchvision("resnet18", num_classes=2, weights=tmp_path / "vgg.pt")
