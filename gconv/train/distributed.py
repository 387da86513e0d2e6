"""Data-parallel training on ``torch.distributed``, as ``torchrun`` launches it.

Under ``torchrun`` (``WORLD_SIZE`` and friends in the environment) the trainer joins the
process group (gloo on the CPU, nccl on CUDA, one GPU per local rank), wraps the model in
``DistributedDataParallel``, shards datasets with ``DistributedSampler`` and all-reduces
its training sums, so that every rank reports the same figures; rank 0 alone writes
files and draws progress bars. Without ``torchrun`` all of this is a no-op.
"""

from __future__ import annotations

import os
import signal
from types import FrameType
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.utils.data import DistributedSampler


def launched() -> bool:
    """Whether this process was started by ``torchrun`` (or another launcher that sets
    the ``env://`` variables)."""
    return "WORLD_SIZE" in os.environ and "RANK" in os.environ


def active() -> bool:
    return dist.is_available() and dist.is_initialized()


def world_size() -> int:
    return dist.get_world_size() if active() else 1


def rank() -> int:
    return dist.get_rank() if active() else 0


def is_main() -> bool:
    """Rank 0, or the only process: the one that writes files and prints."""
    return rank() == 0


def setup(device: torch.device) -> torch.device:
    """Joins the process group when launched by ``torchrun``; returns this rank's device
    (``cuda:LOCAL_RANK`` on CUDA)."""
    if not launched():
        return device
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        torch.cuda.set_device(device)
    if not active():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return device


def wrap(model: nn.Module, device: torch.device) -> nn.Module:
    """``model`` in ``DistributedDataParallel`` when more than one rank trains, else as it is."""
    if not (active() and world_size() > 1):
        return model
    ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids)


def shutdown() -> None:
    """Leaves the process group, if this process joined one."""
    if active():
        dist.destroy_process_group()


def all_reduce_sum(tensor: Tensor) -> Tensor:
    """``tensor`` summed over ranks (in place), or as it is in one process."""
    if active() and world_size() > 1:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def shard_sampler(dataset: Any, *, shuffle: bool, seed: int) -> DistributedSampler[Any]:
    """This rank's share of ``dataset``; rank ``r`` takes every ``world``-th index of one
    seeded permutation, so the ranks' batches together are the batches one process of
    ``world`` times the batch size would see."""
    return DistributedSampler(
        dataset, num_replicas=world_size(), rank=rank(), shuffle=shuffle, seed=seed
    )


def peer_failure(err: BaseException) -> str | None:
    """One line for a collective that failed under ``torchrun`` because another rank
    ended (killed, out of memory, its own error), or ``None`` for any other error. The
    surviving ranks see gloo's or nccl's own multi-line report, which names no cause."""
    if not launched() or not isinstance(err, RuntimeError):
        return None
    distributed_error = getattr(dist, "DistError", ())
    text = " ".join(str(err).split())
    if not isinstance(err, distributed_error) and not any(
        word in text.lower() for word in ("gloo", "nccl", "connection", "peer", "socket")
    ):
        return None
    return (
        f"{_this_rank()}: a collective failed, so another rank has most likely ended (see "
        f"its own message) ({text[:160]})"
    )


def _this_rank() -> str:
    """``rank R of W``, as torchrun's environment names this process."""
    return f"rank {os.environ.get('RANK', '?')} of {os.environ.get('WORLD_SIZE', '?')}"


class Stopped(BaseException):
    """Raised in a rank that its launcher stopped with ``SIGTERM``: ``torchrun`` stops
    every rank so when one of them ends, often before the survivors' collectives fail."""


def stop_on_sigterm() -> None:
    """Under ``torchrun``, turns ``SIGTERM`` into :class:`Stopped`, so that a rank the
    launcher stops says why in one line instead of vanishing without a word."""
    if not launched():
        return

    def stop(signum: int, frame: FrameType | None) -> None:
        raise Stopped(
            f"{_this_rank()}: stopped by the launcher (SIGTERM), so another rank has most "
            "likely ended (see its own message)"
        )

    signal.signal(signal.SIGTERM, stop)


def end_stop_on_sigterm() -> None:
    """Once the rank has said its line: a later ``SIGTERM`` (torchrun's, which may come
    while the interpreter shuts down) ends the process as ``SIGTERM`` does, quietly,
    instead of raising :class:`Stopped` where nothing catches it."""
    if launched():
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
