"""A plain PyG script for Kipf and Welling's GCN on Planetoid, with gconv's layer dropped in.

Everything below is what a PyG user writes; only the GCNConv import names gconv (and the
offline copy of Cora's raw files, which ship inside gconv). Put the PyG import back and
the script computes the same, which tests/test_examples.py checks.

python examples/pyg_gcn.py [--dataset Cora] [--epochs 200] [--gdc] [--root DIR]
"""

import argparse
import os.path as osp
import time

import torch
import torch.nn.functional as F
import torch_geometric.transforms as T
from torch_geometric.datasets import Planetoid

from gconv.data import copy_bundled  # Cora's raw files, for a machine that is offline
from gconv.nn import GCNLayer as GCNConv  # was: from torch_geometric.nn import GCNConv

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--dataset", default="Cora")
parser.add_argument("--hidden_channels", type=int, default=16)
parser.add_argument("--lr", type=float, default=0.01)
parser.add_argument("--epochs", type=int, default=200)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--gdc", action="store_true", help="graph diffusion (normalize=False)")
parser.add_argument("--root", default=osp.join("datasets"), help="Planetoid's root folder")
args = parser.parse_args()

torch.manual_seed(args.seed)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
copy_bundled(args.dataset, args.root)  # where Planetoid looks, unless already there
dataset = Planetoid(args.root, args.dataset, transform=T.NormalizeFeatures())
data = dataset[0]
if args.gdc:  # diffusion gives weighted edges that are normalized already
    data = T.GDC(
        self_loop_weight=1,
        normalization_in="sym",
        normalization_out="col",
        diffusion_kwargs=dict(method="ppr", alpha=0.05),
        sparsification_kwargs=dict(method="topk", k=128, dim=0),
        exact=True,
    )(data)
data = data.to(device)


class GCN(torch.nn.Module):
    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv1 = GCNConv(in_channels, hidden_channels, cached=True, normalize=not args.gdc)
        self.conv2 = GCNConv(hidden_channels, out_channels, cached=True, normalize=not args.gdc)

    def forward(self, x, edge_index, edge_weight=None):
        x = F.dropout(x, p=0.5, training=self.training)
        x = self.conv1(x, edge_index, edge_weight).relu()
        x = F.dropout(x, p=0.5, training=self.training)
        return self.conv2(x, edge_index, edge_weight)


model = GCN(dataset.num_features, args.hidden_channels, dataset.num_classes).to(device)
optimizer = torch.optim.Adam(
    [  # weight decay on the first layer only, as in the paper
        {"params": model.conv1.parameters(), "weight_decay": 5e-4},
        {"params": model.conv2.parameters(), "weight_decay": 0.0},
    ],
    lr=args.lr,
)


def train() -> float:
    model.train()
    optimizer.zero_grad()
    out = model(data.x, data.edge_index, data.edge_attr)
    loss = F.cross_entropy(out[data.train_mask], data.y[data.train_mask])
    loss.backward()
    optimizer.step()
    return float(loss)


@torch.no_grad()
def test() -> list[float]:
    model.eval()
    pred = model(data.x, data.edge_index, data.edge_attr).argmax(dim=-1)
    return [
        float((pred[mask] == data.y[mask]).float().mean())
        for mask in (data.train_mask, data.val_mask, data.test_mask)
    ]


best_val = test_at_best_val = 0.0
seconds = []
for epoch in range(1, args.epochs + 1):
    start = time.perf_counter()
    loss = train()
    seconds.append(time.perf_counter() - start)
    train_acc, val_acc, test_acc = test()
    if val_acc > best_val:  # the test accuracy of the epoch chosen on validation
        best_val, test_at_best_val = val_acc, test_acc
    if epoch % 50 == 0 or epoch == args.epochs:
        print(f"epoch {epoch:03d} loss {loss:.4f} train {train_acc:.4f} val {val_acc:.4f}")
median = sorted(seconds[10:] or seconds)[len(seconds[10:] or seconds) // 2]
print(f"test accuracy {test_at_best_val:.4f} (at best val {best_val:.4f})")
print(f"median seconds per epoch {median:.5f}")
