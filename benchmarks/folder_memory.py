"""Resident memory of loading a folder of 50,000 32x32 RGB images with load_dataset.

Writes the folder once (10 classes of random PNGs) under a temporary directory, then
measures the peak resident set size of two fresh processes: one that imports gconv
(the reference: torch's own footprint) and one that also loads the folder. It prints
both, the difference, and the size of the images' bytes, the form the splits keep
(``gconv.data.ImageSplit`` standardizes each batch as it is drawn).

    python benchmarks/folder_memory.py [--images 50000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

MEASURE = (
    "import resource, sys, gconv\n"
    "if sys.argv[1] != '-': gconv.data.load_dataset(sys.argv[1])\n"
    "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"  # KiB on Linux
)


def write_folder(root: Path, images: int, classes: int = 10) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    for i in range(images):
        folder = root / f"class{i % classes}"
        folder.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{i}.png")


def peak_mib(argument: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, argument], capture_output=True, text=True, check=True
    ).stdout
    return int(out.split()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=50_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        write_folder(Path(tmp), args.images)
        base, loaded = peak_mib("-"), peak_mib(tmp)
    size = args.images * 3 * 32 * 32 / 2**20
    print(f"{args.images} images of 3x32x32 in {tmp}")
    print(f"import gconv:               {base:7.0f} MiB peak resident")
    print(f"import gconv, load folder:  {loaded:7.0f} MiB peak resident")
    own = loaded - base
    print(f"loading's own:              {own:7.0f} MiB (the images' bytes: {size:.0f} MiB)")


if __name__ == "__main__":
    main()
