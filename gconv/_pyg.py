"""Imports PyG once, quietly: its import trips torch's own deprecation of
``torch.jit.script`` (a FutureWarning about torch internals, not the user's to act on).

The filter lives only inside the import (``catch_warnings``), so gconv changes no global
warning state; every later gconv module finds PyG already imported.
"""

import warnings

with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message=r"`torch\.jit\.script` is deprecated", category=FutureWarning
    )
    import torch_geometric

__all__ = ["torch_geometric"]
