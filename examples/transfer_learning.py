"""Transfer learning: a torchvision backbone with a new head on a small image set.

The images are scikit-learn's 8x8 digits (bundled, so this runs offline), upscaled to
3x32x32. ``--weights`` takes a torchvision weights name (``DEFAULT``, downloaded when
online) or a local state-dict file; without it the backbone starts from random weights.

    python examples/transfer_learning.py [--backbone resnet18] [--mode finetune]
        [--weights PATH|DEFAULT] [--epochs 10] [--quick]
"""

import argparse

import torch.nn.functional as F
from torch.utils.data import TensorDataset

import gconv
from gconv.data import ImageSplit
from gconv.models import from_torchvision

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--backbone", default="resnet18", help="a torchvision model name")
parser.add_argument("--mode", default="finetune", choices=["finetune", "feature_extract"])
parser.add_argument("--weights", help="torchvision weights name or a state-dict file")
parser.add_argument("--epochs", type=int, default=10)
parser.add_argument("--quick", action="store_true", help="2 epochs on 300 images")
args = parser.parse_args()


def as_rgb32(split: ImageSplit, limit: int | None) -> TensorDataset:
    x, y = split.standardized(), split.labels
    x, y = x[:limit], y[:limit]
    x = F.interpolate(x, size=32, mode="bilinear", align_corners=False).repeat(1, 3, 1, 1)
    return TensorDataset(x, y)


digits = gconv.data.load_dataset("digits")
limit = 300 if args.quick else None
train, val, test = (as_rgb32(s, limit) for s in (digits.train, digits.val, digits.test))
model = from_torchvision(args.backbone, num_classes=10, weights=args.weights, mode=args.mode)
trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
total = sum(p.numel() for p in model.parameters())
print(f"{args.backbone} ({args.mode}): {trainable:,d} of {total:,d} parameters train")
trainer = gconv.train.Trainer(
    max_epochs=2 if args.quick else args.epochs, lr=1e-3, scheduler="cosine", seed=0
)
trainer.fit(model, train, val)
scores = trainer.evaluate(model, test)
print(f"test accuracy {scores['accuracy']:.4f}, macro-F1 {scores['macro_f1']:.4f}")
