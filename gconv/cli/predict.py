"""``gconv predict CHECKPOINT INPUT...``: the class of new, unlabelled inputs (image
files, folders of images, or a ``.pt`` file of graphs), a line each, and with ``--out``
a CSV file.

The checkpoint alone says what to rebuild and how to read the inputs: the model's name
and arguments (its ``build_config``), the class names, and the images' size and
normalization, as ``gconv train`` and :class:`gconv.train.ModelCheckpoint` write them.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import TensorDataset

from gconv._io import save_atomic_csv
from gconv.cli._common import UsageError
from gconv.data.graph_sources import with_features
from gconv.data.image_split import standardize
from gconv.data.images import is_image, read_images
from gconv.data.kinds import KINDS
from gconv.loader import GridGraphLoader
from gconv.models import build_model, get_model
from gconv.train import Trainer, load_checkpoint
from gconv.train.checkpoint import load_weights

OWNER = "predict"


def rebuild(meta: dict[str, Any], checkpoint: str) -> nn.Module:
    """The model a checkpoint's ``meta`` describes, with random weights."""
    if "model" not in meta:
        raise UsageError(
            f"{checkpoint} does not say which model it holds (no model name in its meta); "
            "write it with 'gconv train', or with ModelCheckpoint on a model from "
            "gconv.models.get_model or build_model"
        )
    if "model_kwargs" in meta:
        return get_model(meta["model"], **meta["model_kwargs"])
    return build_model(  # a checkpoint of an earlier gconv train: the data's fields
        meta["model"],
        in_channels=meta["in_channels"],
        num_classes=meta["num_classes"],
        input_shape=meta.get("input_shape"),
        input_kind=meta.get("input_kind"),
    )


def _image_paths(inputs: list[str]) -> list[Path]:
    paths: list[Path] = []
    for item in map(Path, inputs):
        if item.is_dir():
            found = sorted(p for p in item.rglob("*") if is_image(p))
            if not found:
                raise UsageError(f"{OWNER}: {item} must hold image files (found none)")
            paths += found
        elif is_image(item):
            paths.append(item)
        else:
            what = "nothing" if not item.exists() else f"a {item.suffix or 'extensionless'} file"
            raise UsageError(
                f"{OWNER}: INPUT must be image files or folders of them for this image "
                f"model (got {item}: {what})"
            )
    return paths


def read_inputs(inputs: list[str], meta: dict[str, Any]) -> tuple[list[str], torch.Tensor]:
    """The images, read as the model was trained on them: its channels and size, and
    its training split's normalization."""
    paths = _image_paths(inputs)
    shape = meta.get("input_shape")  # None: a model that takes any size, the images' own
    if shape is None:
        x = read_images(paths, OWNER)
    else:
        x = read_images(paths, OWNER, channels=shape[0], size=tuple(shape[1:]), resize=True)
    norm = meta.get("normalization") or {"scale": 255.0, "mean": [0.0], "std": [1.0]}
    return [str(p) for p in paths], standardize(x, norm)


def _graphs(inputs: list[str], per_node: bool) -> tuple[list[str], Any]:
    if len(inputs) != 1 or Path(inputs[0]).suffix != ".pt":
        raise UsageError(
            f"{OWNER}: INPUT must be one .pt file of graphs for this graph model (got "
            f"{' '.join(inputs)})"
        )
    path = Path(inputs[0])
    if not path.is_file():
        raise UsageError(f"{OWNER}: {path} must be a .pt file (found nothing)")
    content = torch.load(path, weights_only=False)  # the user's own pickled Data
    graphs = content if isinstance(content, (list, tuple)) else [content]
    if not graphs or not all(hasattr(g, "edge_index") for g in graphs):
        raise UsageError(
            f"{OWNER}: {path} must hold a list of PyG Data or one Data (found "
            f"{type(content).__name__})"
        )
    graphs = [with_features(g, f"{OWNER}: graph {i}") for i, g in enumerate(graphs)]
    if per_node:
        return [f"node {i}" for i in range(graphs[0].num_nodes)], graphs[0]
    return [f"{path}[{i}]" for i in range(len(graphs))], graphs


def predict(args: argparse.Namespace) -> list[dict[str, Any]]:
    """``gconv predict CHECKPOINT INPUT...``: one line per input, its name, the class
    and its probability; ``--out FILE.csv`` writes them too."""
    state = load_checkpoint(args.checkpoint)
    meta = state.get("meta") or {}
    model = rebuild(meta, args.checkpoint)
    load_weights(model, state["model"], OWNER)
    kind = KINDS[str(meta.get("input_kind") or getattr(model, "input_kind", "images"))]
    if kind.per_pixel:
        raise UsageError(
            f"{OWNER} classifies images, graphs and nodes; {meta['model']} predicts a class "
            "per pixel (see gconv explain)"
        )
    data: Any
    if kind.images or kind.pixel_grid:
        names, images = read_inputs(args.inputs, meta)
        data = images
        if kind.pixel_grid:  # the labels a loader wants; predict reads none
            data = GridGraphLoader(TensorDataset(images, torch.zeros(len(images))), 64)
    else:
        names, data = _graphs(args.inputs, kind.per_node)
    logits = Trainer(max_epochs=1, device=args.device, progress=False).predict(model, data)
    probability, label = logits.softmax(-1).max(-1)
    classes = meta.get("class_names")
    rows = [
        {
            "input": name,
            "class": classes[k] if classes else str(k),
            "probability": round(p, 6),
        }
        for name, k, p in zip(names, label.tolist(), probability.tolist(), strict=True)
    ]
    if args.out:  # first: a closed pipe on stdout loses no file
        save_atomic_csv(rows, args.out)
    for row in rows:
        print(f"{row['input']}\t{row['class']}\t{row['probability']:.4f}")
    return rows
