"""``gconv list``, ``gconv summary MODEL`` and ``gconv explain CHECKPOINT IMAGE_INDEX``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import torch

from gconv.cli._common import UsageError, folder
from gconv.cli.predict import read_inputs, rebuild
from gconv.cli.train import for_model
from gconv.convert import images_to_graphs
from gconv.data import IGNORE_INDEX, LoadedDataset, list_datasets, load_dataset
from gconv.data.kinds import KINDS
from gconv.models import build_model, fits, list_models, model_entry, summary
from gconv.models._registry import INPUT_KINDS
from gconv.train import load_checkpoint, segmentation_scores
from gconv.train.checkpoint import load_weights
from gconv.train.segmentation import confusion_matrix
from gconv.viz import (
    conv_layers,
    feature_maps,
    plot_feature_maps,
    plot_filters,
    plot_image,
    plot_masks,
)


def list_all(args: argparse.Namespace) -> None:
    """``gconv list``: datasets and models."""
    print("datasets:", ", ".join(list_datasets()))
    print("models:  ", ", ".join(list_models()))


def summarize(args: argparse.Namespace) -> None:
    """``gconv summary MODEL``: the layer table of an image model."""
    try:
        shape = tuple(int(s) for s in args.input.split(","))
    except ValueError:
        raise UsageError(f"--input must be C,H,W like 1,28,28 (got {args.input!r})") from None
    if len(shape) != 3:
        raise UsageError(f"--input must be C,H,W like 1,28,28 (got {args.input!r})")
    kind = "images" if fits(args.model, "images") else "images_dense"
    if not fits(args.model, kind):
        takes = model_entry(args.model).inputs
        raise UsageError(
            f"summary takes a model of images (classification or segmentation); "
            f"{args.model} takes {' or '.join(INPUT_KINDS[k] for k in takes)}"
        )
    model = build_model(
        args.model,
        in_channels=shape[0],
        num_classes=args.num_classes,
        input_shape=shape,
        input_kind=kind,
    )
    print(summary(model, shape, depth=args.depth))


def explain(args: argparse.Namespace) -> None:
    """``gconv explain CHECKPOINT IMAGE``: feature maps of one test image (by index) or
    image file, or for a segmentation model test images, their true and predicted
    masks."""
    state = load_checkpoint(args.checkpoint)
    if args.out is None:  # beside the run it explains, as the run's own plots are
        args.out = str(Path(args.checkpoint).parent / "explain")
    meta = state.get("meta") or {}
    model = rebuild(meta, args.checkpoint)  # one line where the meta names no model
    if not args.index.lstrip("-").isdigit():  # an image file: the checkpoint alone
        _explain_file(args, meta, model, state["model"])
        return
    args.index = int(args.index)
    dataset = for_model(meta["model"], load_dataset(meta["dataset"], root=args.root))
    kind = KINDS[dataset.input_kind]
    if not (kind.images or kind.per_pixel):
        raise UsageError(
            f"explain shows image models and segmentation ({meta['dataset']} is neither)"
        )
    model.load_state_dict(state["model"])
    model.eval()
    if not 0 <= args.index < len(dataset.test):
        raise UsageError(f"IMAGE_INDEX must be in [0, {len(dataset.test)}) (got {args.index})")
    out = folder(args.out, "--out")
    if kind.per_pixel:
        _explain_masks(args, dataset, model)
        return
    image, label = dataset.test[args.index]
    predicted = _draw(args, model, image, out, f"label {int(label)}, ", None)
    print(f"test image {args.index}: label {int(label)}, predicted {predicted}")
    _wrote(args, model, out)


def _draw(
    args: argparse.Namespace,
    model: torch.nn.Module,
    image: torch.Tensor,
    out: Path,
    prefix: str,
    classes: Any,
) -> str:
    """The feature maps, filters and input of one image; the predicted class."""
    layers = args.layers.split(",") if args.layers else conv_layers(model)[:4]
    plot_feature_maps(feature_maps(model, image, layers), out)
    plot_filters(model, out / "filters.png")
    with torch.no_grad():
        probs = model(image.unsqueeze(0)).softmax(-1)[0]
    k, confidence = int(probs.argmax()), float(probs.max())
    predicted = classes[k] if classes else str(k)
    plot_image(image, f"{prefix}predicted {predicted} ({confidence:.2f})", out / "input.png")
    return f"{predicted} ({confidence:.4f})" if classes else predicted


def _wrote(args: argparse.Namespace, model: torch.nn.Module, out: Path) -> None:
    layers = args.layers.split(",") if args.layers else conv_layers(model)[:4]
    print(f"wrote {out}/input.png, filters.png and feature maps of {', '.join(layers)}")


def _explain_file(
    args: argparse.Namespace, meta: dict[str, Any], model: torch.nn.Module, weights: Any
) -> None:
    """Feature maps of an image file, read as the model was trained (``gconv predict``)."""
    kind = meta.get("input_kind") or getattr(model, "input_kind", None)
    if kind != "images":  # feature maps are traced from a model of image tensors
        raise UsageError(f"explain IMAGE takes a model of images (this one takes {kind})")
    load_weights(model, weights, "explain")
    model.eval()
    names, images = read_inputs([args.index], meta)
    out = folder(args.out, "--out")
    predicted = _draw(args, model, images[0], out, "", meta.get("class_names"))
    print(f"{names[0]}: predicted {predicted}")
    _wrote(args, model, out)


def _explain_masks(
    args: argparse.Namespace, dataset: LoadedDataset, model: torch.nn.Module
) -> None:
    """Test images ``index`` onwards (``--count``) with their true and predicted masks."""
    stop = min(args.index + args.count, len(dataset.test))
    images, masks = (
        torch.stack(t)
        for t in zip(*(dataset.test[i] for i in range(args.index, stop)), strict=True)
    )
    with torch.no_grad():
        if KINDS[dataset.input_kind].pixel_grid:  # one node per pixel, row-major
            b, _, h, w = images.shape
            logits = model(images_to_graphs(images)).view(b, h, w, -1).permute(0, 3, 1, 2)
        else:
            logits = model(images)
    predicted = logits.argmax(1)
    titles = []
    for i in range(len(images)):
        counts = confusion_matrix(predicted[i], masks[i], dataset.num_classes, IGNORE_INDEX)
        titles.append(f"test {args.index + i}: IoU {segmentation_scores(counts)['mean_iou']:.2f}")
    path = folder(args.out, "--out") / "masks.png"
    plot_masks(images, masks, predicted, dataset.num_classes, path, titles=titles)
    print("; ".join(titles))
    print(f"wrote {path}")
