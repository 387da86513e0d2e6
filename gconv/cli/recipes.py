"""The default training settings of each dataset for ``gconv train``, with where they
come from; the command-line flags override them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Recipe:
    """Default training settings of a dataset; the command-line flags override them."""

    epochs: int
    lr: float
    batch_size: int
    weight_decay: float = 0.0
    scheduler: str | None = None
    folds: int | None = None
    quick_epochs: int = 2
    quick_limit: int | None = None  # examples kept by --quick


# where each recipe comes from, with its measurements: docs/training.md (default recipes)
RECIPES = {
    "cora": Recipe(epochs=200, lr=0.01, batch_size=1, weight_decay=5e-4, quick_epochs=10),
    "mutag": Recipe(
        epochs=100, lr=0.01, batch_size=32, scheduler="cosine", folds=10, quick_epochs=3
    ),
    "mnist": Recipe(epochs=5, lr=3e-3, batch_size=64, scheduler="cosine", quick_limit=2000),
    "mnist_grid": Recipe(
        epochs=5, lr=3e-3, batch_size=64, scheduler="cosine", quick_limit=1000, quick_epochs=1
    ),
    "cifar10": Recipe(epochs=30, lr=1e-3, batch_size=128, scheduler="cosine", quick_limit=1000),
    "digits": Recipe(epochs=30, lr=1e-3, batch_size=32, quick_epochs=3),
    "mnist_seg": Recipe(
        epochs=5, lr=3e-3, batch_size=32, scheduler="cosine", quick_limit=128, quick_epochs=1
    ),
    "voc_seg": Recipe(epochs=30, lr=1e-3, batch_size=8, scheduler="cosine", quick_limit=16),
    "pet_seg": Recipe(epochs=20, lr=1e-3, batch_size=16, scheduler="cosine", quick_limit=32),
}

# your own data (gconv train FOLDER or FILE.pt): its task's recipe, from the registered
# datasets of that task; --quick keeps QUICK_LIMIT training images
QUICK_LIMIT = 500
TASK_RECIPES = {
    "image": Recipe(epochs=30, lr=1e-3, batch_size=64, scheduler="cosine", quick_limit=QUICK_LIMIT),
    "graph": Recipe(epochs=100, lr=0.01, batch_size=32, scheduler="cosine", quick_epochs=3),
    "node": RECIPES["cora"],
}
