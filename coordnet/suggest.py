"""The nearest valid name to a misspelt one, for error messages (``unknown key 'n_level'; did you
mean 'n_levels'?``)."""

from __future__ import annotations

import difflib
from typing import Iterable, Optional


def nearest_name(name: str, choices: Iterable[str], cutoff: float = 0.6) -> Optional[str]:
    """The entry of ``choices`` closest to ``name`` (difflib's ratio, case-insensitive, at least
    ``cutoff``), or ``None`` when none is close."""
    options = list(choices)
    lowered = {c.lower(): c for c in options}
    match = difflib.get_close_matches(str(name).lower(), list(lowered), n=1, cutoff=cutoff)
    return lowered[match[0]] if match else None


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the nearest of ``choices`` to ``name``, else ``""``."""
    match = nearest_name(name, choices)
    return f"; did you mean {match!r}?" if match is not None else ""


__all__ = ["did_you_mean", "nearest_name"]
