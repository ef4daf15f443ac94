"""Random pairs of input points, nearby and distant, for comparing activation patterns and gradients.

Radius rule (``side`` = the shortest side of the box):

* nearby pairs: ``a`` uniform in the box, ``b = a + r u`` with ``u`` uniform on the unit
  sphere and ``r`` uniform in ``(0, near_radius]``; default ``near_radius = side / 100``;
* distant pairs: ``a`` and ``b`` independent and uniform in the box, kept when
  ``|a - b| >= far_radius``; default ``far_radius = side / 2``.

Both points of every pair lie in the box (pairs that leave it are redrawn).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
from torch import Tensor

from coordnet.memory_limit import check_memory
from coordnet.regions.domain import Box, DomainLike, resolve_domain
from coordnet.validation import check_count, check_positive

NEAR_FRACTION = 0.01
FAR_FRACTION = 0.5
#: Rounds of rejection sampling before giving up (each draws twice the pairs still missing).
MAX_ROUNDS = 1000


@dataclass(eq=False)
class PointPairs:
    """Nearby and distant pairs of points, float64 ``(P, d)`` each.

    Attributes:
        near_a, near_b: nearby pairs (``|a - b| <= near_radius``).
        far_a, far_b: distant pairs (``|a - b| >= far_radius``).
        near_radius, far_radius: the radii used; domain: the box.
    """

    near_a: Tensor
    near_b: Tensor
    far_a: Tensor
    far_b: Tensor
    near_radius: float
    far_radius: float
    domain: Box


def _uniform(count: int, low: Tensor, high: Tensor, generator: torch.Generator) -> Tensor:
    return low + (high - low) * torch.rand(
        count, low.shape[0], generator=generator, dtype=torch.float64
    )


def _inside(x: Tensor, low: Tensor, high: Tensor) -> Tensor:
    return ((x >= low) & (x <= high)).all(dim=1)


def sample_pairs(
    num_pairs: int,
    in_dim: int,
    domain: DomainLike = None,
    *,
    near_radius: Optional[float] = None,
    far_radius: Optional[float] = None,
    seed: int = 0,
    generator: Optional[torch.Generator] = None,
) -> PointPairs:
    """``num_pairs`` nearby and ``num_pairs`` distant pairs in a box (rule in the module docstring).

    Args:
        num_pairs: pairs of each kind.
        in_dim: dimension ``d`` of the points.
        domain: ``(low, high)`` for every coordinate or one pair each (default ``[0, 1]``).
        near_radius: largest distance of a nearby pair (default: 1/100 of the shortest side).
        far_radius: smallest distance of a distant pair (default: 1/2 of the shortest side);
            must be below the box's diagonal.
        seed: seeds a new generator when ``generator`` is ``None``.
        generator: the random source.
    """
    check_count("num_pairs", num_pairs)
    check_count("in_dim", in_dim)
    # both kinds of pairs, their candidates and offsets (float64): before anything is allocated
    check_memory(
        f"sample_pairs with num_pairs={num_pairs:,}, in_dim={in_dim:,}", num_pairs * in_dim * 8 * 8
    )
    box = resolve_domain(domain, in_dim)
    low = torch.tensor([pair[0] for pair in box], dtype=torch.float64)
    high = torch.tensor([pair[1] for pair in box], dtype=torch.float64)
    side = float((high - low).min())
    diagonal = float((high - low).norm())
    near = (
        NEAR_FRACTION * side if near_radius is None else check_positive("near_radius", near_radius)
    )
    far = FAR_FRACTION * side if far_radius is None else check_positive("far_radius", far_radius)
    if far >= diagonal:
        raise ValueError(
            f"far_radius={far} must be below the diagonal of the domain ({diagonal:.6g})"
        )
    if near > side:
        raise ValueError(
            f"near_radius={near} must not exceed the shortest side of the domain ({side:.6g})"
        )
    if generator is None:
        generator = torch.Generator().manual_seed(int(seed))

    def draw(kind: str):
        kept_a, kept_b, have = [], [], 0
        for _ in range(MAX_ROUNDS):
            count = 2 * (num_pairs - have)
            a = _uniform(count, low, high, generator)
            if kind == "near":
                u = torch.randn(count, in_dim, generator=generator, dtype=torch.float64)
                u = u / u.norm(dim=1, keepdim=True).clamp_min(1e-300)
                r = near * (
                    1.0 - torch.rand(count, 1, generator=generator, dtype=torch.float64)
                )  # (0, near]
                b = a + r * u
                keep = _inside(b, low, high)
            else:
                b = _uniform(count, low, high, generator)
                keep = (a - b).norm(dim=1) >= far
            kept_a.append(a[keep])
            kept_b.append(b[keep])
            have += int(keep.sum())
            if have >= num_pairs:
                return torch.cat(kept_a)[:num_pairs], torch.cat(kept_b)[:num_pairs]
        raise ValueError(
            f"could not draw {num_pairs} {kind} pairs in {MAX_ROUNDS} rounds; radius too large for the domain"
        )

    near_a, near_b = draw("near")
    far_a, far_b = draw("far")
    return PointPairs(near_a, near_b, far_a, far_b, near, far, box)


def pair_distances(a: Tensor, b: Tensor) -> Tensor:
    """Euclidean distances ``(P,)`` between the rows of ``a`` and ``b`` ``(P, d)``."""
    return (a.double() - b.double()).norm(dim=1)
