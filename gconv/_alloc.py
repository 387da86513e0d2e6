"""The C allocator's settings for training on the CPU.

glibc serves every allocation above its mmap threshold (128 KiB, raised dynamically up
to 32 MiB) with a fresh ``mmap``, and returns freed memory at the top of the heap to the
system. A training step allocates the same large activations every step, so each one
page-faults anew: on the comparison's pixel-grid rows a third of the time went to
elementwise ops writing into fresh pages. Keeping freed memory in the process (no mmap
for large blocks, no trimming) reuses the pages instead. Only an entry point that owns
the process calls this.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_MAX = -4


def tune_allocator() -> bool:
    """Large blocks from the heap, freed memory kept; ``False`` where the C library is
    not glibc (the settings are glibc's) and nothing was changed."""
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    ok = mallopt(M_MMAP_MAX, 0) == 1
    ok &= mallopt(M_TRIM_THRESHOLD, 2**31 - 1) == 1  # as large as the int allows
    ok &= mallopt(M_TOP_PAD, 64 << 20) == 1  # grow the heap in 64 MiB steps
    return bool(ok)
