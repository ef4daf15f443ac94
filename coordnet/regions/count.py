"""Counting activation regions among sample points: distinct patterns, region ids and sizes.

The number of distinct activation patterns among the samples is a lower bound on the number
of activation regions the sampled domain meets (a region no sample falls in is missed).
Patterns are packed and deduplicated by :func:`coordnet.ops.unique_patterns`, which hashes
them and resolves hash collisions exactly, so counts are exact for the given samples.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import torch
from torch import Tensor

from coordnet import ops
from coordnet.regions.memory import check_memory, estimate_memory
from coordnet.regions.network import ReluNetwork, relu_network
from coordnet.regions.patterns import (
    PointSource,
    packed_patterns_from,
    resolve_chunk,
    tensor_source,
)
from coordnet.regions.saturation import Saturation, check_saturation, saturation

#: Mask applied to pattern hashes before deduplication. ``-1`` keeps all 64 bits; a weaker
#: mask (e.g. ``0x3``) makes most patterns collide, which must not change any count.
HASH_MASK = -1


@dataclass(eq=False)
class RegionIds:
    """The activation region of every sample.

    Attributes:
        ids: ``(N,)`` int64 region id of each sample, numbered ``0..U-1`` by first occurrence;
            two samples share an id iff they share an activation pattern.
        sizes: ``(U,)`` int64 number of samples in each region (sums to ``N``).
        first: ``(U,)`` int64 index of the first sample of each region.
    """

    ids: Tensor
    sizes: Tensor
    first: Tensor

    @property
    def num_regions(self) -> int:
        """Distinct activation patterns ``U`` among the samples."""
        return int(self.first.numel())

    @property
    def saturation(self) -> Saturation:
        """Whether ``U`` is at least 90% of the samples (the count then means little)."""
        return saturation(self.num_regions, int(self.ids.numel()))


def dedupe_patterns(packed: Tensor) -> Tuple[Tensor, Tensor]:
    """Packed patterns ``(N, words)`` -> ``(inverse (N,), first (U,))`` int64, ids by first occurrence."""
    n = packed.shape[0]
    if packed.shape[1] == 0:  # no hidden unit: one (empty) pattern shared by every sample
        inverse = torch.zeros(n, dtype=torch.int64, device=packed.device)
        first = torch.zeros(min(n, 1), dtype=torch.int64, device=packed.device)
        return inverse, first
    return ops.unique_patterns(packed, hash_mask=HASH_MASK)


def region_ids_from(
    network: ReluNetwork,
    num_points: int,
    source: PointSource,
    *,
    chunk: Optional[int] = None,
    max_memory: Optional[int] = None,
    extra_per_sample: int = 0,
) -> RegionIds:
    """:class:`RegionIds` of the ``num_points`` points ``source`` yields (memory checked first)."""
    rows = resolve_chunk(chunk, network)
    first_layer = network.hidden[0] if network.hidden else network.output
    estimate = estimate_memory(
        num_points,
        network.num_words,
        chunk=rows,
        max_width=network.max_width,
        input_width=first_layer.in_features if first_layer is not None else network.in_dim,
        in_dim=network.in_dim,
        itemsize=torch.empty((), dtype=network.compute_dtype).element_size(),
        extra_per_sample=extra_per_sample,
    )
    check_memory(estimate, max_memory)
    packed = packed_patterns_from(network, num_points, source, rows)
    inverse, first = dedupe_patterns(packed)
    del packed
    sizes = (
        torch.bincount(inverse, minlength=first.numel())
        if num_points
        else torch.zeros(0, dtype=torch.int64)
    )
    return RegionIds(ids=inverse, sizes=sizes.to(torch.int64), first=first)


def region_ids(
    net, points: Tensor, *, chunk: Optional[int] = None, max_memory: Optional[int] = None
) -> RegionIds:
    """The activation region of every point, with per-region sample counts.

    Args:
        net: a ReLU ``CoordinateNet``, ``ReluMLP`` or ``nn.Sequential`` of ``Linear``/``ReLU``
            (see :func:`~coordnet.regions.relu_network`).
        points: ``(N, d)`` input points (signal coordinates for a ``CoordinateNet``; an
            encoder in front is applied, but the points counted are these inputs).
        chunk: rows per forward chunk (default: :func:`~coordnet.regions.memory.default_chunk`).
        max_memory: bytes allowed (default: :func:`~coordnet.regions.memory.default_max_memory`);
            the need is estimated before anything is allocated.

    Returns:
        :class:`RegionIds`.

    Warns:
        RegionCountWarning: the regions are at least 90% of the points (nearly one region per
            point: too few points to count them; use more, or
            :func:`~coordnet.regions.exact_count_1d` along lines).

    Raises:
        RegionMemoryError: the estimate exceeds ``max_memory`` (the message gives it).
        TypeError, ValueError: an unsupported model or badly shaped ``points``.
    """
    return _checked_region_ids(net, points, chunk, max_memory)


def _checked_region_ids(
    net, points: Tensor, chunk: Optional[int], max_memory: Optional[int]
) -> RegionIds:
    """:func:`region_ids` with its saturation warning raised at the caller's caller."""
    network = relu_network(net)
    points = network.check_points(points)
    result = region_ids_from(
        network, points.shape[0], tensor_source(points), chunk=chunk, max_memory=max_memory
    )
    check_saturation(result.num_regions, points.shape[0], network.in_dim, stacklevel=4)
    return result


def count_regions(
    net, points: Tensor, *, chunk: Optional[int] = None, max_memory: Optional[int] = None
) -> int:
    """Number of distinct activation patterns among ``points (N, d)``.

    A lower bound on the number of activation regions the sampled domain meets. Memory is
    ``O(chunk × width)`` floats plus the packed bits (``N × sum(ceil(width/64))`` int64) and
    the ids; arguments as :func:`region_ids`. Warns with a
    :class:`~coordnet.regions.saturation.RegionCountWarning` when the count is at least 90% of
    the points (see :func:`region_ids`).
    """
    return _checked_region_ids(net, points, chunk, max_memory).num_regions
