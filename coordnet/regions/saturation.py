"""When a sampled region count means nothing: nearly every sample in a region of its own.

A count of distinct activation patterns among ``N`` samples is at most ``N``. When it comes
close (at least :data:`SATURATION_FRACTION` of the samples), most regions hold one sample and
the grid is too coarse to resolve them: the count says "at least this many", little more, and
the boundary map is black almost everywhere. :func:`check_saturation` says so, with what to do
instead (a finer grid; along a line, the exact count of :func:`~coordnet.regions.exact_count_1d`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Optional

#: Regions per sample from which a count is reported as saturated.
SATURATION_FRACTION = 0.9


class RegionCountWarning(UserWarning):
    """A region count among samples that is (nearly) one region per sample."""


@dataclass(frozen=True)
class Saturation:
    """How close a count is to one region per sample.

    Attributes:
        regions: distinct activation patterns counted.
        samples: the samples they were counted among.
        fraction: ``regions / samples`` (0 without samples).
        saturated: ``fraction >= SATURATION_FRACTION``.
        advice: one sentence saying so and what to do instead (empty when not saturated).
    """

    regions: int
    samples: int
    fraction: float
    saturated: bool
    advice: str

    def to_dict(self) -> dict:
        """JSON fields: ``saturated``, ``regions_per_sample`` and ``advice`` (``None`` if not)."""
        return {
            "saturated": self.saturated,
            "regions_per_sample": self.fraction,
            "advice": self.advice or None,
        }


def saturation(regions: int, samples: int, in_dim: Optional[int] = None) -> Saturation:
    """:class:`Saturation` of ``regions`` counted among ``samples`` points of an ``in_dim``-D
    domain (``in_dim`` only shapes the advice)."""
    fraction = regions / samples if samples > 0 else 0.0
    saturated = samples > 0 and fraction >= SATURATION_FRACTION
    advice = ""
    if saturated:
        finer = "a finer grid (more samples per axis)"
        exact = (
            "the exact count along the line, coordnet.regions.exact_count_1d"
            if in_dim == 1
            else "exact counts along lines (coordnet.regions.exact_count_1d)"
        )
        advice = (
            f"{regions} regions among {samples} samples ({fraction:.0%}): nearly every sample "
            f"is a region of its own, so the grid is too coarse to count them and the number is "
            f"only a lower bound; use {finer}, or {exact}"
        )
    return Saturation(regions, samples, fraction, saturated, advice)


def check_saturation(
    regions: int, samples: int, in_dim: Optional[int] = None, stacklevel: int = 3
) -> Saturation:
    """:func:`saturation`, warning with a :class:`RegionCountWarning` when saturated."""
    result = saturation(regions, samples, in_dim)
    if result.saturated:
        warnings.warn(result.advice, RegionCountWarning, stacklevel=stacklevel)
    return result


__all__ = [
    "SATURATION_FRACTION",
    "RegionCountWarning",
    "Saturation",
    "check_saturation",
    "saturation",
]
