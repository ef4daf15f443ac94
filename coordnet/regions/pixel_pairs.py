"""Pairs of pixels of an ``S x S`` grid: inside random square patches (local) and across opposite
quadrants (global), the pair definitions of Lazzari & Liu (2023)'s Hamming distance and gradient
confusion.

Pixels sit on coordnet's half-open grid of ``[0, 1]^2`` (``i / S``, :func:`coordnet.signals.grid_axis`).

* local: a ``patch x patch`` window placed uniformly at random in the grid, two distinct pixels
  drawn uniformly inside it (one new window per pair);
* global: a quadrant drawn uniformly, one pixel uniform in it and one uniform in the diagonally
  opposite quadrant.
"""

from __future__ import annotations

import torch
from torch import Tensor

from coordnet.regions.pairs import PointPairs
from coordnet.validation import check_count


def _pixels(rows: Tensor, cols: Tensor, size: int) -> Tensor:
    """Grid coordinates ``(P, 2)`` float64 of pixel indices."""
    return torch.stack([rows, cols], 1).to(torch.float64) / size


def _distinct_in_patch(
    count: int, patch: int, generator: torch.Generator
) -> "tuple[Tensor, Tensor]":
    """Two different flat indices in ``[0, patch²)`` per pair."""
    first = torch.randint(0, patch * patch, (count,), generator=generator)
    shift = torch.randint(1, patch * patch, (count,), generator=generator)
    return first, (first + shift) % (patch * patch)


def patch_and_quadrant_pairs(num_pairs: int, size: int, patch: int, *, seed: int = 0) -> PointPairs:
    """``num_pairs`` local pairs (``near_*``) and ``num_pairs`` global pairs (``far_*``), ``(P, 2)`` each.

    Args:
        num_pairs: pairs of each kind. size: pixels per side ``S`` (even, >= 2).
        patch: side of the local window in pixels (``2 <= patch <= S``).
        seed: the random source.

    ``near_radius`` is the largest local distance (the window's diagonal), ``far_radius`` the
    smallest possible global distance (one pixel pitch on each axis), both in grid units.
    """
    check_count("num_pairs", num_pairs)
    check_count("size", size, minimum=2)
    if size % 2:
        raise ValueError(f"size must be even (four equal quadrants), got {size}")
    if not 2 <= patch <= size:
        raise ValueError(f"patch must be between 2 and the grid size {size}, got {patch}")
    generator = torch.Generator().manual_seed(seed)
    top = torch.randint(0, size - patch + 1, (num_pairs, 2), generator=generator)
    first, second = _distinct_in_patch(num_pairs, patch, generator)
    near_a = _pixels(top[:, 0] + first // patch, top[:, 1] + first % patch, size)
    near_b = _pixels(top[:, 0] + second // patch, top[:, 1] + second % patch, size)
    half = size // 2
    quadrant = torch.randint(0, 4, (num_pairs,), generator=generator)
    corner = torch.stack([quadrant // 2, quadrant % 2], 1) * half  # top-left pixel of the quadrant
    opposite = (1 - torch.stack([quadrant // 2, quadrant % 2], 1)) * half
    a = corner + torch.randint(0, half, (num_pairs, 2), generator=generator)
    b = opposite + torch.randint(0, half, (num_pairs, 2), generator=generator)
    far_a, far_b = _pixels(a[:, 0], a[:, 1], size), _pixels(b[:, 0], b[:, 1], size)
    return PointPairs(
        near_a,
        near_b,
        far_a,
        far_b,
        near_radius=(patch - 1) * 2**0.5 / size,
        far_radius=2**0.5 / size,
        domain=((0.0, 1.0), (0.0, 1.0)),
    )
