"""Every Python block of the README and the docs runs alone, as a reader pastes it: in a
fresh interpreter, in an empty folder, with no data folder unless the real one is set."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def _blocks() -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        text = page.read_text()
        for match in BLOCK.finditer(text):
            line = text[: match.start()].count("\n") + 1
            found.append((f"{page.relative_to(REPO)}:{line}", match.group(1)))
    return found


@pytest.mark.slow
@pytest.mark.parametrize(("where", "code"), _blocks(), ids=[w for w, _ in _blocks()])
def test_the_block_runs_alone(where: str, code: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "GCONV_DATA"}  # no data folder
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, f"{where}:\n{result.stderr[-2000:]}"
