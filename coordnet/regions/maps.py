"""Region-id maps and boundary maps of ReLU networks on 1D, 2D and 3D grids."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import torch
from torch import Tensor

from coordnet.regions.count import region_ids_from
from coordnet.regions.domain import (
    Box,
    DomainLike,
    GridSource,
    ShapeLike,
    resolve_domain,
    resolve_shape,
)
from coordnet.regions.network import relu_network
from coordnet.regions.saturation import Saturation, check_saturation, saturation

#: Bytes per grid sample a map needs besides the ids: the boundary mask and one comparison.
MAP_BYTES_PER_SAMPLE = 2


@dataclass(eq=False)
class RegionMap:
    """Activation regions of a network on a regular grid.

    Attributes:
        ids: ``(*shape)`` int64 region id of every grid sample, numbered by first occurrence
            in row-major order; equal ids iff equal activation patterns.
        boundary: ``(*shape)`` bool, true where a grid neighbour along some axis (previous or
            next sample) has another id.
        sizes: ``(U,)`` int64 grid samples per region (sums to the number of samples).
        domain: ``(low, high)`` of each axis; sample ``i`` of an axis of ``n`` sits at
            ``low + (high - low) * i / n`` (:func:`coordnet.signals.grid_axis`), so the map lines
            up with a :class:`~coordnet.signals.Signal` of the same shape and domain.
    """

    ids: Tensor
    boundary: Tensor
    sizes: Tensor
    domain: Box

    @property
    def shape(self) -> Tuple[int, ...]:
        return tuple(self.ids.shape)

    @property
    def num_regions(self) -> int:
        """Distinct activation patterns among the grid samples."""
        return int(self.sizes.numel())

    @property
    def saturation(self) -> Saturation:
        """Whether the regions are at least 90% of the grid samples (then the grid is too
        coarse for the count to mean much; :attr:`Saturation.advice` says what to do)."""
        return saturation(self.num_regions, int(self.ids.numel()), self.ids.dim())

    @property
    def boundary_fraction(self) -> float:
        """Fraction of grid samples on a region boundary."""
        return float(self.boundary.float().mean()) if self.boundary.numel() else 0.0


def boundary_map(ids: Tensor) -> Tensor:
    """``(*shape)`` bool: samples of the id grid ``ids (*shape)`` whose neighbour along any axis differs."""
    if not isinstance(ids, Tensor) or ids.dim() == 0:
        raise ValueError(f"ids must be a tensor with at least one axis, got {ids!r:.80}")
    boundary = torch.zeros(ids.shape, dtype=torch.bool, device=ids.device)
    for axis in range(ids.dim()):
        n = ids.shape[axis]
        if n < 2:
            continue
        differs = ids.narrow(axis, 1, n - 1) != ids.narrow(axis, 0, n - 1)
        boundary.narrow(axis, 1, n - 1).logical_or_(differs)
        boundary.narrow(axis, 0, n - 1).logical_or_(differs)
    return boundary


def region_map(
    net,
    shape: ShapeLike,
    domain: DomainLike = None,
    *,
    chunk: Optional[int] = None,
    max_memory: Optional[int] = None,
) -> RegionMap:
    """Region ids and boundaries of ``net`` on a regular grid.

    Args:
        net: a ReLU model (see :func:`~coordnet.regions.relu_network`) of input dimension 1, 2 or 3.
        shape: samples per axis, e.g. ``(512, 512)``; an int means that many along each of
            the ``d`` axes.
        domain: ``(low, high)`` for every axis or one pair per axis; ``None``: the
            ``CoordinateNet``'s ``signal_domain``, else ``[0, 1]``.
        chunk, max_memory: as :func:`~coordnet.regions.region_ids`; grid points are generated
            chunk by chunk, never all at once.

    Returns:
        :class:`RegionMap`.

    Warns:
        RegionCountWarning: the regions are at least 90% of the grid samples (see
            :attr:`RegionMap.saturation`).
    """
    network = relu_network(net)
    if not 1 <= network.in_dim <= 3:
        raise ValueError(
            f"region maps need a network with 1 to 3 input dimensions, got in_dim={network.in_dim}"
        )
    grid_shape = resolve_shape(shape, network.in_dim)
    box = resolve_domain(domain, network.in_dim, net)
    source = GridSource(grid_shape, box)
    regions = region_ids_from(
        network,
        source.num_points,
        source,
        chunk=chunk,
        max_memory=max_memory,
        extra_per_sample=MAP_BYTES_PER_SAMPLE,
    )
    ids = regions.ids.reshape(grid_shape)
    check_saturation(regions.num_regions, source.num_points, network.in_dim)
    return RegionMap(ids=ids, boundary=boundary_map(ids), sizes=regions.sizes, domain=box)
