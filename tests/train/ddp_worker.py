"""Trains grid_cnn on digits under torchrun and saves what rank 0 ends with.

python -m torch.distributed.run --standalone --nproc_per_node=N ddp_worker.py OUT BATCH
    [EPOCHS [RESUME]]
"""

import json
import sys
from pathlib import Path

import torch

import gconv
from gconv.models import build_model
from gconv.train import CSVLogger, ModelCheckpoint, Trainer, distributed

out, batch_size = Path(sys.argv[1]), int(sys.argv[2])
epochs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
resume = sys.argv[4] if len(sys.argv) > 4 else None
digits = gconv.data.load_dataset("digits", limit=512)  # train: 308 images
train = torch.utils.data.Subset(digits.train, range(256))  # divisible by every batch
torch.manual_seed(0)
model = build_model("grid_cnn", digits, hidden_channels=(8, 8))  # no dropout, no batch norm
trainer = Trainer(
    max_epochs=epochs,
    lr=0.01,
    batch_size=batch_size,
    seed=0,
    progress=False,
    callbacks=[ModelCheckpoint(out / "ckpt", "val_loss"), CSVLogger(out / "history.csv")],
)
history = trainer.fit(model, train, digits.val, resume=resume)
scores = trainer.evaluate(model, digits.test)
result = {"world": distributed.world_size(), "history": history.history, "test": scores}
(out / f"rank-{distributed.rank()}.json").write_text(json.dumps(result))
if distributed.is_main():
    torch.save(model.state_dict(), out / "weights.pt")
distributed.shutdown()
