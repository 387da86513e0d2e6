"""``gconv compare``: a CNN against graph networks at one parameter budget."""

from __future__ import annotations

import argparse
from pathlib import Path

from gconv._io import run_lock
from gconv.cli._common import UsageError, folder


def compare(args: argparse.Namespace) -> None:
    """``gconv compare [--task segmentation] [--dataset SOURCE]``: a CNN against graph
    networks on MNIST (or mnist_seg, or the user's own images), one parameter budget."""
    from gconv._alloc import tune_allocator
    from gconv.compare import Protocol, row_ids, run_compare

    ids = row_ids(args.task, extra=True)
    if args.list:
        default = row_ids(args.task)
        print("\n".join(i if i in default else f"{i}  (not in the default run)" for i in ids))
        return
    rows = args.rows.split(",") if args.rows else None
    if rows and (unknown := [r for r in rows if r not in ids]):
        raise UsageError(f"--rows must be from {', '.join(ids)} (got {', '.join(unknown)})")
    overrides = {}
    if args.jobs < 1:
        raise UsageError(f"--jobs must be >= 1 (got {args.jobs})")
    for flag in ("budget", "epochs", "seeds"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            raise UsageError(f"--{flag} must be >= 1 (got {value})")
        if value is not None:
            overrides[flag] = value
    if args.quick:
        overrides.setdefault("epochs", 1)
    own = Protocol.for_task(args.task)
    if args.dataset is not None and args.dataset != own.dataset:
        if not own.experiment.any_data:
            raise UsageError(
                f"--dataset takes image classification data; --task {args.task} compares "
                f"{own.dataset} only"
            )
        overrides["dataset"] = args.dataset
    protocol = Protocol.for_task(args.task, quick=args.quick, amp=args.amp, **overrides)
    out = args.out or protocol.experiment.out
    if args.out is None and not protocol.own_data:  # runs/compare-pets: its own folder
        out += "-" + Path(protocol.dataset.rstrip("/\\")).name
    folder(out, "--out")
    tune_allocator()  # this process's, and each worker's: see gconv._alloc
    with run_lock(out, "gconv compare"):  # one run per folder; its workers write under it
        run_compare(
            protocol,
            rows=rows,
            out=out,
            root=args.root,
            progress=not args.no_progress,
            jobs=args.jobs,
        )
    print(f"wrote {out}/compare.json, compare.md, compare.png")
