"""Every link of the README and the docs to a file of this repository leads to one: the
relative ones from the page's folder, the absolute ones (``.../blob/main/PATH``, which
the docs site needs for files outside ``docs/``) from the repository's root."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md")), REPO / "benchmarks/README.md"]
LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)\s]*)?\)")
OWN = "https://github.com/gconv/gconv/blob/main/"


def _targets() -> list[tuple[str, Path]]:
    found = []
    for page in PAGES:
        for match in LINK.finditer(page.read_text()):
            target = match.group(1)
            if target.startswith(OWN):
                path = REPO / target.removeprefix(OWN)
            elif "://" in target or target.startswith("mailto:"):
                continue  # another site's
            else:
                path = page.parent / target
            found.append((f"{page.relative_to(REPO)} -> {target}", path))
    return found


def test_the_pages_link_to_files() -> None:
    assert len(_targets()) > 20  # the pattern finds the pages' links


@pytest.mark.parametrize(("link", "path"), _targets(), ids=[w for w, _ in _targets()])
def test_a_link_leads_to_a_file(link: str, path: Path) -> None:
    assert path.exists(), f"{link}: no {path.relative_to(REPO)}"
