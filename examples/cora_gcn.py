"""Kipf and Welling's two-layer GCN on Cora (public split), averaged over seeds.

python examples/cora_gcn.py [--seeds 10] [--quick]
"""

import argparse
import statistics

import torch

import gconv
from gconv.models import get_model

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--seeds", type=int, default=10)
parser.add_argument("--epochs", type=int, default=200)
parser.add_argument("--quick", action="store_true", help="2 seeds, 20 epochs")
args = parser.parse_args()
if args.quick:
    args.seeds, args.epochs = 2, 20

cora = gconv.data.load_dataset("cora")  # data root: $GCONV_DATA, else ./datasets
print(
    f"Cora: {cora.train.num_nodes} nodes, {cora.in_channels} features, {cora.num_classes} classes"
)
accuracies = []
for seed in range(args.seeds):
    torch.manual_seed(seed)
    model = get_model("gcn", in_channels=cora.in_channels, num_classes=cora.num_classes)
    trainer = gconv.train.Trainer(max_epochs=args.epochs, lr=0.01, weight_decay=5e-4, seed=seed)
    trainer.fit(model, cora.train)  # validates on val_mask every epoch
    accuracy = trainer.evaluate(model, cora.test)["accuracy"]  # scores test_mask
    accuracies.append(accuracy)
    print(f"seed {seed}: test accuracy {accuracy:.4f}")
std = statistics.pstdev(accuracies)
print(f"mean test accuracy {statistics.fmean(accuracies):.4f} ± {std:.4f} over {args.seeds} seeds")
