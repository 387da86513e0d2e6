"""The GPU path in one command: the trainer, loaders, layers, torchrun, resume and the
comparison's rows, each trained or compared on one device, one row each.

    python benchmarks/device_check.py --device cuda --out runs/device   # under 5 minutes
    python benchmarks/device_check.py --device cpu                      # shortened, CI

Each row prints what ran, the device, the dtype, its rate, the last loss, its rate over a
reference measured in the same run (a plain PyTorch loop, ``nn.Conv2d``, PyG's
``GCNConv``) where it has one, the peak device memory (on the CPU, the process's peak
resident memory so far) and pass, fail or skip. A row whose data is absent is skipped
and says why. The rows go to ``OUT/device_check.json`` (the runs behind them to
``OUT/work``, cleared at the start); the script exits 1 when a row fails.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sys
import time
from dataclasses import asdict
from pathlib import Path

# deterministic cuBLAS for the resume row; read when CUDA starts, so set before torch
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _device_rows import CHECKS, Context, MissingData, Row
from _timing import cpu


def peak_mib(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run_check(check, ctx: Context) -> list[dict]:  # type: ignore[no-untyped-def]
    """The rows of one check, each with its device and peak memory; a missing dataset
    skips the check's rows and any other error fails them, and the next check runs."""
    if ctx.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(ctx.device)
    rows: list[Row] = []
    name = check.__name__.removesuffix("_rows")
    try:
        for row in check(ctx):
            rows.append(row)
            _print(row, ctx, peak_mib(ctx.device))
    except MissingData as err:
        rows.append(Row(f"{name}: data absent", status="skip", note=str(err)))
        _print(rows[-1], ctx, None)
    except Exception as err:  # a failed check is a row, not the end
        message = str(err).strip().splitlines()[0][:200] if str(err).strip() else ""
        rows.append(Row(f"{name}: error", status="fail", note=f"{type(err).__name__}: {message}"))
        _print(rows[-1], ctx, None)
    peak = peak_mib(ctx.device)
    return [{**asdict(row), "device": str(ctx.device), "peak_mib": peak} for row in rows]


HEADER = f"{'what':<62} {'device':<6} {'dtype':<14} {'rate':>16} {'loss':>7} {'vs ref':>6}"
HEADER += f" {'peak MiB':>8} status"


def _print(row: Row, ctx: Context, peak: float | None) -> None:
    rate = f"{row.rate:,.1f} {row.unit}" if row.rate is not None else "-"
    loss = f"{row.loss:.3f}" if row.loss is not None else "-"
    ratio = f"{row.vs_reference:.2f}" if row.vs_reference is not None else "-"
    memory = f"{peak:,.0f}" if peak is not None else "-"
    print(
        f"{row.what:<62} {ctx.device.type:<6} {row.dtype:<14} {rate:>16} {loss:>7} {ratio:>6} "
        f"{memory:>8} {row.status}" + (f"  ({row.note})" if row.note else ""),
        flush=True,
    )


def machine(device: torch.device) -> dict[str, str]:
    info = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpu_threads": str(torch.get_num_threads()),
        "cpu": cpu(),
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
        info["gpus"] = str(torch.cuda.device_count())
        info["cuda"] = str(torch.version.cuda)
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = "cuda" if torch.cuda.is_available() else "cpu"
    parser.add_argument("--device", choices=("cuda", "cpu"), default=default)
    parser.add_argument("--out", default="runs/device_check", help="folder of the results")
    parser.add_argument("--root", default=None, help="data root (default: $GCONV_DATA)")
    parser.add_argument(
        "--only", default=None, help="comma-separated checks, e.g. image,resume (default: all)"
    )
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        print("device_check: --device cuda, but torch sees no CUDA device", file=sys.stderr)
        return 2
    names = {c.__name__.removesuffix("_rows"): c for c in CHECKS}
    chosen = list(names) if args.only is None else args.only.split(",")
    unknown = [n for n in chosen if n not in names]
    if unknown:
        print(f"device_check: --only takes {', '.join(names)} (got {unknown})", file=sys.stderr)
        return 2
    out = Path(args.out)
    work = out / "work"  # checkpoints and runs of this run only: a rerun starts afresh
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    device = torch.device(args.device)
    ctx = Context(device, short=device.type == "cpu", root=args.root, out=work)
    start = time.perf_counter()
    print(HEADER)
    rows = [row for name in chosen for row in run_check(names[name], ctx)]
    seconds = time.perf_counter() - start
    failed = [row["what"] for row in rows if row["status"] == "fail"]
    report = {
        "date": time.strftime("%Y-%m-%d"),
        "device": str(device),
        "shortened": ctx.short,
        "machine": machine(device),
        "seconds": seconds,
        "rows": rows,
        "failed": failed,
    }
    (out / "device_check.json").write_text(json.dumps(report, indent=2) + "\n")
    skipped = sum(row["status"] == "skip" for row in rows)
    print(
        f"{len(rows)} rows in {seconds:.0f} s: {len(rows) - len(failed) - skipped} pass, "
        f"{len(failed)} fail, {skipped} skipped; {out / 'device_check.json'}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
