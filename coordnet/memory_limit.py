"""Memory limit: estimate a job's bytes before allocating, refuse what cannot fit.

Jobs (a fit, a render, a resize of an image) add up what they are about to allocate and call
:func:`check_memory`, which raises a one-line :class:`MemoryLimitError` with the estimate
when it exceeds :func:`memory_limit` (the machine's physical memory), instead of failing
later with the allocator's raw message or being killed by the operating system.
"""

from __future__ import annotations

import os
from typing import Optional

#: Environment variable that lowers (or raises) the limit, in bytes.
LIMIT_VARIABLE = "COORDNET_MAX_MEMORY"


class MemoryLimitError(ValueError):
    """An allocation would need more memory than the limit allows."""


def format_bytes(n: float) -> str:
    """``1536 -> '1.5 KiB'``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"  # pragma: no cover


def physical_memory() -> Optional[int]:
    """Bytes of physical memory, or ``None`` where unknown."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def memory_limit() -> Optional[int]:
    """The byte limit of :func:`check_memory`: ``$COORDNET_MAX_MEMORY`` if set (a positive
    integer), else the physical memory (``None`` where unknown: nothing is refused)."""
    text = os.environ.get(LIMIT_VARIABLE)
    if text:
        try:
            value = int(text)
        except ValueError:
            value = 0
        if value < 1:
            raise ValueError(f"{LIMIT_VARIABLE} must be a positive number of bytes, got {text!r}")
        return value
    return physical_memory()


def check_memory(what: str, nbytes: float, details: str = "", limit: Optional[int] = None) -> None:
    """Raise :class:`MemoryLimitError` when ``nbytes`` exceeds ``limit`` (default :func:`memory_limit`).

    ``what`` names the job and the option that sized it (``"--size 100000: the image"``),
    ``details`` breaks the estimate down; both appear in the one-line message.
    """
    limit = memory_limit() if limit is None else limit
    if limit is None or nbytes <= limit:
        return
    source = f"${LIMIT_VARIABLE}" if os.environ.get(LIMIT_VARIABLE) else "this machine's memory"
    breakdown = f" ({details})" if details else ""
    raise MemoryLimitError(
        f"{what} needs about {format_bytes(nbytes)}{breakdown}, more than {source} "
        f"({format_bytes(limit)})"
    )


#: The most runs one job (a sweep, a compare) expands to: each run is a fit with its own
#: folder, so more than this is a typo (a grid of thousands of values, a seed count of 10^9).
MAX_RUNS = 10_000


def check_run_count(what: str, count: int, limit: int = MAX_RUNS) -> int:
    """``count`` when it is at most ``limit``, else a one-line ``ValueError`` with the count and
    ``what`` (how it was reached, e.g. ``"3 models x --seeds 1000000000"``). Call it before
    expanding the runs."""
    if count > limit:
        raise ValueError(
            f"{what} makes {count:,} runs, more than the {limit:,} one job may run; "
            "split it into smaller jobs"
        )
    return count


__all__ = [
    "LIMIT_VARIABLE",
    "MAX_RUNS",
    "check_run_count",
    "MemoryLimitError",
    "check_memory",
    "format_bytes",
    "memory_limit",
    "physical_memory",
]
