"""Working memory of region counting: an estimate before allocating, and the limit it is held to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from coordnet.memory_limit import format_bytes, physical_memory  # noqa: F401  (re-exported)
from coordnet.validation import check_count

GIB = 2**30
#: Default ``max_memory``: half the physical memory, at most 8 GiB.
DEFAULT_MAX_MEMORY_CAP = 8 * GIB
#: Bytes per sample taken by :func:`coordnet.ops.unique_patterns` besides the inverse ids, in
#: the worst case of every sample in its own region: row hashes (8), the open-addressing
#: table at load 1/4..1/2 while it grows (old and new tables alive: 96) and the first-row
#: list (16). With few regions the kernel needs about 8.
UNIQUE_BYTES_PER_SAMPLE = 120
#: Chunk rows × widest layer aimed at by :func:`default_chunk` (8 MiB of float32).
CHUNK_ELEMENTS = 2**21
MIN_CHUNK, MAX_CHUNK = 1024, 16384


class RegionMemoryError(ValueError):
    """Counting regions of this many samples would need more memory than allowed."""

    def __init__(self, estimate: "MemoryEstimate", limit: int) -> None:
        super().__init__(
            f"counting regions of {estimate.samples} samples needs about {format_bytes(estimate.total)} "
            f"({estimate.describe()}), more than max_memory={format_bytes(limit)}; use fewer samples "
            "(a coarser grid) or raise max_memory"
        )
        self.estimate = estimate
        self.limit = limit


def default_max_memory() -> int:
    """Half the physical memory, capped at :data:`DEFAULT_MAX_MEMORY_CAP` (8 GiB)."""
    total = physical_memory()
    return DEFAULT_MAX_MEMORY_CAP if total is None else min(DEFAULT_MAX_MEMORY_CAP, total // 2)


def default_chunk(max_width: int) -> int:
    """Rows per chunk so that ``rows × max_width`` is about 2²¹ elements, within [1024, 16384]."""
    return int(min(MAX_CHUNK, max(MIN_CHUNK, CHUNK_ELEMENTS // max(max_width, 1))))


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes needed to count regions of ``samples`` points (all fields in bytes but ``samples``).

    Attributes:
        samples: number of points ``N``.
        packed: the packed patterns ``(N, words)`` int64.
        ids: the region id of every sample ``(N,)`` int64.
        unique: the deduplication's own work arrays (an upper estimate: every sample its own region).
        chunk: the per-chunk float buffers (input, encoded input, two layer buffers).
        extra: anything else the caller allocates per sample (e.g. a grid map's boundary mask).
    """

    samples: int
    packed: int
    ids: int
    unique: int
    chunk: int
    extra: int = 0

    @property
    def total(self) -> int:
        return self.packed + self.ids + self.unique + self.chunk + self.extra

    def describe(self) -> str:
        parts = [
            f"packed patterns {format_bytes(self.packed)}",
            f"region ids {format_bytes(self.ids)}",
            f"deduplication {format_bytes(self.unique)}",
            f"chunk buffers {format_bytes(self.chunk)}",
        ]
        if self.extra:
            parts.append(f"maps {format_bytes(self.extra)}")
        return ", ".join(parts)


def estimate_memory(
    samples: int,
    num_words: int,
    *,
    chunk: int,
    max_width: int,
    input_width: int,
    in_dim: int,
    itemsize: int = 4,
    extra_per_sample: int = 0,
) -> MemoryEstimate:
    """Estimate the bytes :func:`~coordnet.regions.region_ids` needs for ``samples`` points.

    Args:
        samples: number of points ``N``.
        num_words: 64-bit words per packed pattern.
        chunk: rows per chunk.
        max_width: widest hidden layer.
        input_width: width of the first layer's input (the encoder's ``out_dim``).
        in_dim: dimension ``d`` of the points.
        itemsize: bytes per float of the model's dtype.
        extra_per_sample: further bytes the caller needs per sample.
    """
    check_count("samples", samples, minimum=0)
    rows = min(chunk, max(samples, 1))
    return MemoryEstimate(
        samples=samples,
        packed=samples * num_words * 8,
        ids=samples * 8,
        unique=samples * UNIQUE_BYTES_PER_SAMPLE,
        chunk=rows * (2 * max_width + input_width + in_dim) * itemsize,
        extra=samples * extra_per_sample,
    )


def check_memory(estimate: MemoryEstimate, max_memory: Optional[int]) -> None:
    """Raise :class:`RegionMemoryError` when ``estimate.total > max_memory`` (``None``: the default)."""
    limit = default_max_memory() if max_memory is None else max_memory
    check_count("max_memory", limit)
    if estimate.total > limit:
        raise RegionMemoryError(estimate, limit)
