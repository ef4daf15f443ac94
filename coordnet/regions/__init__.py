"""Activation regions of ReLU coordinate networks: counts, maps, exact 1D walks, density, similarity.

A ReLU MLP is piecewise linear; its activation regions (inputs sharing the on/off pattern of
every hidden unit) are convex and the network is affine on each. Counting and drawing them
is how Lazzari & Liu (2023) and Hanin & Rolnick (2019) explain spectral bias and what
positional encodings change.

=====================================  ==========================================================
:func:`count_regions`                  distinct activation patterns among points ``(N, d)``
:func:`region_ids`                     region id of every point + per-region sample counts
:func:`region_map`                     region-id map and boundary map on a 1D/2D/3D grid
:func:`exact_count_1d`                 exact number of regions a segment crosses (float64 walk)
:func:`breakpoints_1d`                 where along the segment the pattern changes
:func:`region_density`                 regions per unit length along random lines (Hanin & Rolnick)
:func:`hamming_distance`               activation-pattern Hamming distance of pairs of inputs
:func:`gradient_confusion`             cosine of per-sample parameter gradients (``torch.func``)
:func:`sample_pairs`, :func:`compare_pairs`   both measures for nearby vs distant pairs
:class:`RegionCountCallback`           region counts every N training steps
:func:`relu_network`                   the ReLU structure of a model (what is accepted)
:func:`saturation`                     whether a count is ≥ 90% of the samples (too coarse a grid)
=====================================  ==========================================================

Models: coordnet's ``CoordinateNet`` with a ReLU net (any encoder in front: patterns are
taken over the original input points), ``ReluMLP``, or an ``nn.Sequential`` of
``Linear``/``ReLU``; anything else raises an error naming the layer. Patterns are
computed chunk by chunk and bit-packed (:mod:`coordnet.ops.regions`), so memory is
``O(chunk × width)`` floats plus ``N × sum(ceil(width / 64))`` int64 words; the need is
estimated first and a :class:`RegionMemoryError` reports it when it exceeds ``max_memory``.
"""

from coordnet.regions.callback import RegionCountCallback
from coordnet.regions.count import RegionIds, count_regions, region_ids
from coordnet.regions.density import DensityResult, random_chords, region_density
from coordnet.regions.domain import GridSource, resolve_domain
from coordnet.regions.exact1d import breakpoints_1d, exact_count_1d
from coordnet.regions.maps import RegionMap, boundary_map, region_map
from coordnet.regions.memory import (
    MemoryEstimate,
    RegionMemoryError,
    default_chunk,
    default_max_memory,
    estimate_memory,
)
from coordnet.regions.network import ReluNetwork, relu_network
from coordnet.regions.pairs import PointPairs, pair_distances, sample_pairs
from coordnet.regions.patterns import activation_patterns, popcount, unpack_patterns
from coordnet.regions.saturation import RegionCountWarning, Saturation, saturation
from coordnet.regions.similarity import (
    GroupSummary,
    PairComparison,
    compare_pairs,
    gradient_confusion,
    hamming_distance,
    per_sample_gradients,
)

__all__ = [
    "DensityResult",
    "GridSource",
    "GroupSummary",
    "MemoryEstimate",
    "PairComparison",
    "PointPairs",
    "RegionCountCallback",
    "RegionCountWarning",
    "RegionIds",
    "RegionMap",
    "RegionMemoryError",
    "ReluNetwork",
    "Saturation",
    "activation_patterns",
    "boundary_map",
    "breakpoints_1d",
    "compare_pairs",
    "count_regions",
    "default_chunk",
    "default_max_memory",
    "estimate_memory",
    "exact_count_1d",
    "gradient_confusion",
    "hamming_distance",
    "pair_distances",
    "per_sample_gradients",
    "popcount",
    "random_chords",
    "region_density",
    "region_ids",
    "region_map",
    "relu_network",
    "resolve_domain",
    "sample_pairs",
    "saturation",
    "unpack_patterns",
]
