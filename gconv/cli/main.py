"""The ``gconv`` command's parser and entry point: every mistake is one line on stderr.

A mistake is a :class:`gconv.errors.GconvError` (a wrong flag, argument, input or file,
each named by gconv's own checks) or the file system's refusal (``OSError``); any other
exception is a bug and keeps its traceback."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from gconv.cli._common import UsageError
from gconv.cli.compare import compare
from gconv.cli.inspect import explain, list_all, summarize
from gconv.cli.predict import predict
from gconv.cli.train import SAMPLED_BATCH, train
from gconv.compare.experiments import EXPERIMENTS
from gconv.data import list_datasets
from gconv.errors import GconvError
from gconv.models import list_models
from gconv.train import distributed


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gconv", description="Grid and graph convolutions.")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train a model on a dataset and report test accuracy")
    t.add_argument(
        "dataset",
        metavar="SOURCE",
        help=f"a dataset ({', '.join(list_datasets())}), or your own: a folder of images "
        "(one subfolder per class) or a .pt file of PyG graphs",
    )
    t.add_argument("model", choices=list_models())
    t.add_argument("--epochs", type=int, help="epochs (default: the dataset's recipe)")
    t.add_argument("--lr", type=float, help="learning rate")
    t.add_argument("--batch-size", type=int, help="batch size")
    t.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    t.add_argument("--seeds", type=int, default=1, help="repeat with seeds seed..seed+N-1")
    t.add_argument("--folds", type=int, help="k-fold cross-validation instead of seeds")
    t.add_argument("--device", default="auto", help="auto, cpu, cuda, mps")
    t.add_argument(
        "--out",
        help="output folder (default runs/DATASET-MODEL, with --quick runs/DATASET-MODEL-quick)",
    )
    t.add_argument(
        "--restart",
        action="store_true",
        help="train every seed afresh (default: resume the checkpoints --out holds)",
    )
    t.add_argument("--root", help="data root (default $GCONV_DATA, else ./datasets)")
    t.add_argument("--quick", action="store_true", help="a smoke test: few epochs, less data")
    t.add_argument("--no-progress", action="store_true", help="no progress bars")
    t.add_argument(
        "--sampled",
        action="store_true",
        help=f"node datasets: mini-batches of sampled neighbourhoods ({SAMPLED_BATCH} seeds)",
    )
    t.add_argument("--num-neighbors", default="10,5", help="fan-out per hop of --sampled")
    sub.add_parser("list", help="list datasets and models")
    s = sub.add_parser("summary", help="layer table of a model: shapes, parameters, FLOPs")
    s.add_argument("model", choices=list_models())
    s.add_argument("--input", default="3,224,224", help="C,H,W of one image (default 3,224,224)")
    s.add_argument("--num-classes", type=int, default=10)
    s.add_argument("--depth", type=int, default=2, help="nesting depth of the rows shown")
    c = sub.add_parser(
        "compare", help="a CNN against graph networks on images, one parameter budget"
    )
    c.add_argument(
        "--task",
        choices=tuple(EXPERIMENTS),
        default="classification",
        help="; ".join(f"{name}: {e.help}" for name, e in EXPERIMENTS.items()),
    )
    c.add_argument(
        "--dataset",
        metavar="SOURCE",
        help="classification data: mnist (default), a registered dataset, or your own folder "
        "of images (one subfolder per class)",
    )
    c.add_argument("--rows", help="comma-separated row ids (default: the default rows; see --list)")
    c.add_argument(
        "--list", action="store_true", help="print the row ids (default rows first) and stop"
    )
    c.add_argument("--budget", type=int, help="parameters per model (default 100,000)")
    c.add_argument(
        "--epochs",
        type=int,
        help="epochs for every row (default: MNIST's validated count; on other data, until "
        "validation stops improving)",
    )
    c.add_argument("--seeds", type=int, help="seeds 0..N-1 for every row (default 3)")
    c.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="worker processes training seeds in parallel, cores // N threads each",
    )
    c.add_argument(
        "--amp", action="store_true", help="bfloat16 autocast on the CPU (part of the protocol)"
    )
    c.add_argument(
        "--quick",
        action="store_true",
        help="a smoke test of every row: 1 epoch on 600 images (100 canvases)",
    )
    c.add_argument(
        "--out",
        help="output folder, resumed from what it has (default runs/compare, or "
        "runs/compare-segmentation)",
    )
    c.add_argument("--root", help="data root (default $GCONV_DATA, else ./datasets)")
    c.add_argument("--no-progress", action="store_true", help="no progress bars")
    e = sub.add_parser(
        "explain",
        help="feature maps of a trained image model for one image, or predicted masks",
    )
    e.add_argument("checkpoint", help="a best.pt of 'gconv train' or ModelCheckpoint")
    e.add_argument(
        "index",
        metavar="IMAGE",
        help="an index into the test split of the checkpoint's dataset, or an image file",
    )
    e.add_argument("--out", help="output folder (default: explain/ beside the checkpoint)")
    e.add_argument("--layers", help="comma-separated module names (default: first 4 convs)")
    e.add_argument("--root", help="data root (default $GCONV_DATA, else ./datasets)")
    e.add_argument(
        "--count", type=int, default=4, help="segmentation: test images drawn from IMAGE_INDEX"
    )
    r = sub.add_parser("predict", help="the class of new images or graphs, from a checkpoint")
    r.add_argument("checkpoint", help="a best.pt or last.pt of 'gconv train' or ModelCheckpoint")
    r.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="image files, folders of images, or a .pt file"
    )
    r.add_argument("--out", help="also write the predictions to this CSV file")
    r.add_argument("--device", default="auto", help="auto, cpu, cuda, mps")
    return p


COMMANDS: dict[str, Callable[[argparse.Namespace], Any]] = {
    "train": train,
    "list": list_all,
    "summary": summarize,
    "compare": compare,
    "explain": explain,
    "predict": predict,
}


def _say(err: BaseException) -> None:
    """One line on stderr, never a traceback."""
    print(f"gconv: {' '.join(str(err).split())}", file=sys.stderr)


def _warn(message: Warning | str, category: type[Warning], *_: Any, **__: Any) -> None:
    """A warning as one line on stderr, like an error: no file name, no source line."""
    print(f"gconv: warning: {' '.join(str(message).split())}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    # the process is ours: torch's deprecation notices about its own internals are noise
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"torch(_geometric)?\b")
    warnings.showwarning = _warn
    args = parser().parse_args(argv)
    if os.environ.get("RANK", "0") != "0":  # under torchrun, rank 0 alone prints
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
    distributed.stop_on_sigterm()
    try:
        COMMANDS[args.command](args)
    except UsageError as err:
        _say(err)
        return 2
    except (GconvError, OSError) as err:  # a user's mistake, or the file system's refusal
        if os.environ.get("GCONV_DEBUG"):  # the full traceback, for reporting a bug
            raise
        _say(err)  # gconv's own checks name the argument, what was expected and what came
        return 2
    except KeyboardInterrupt:
        _say(KeyboardInterrupt("interrupted"))
        return 130
    except distributed.Stopped as err:  # under torchrun: the launcher stops every rank
        _say(err)
        return 128 + signal.SIGTERM
    except RuntimeError as err:
        lost = distributed.peer_failure(err)  # under torchrun: another rank ended
        if lost is None or os.environ.get("GCONV_DEBUG"):
            raise  # a bug: its traceback, for the report
        _say(RuntimeError(lost))
        return 1
    finally:
        distributed.end_stop_on_sigterm()  # its line is said: a later SIGTERM ends it quietly
        distributed.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
