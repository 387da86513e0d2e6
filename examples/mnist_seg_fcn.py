"""Segmentation of MNIST digits on 64x64 canvases with an FCN, and the same network as
message passing on pixel grid graphs giving the same masks.

python examples/mnist_seg_fcn.py [--epochs 5] [--out masks.png] [--quick]
"""

import argparse

import torch

import gconv
from gconv.data import DatasetNotFoundError
from gconv.loader import GridGraphLoader
from gconv.models import get_model
from gconv.viz import plot_masks

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=5)
parser.add_argument("--out", default="masks.png", help="where to draw four test masks")
parser.add_argument("--quick", action="store_true", help="128 canvases, 1 epoch")
args = parser.parse_args()

try:
    seg = gconv.data.load_dataset("mnist_seg", limit=128 if args.quick else None)
except DatasetNotFoundError as err:  # no MNIST here and no network: say where to put it
    raise SystemExit(str(err)) from None
print(f"mnist_seg: {len(seg.train)} train, {len(seg.val)} validation, {len(seg.test)} test")
model = get_model("fcn", in_channels=1, num_classes=seg.num_classes)
trainer = gconv.train.Trainer(
    max_epochs=1 if args.quick else args.epochs,
    lr=3e-3,
    scheduler="cosine",
    batch_size=32,
    seed=0,
)
history = trainer.fit(model, seg.train, seg.val)
print(f"validation mean IoU per epoch: {[round(v, 4) for v in history.history['val_mean_iou']]}")
scores = trainer.evaluate(model, seg.test)
print(f"test mean IoU {scores['mean_iou']:.4f}, pixel accuracy {scores['accuracy']:.4f}")

# the same network as message passing, with the FCN's weights: the canvases as pixel
# grid graphs, one prediction per pixel node
twin = get_model("grid_fcn", in_channels=1, num_classes=seg.num_classes)
twin.load_state_dict(model.state_dict())
grid_logits = trainer.predict(twin, GridGraphLoader(seg.test, 32))
cnn_logits = trainer.predict(model, seg.test).permute(0, 2, 3, 1).reshape(grid_logits.shape)
same = torch.equal(grid_logits.argmax(1), cnn_logits.argmax(1))
print(f"grid_fcn with the FCN's weights predicts the same class for every test pixel: {same}")

images, masks = seg.test.tensors[0][:4], seg.test.tensors[1][:4]
with torch.no_grad():
    predicted = model.eval()(images).argmax(1)
plot_masks(images, masks, predicted, seg.num_classes, args.out)
print(f"wrote {args.out}")
