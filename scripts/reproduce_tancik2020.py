"""Reproduce Table 1 (2D image regression) of Tancik et al. 2020 (arXiv 2006.10739).

Usage::

    python scripts/reproduce_tancik2020.py DATA_DIR --budget cpu|paper|gpu-paper --out DIR [--device cuda]
        [--sigma-search] [--workers N] [--set KEY=VALUE ...]

The experiment is :mod:`coordnet.experiments.tancik2020` (protocol, budgets, claims). The hidden
flags ``--images N``, ``--steps N``, ``--resolution N`` are kept as shorthands for
``--set images=N`` etc.; ``--crop`` (the former variance-selected window) is refused.
"""

from __future__ import annotations

import sys
from typing import List, Optional, Sequence

from coordnet.experiments.tancik2020 import main as experiment_main

SHORTHANDS = ("--images", "--steps", "--resolution")


def translate(argv: Sequence[str]) -> List[str]:
    """``argv`` with ``--images N`` (and ``--steps``, ``--resolution``) rewritten as ``--set images=N``."""
    out: List[str] = []
    items = list(argv)
    i = 0
    while i < len(items):
        item = items[i]
        flag, _, value = item.partition("=")
        if flag in SHORTHANDS:
            if not value:
                i += 1
                value = items[i] if i < len(items) else ""
            out += ["--set", f"{flag[2:]}={value}"]
        elif flag == "--crop":
            out += ["--set", "crop=" + (value or (items[i + 1] if i + 1 < len(items) else ""))]
            i += 0 if value else 1
        else:
            out.append(item)
        i += 1
    return out


def main(argv: Optional[Sequence[str]] = None) -> int:
    return experiment_main(translate(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
