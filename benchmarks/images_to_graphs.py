"""images_to_graphs on MNIST-sized batches: images per second, against a plain copy.

    python benchmarks/images_to_graphs.py [--batch 256]

The reference is ``images.clone()``, a plain tensor copy of the same image bytes,
measured in the same run.
"""

from __future__ import annotations

import argparse

import torch
from _timing import compare, machine

from gconv.convert import images_to_graphs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    images = torch.rand(args.batch, 1, 28, 28)
    labels = torch.randint(0, 10, (args.batch,))
    times = compare(
        {
            "images.clone()": lambda: images.clone(),
            "images_to_graphs(images, labels)": lambda: images_to_graphs(images, labels),
        },
        rounds=args.rounds,
        repeats=50,
    )
    print(f"machine: {machine()}")
    print(f"batches of {args.batch} images of 1x28x28")
    for name, seconds in times.items():
        print(f"{name:34s} {seconds * 1e6:9.1f} us/batch {args.batch / seconds:14,.0f} images/s")
    copy, ours = times.values()
    print(f"ratio images_to_graphs / copy: {ours / copy:.2f}")


if __name__ == "__main__":
    main()
