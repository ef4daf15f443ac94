"""The ```python blocks of a Markdown page, in order, with the pages' skip markers.

A block directly preceded by the line ``<!-- docs-test: skip (reason) -->`` is shown, not run;
one preceded by ``<!-- docs-test: slow (reason) -->`` runs only in the slow run of its page
(``make docs-test``), for examples that take a minute at their documented sizes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
_MARKER = re.compile(r"<!--\s*docs-test:\s*(skip|slow)\b\s*(.*?)\s*-->\s*$")


@dataclass(frozen=True)
class CodeBlock:
    """One fenced Python block: its source, its first line in the file, why it is skipped
    (``None`` when it runs) and whether it runs only in the slow run."""

    source: str
    line: int
    skip: str | None
    slow: bool = False


def pages() -> list[Path]:
    """The documentation pages whose code runs as tests: ``docs/*.md`` and ``README.md``."""
    return sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]


def code_blocks(text: str) -> list[CodeBlock]:
    """Every ```python block of Markdown ``text`` in order (a skip marker is the last non-blank
    line before the fence)."""
    blocks = []
    for match in _FENCE.finditer(text):
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = _MARKER.search(before)
        kind = marker.group(1) if marker else None
        line = text.count("\n", 0, match.start()) + 2
        reason = (marker.group(2).strip("() ") or "marked skip") if kind == "skip" else None
        blocks.append(CodeBlock(match.group(1), line, reason, slow=kind == "slow"))
    return blocks
