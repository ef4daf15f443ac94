"""Region density along random lines (Hanin & Rolnick 2019): regions crossed per unit length."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import torch
from torch import Tensor

from coordnet.memory_limit import check_memory
from coordnet.regions.domain import Box, DomainLike, resolve_domain
from coordnet.regions.exact1d import exact_count_1d
from coordnet.regions.network import relu_network
from coordnet.regions.patterns import packed_patterns_from, resolve_chunk, tensor_source
from coordnet.validation import check_count


@dataclass(eq=False)
class DensityResult:
    """Regions crossed by random segments across a box, per unit length.

    Attributes:
        starts, ends: ``(L, d)`` float64 end points of the segments (on the box's surface).
        lengths: ``(L,)`` float64 Euclidean lengths of the segments (in input coordinates).
        counts: ``(L,)`` int64 regions each segment crosses (exact, or sampled: a lower bound).
        densities: ``(L,)`` float64 ``counts / lengths``.
        exact: whether ``counts`` come from :func:`~coordnet.regions.exact_count_1d`.
        domain: the box, one ``(low, high)`` per coordinate.
    """

    starts: Tensor
    ends: Tensor
    lengths: Tensor
    counts: Tensor
    densities: Tensor
    exact: bool
    domain: Box

    @property
    def mean(self) -> float:
        """Mean regions per unit length over the segments."""
        return float(self.densities.mean())

    @property
    def std(self) -> float:
        """Standard deviation (population, ``correction=0``) of the densities over the segments."""
        return float(self.densities.std(correction=0))

    def to_dict(self) -> dict:
        return {
            "mean": self.mean,
            "std": self.std,
            "exact": self.exact,
            "counts": self.counts.tolist(),
            "lengths": self.lengths.tolist(),
            "densities": self.densities.tolist(),
            "domain": [list(pair) for pair in self.domain],
        }


def random_chords(num_lines: int, box: Box, generator: torch.Generator) -> Tuple[Tensor, Tensor]:
    """``(starts, ends)`` ``(L, d)`` float64: random lines clipped to ``box``.

    Each line passes through a point drawn uniformly in the box, with a direction drawn
    uniformly on the unit sphere; the segment is the part of the line inside the box (for
    ``d = 1``: the whole interval).
    """
    d = len(box)
    low = torch.tensor([pair[0] for pair in box], dtype=torch.float64)
    high = torch.tensor([pair[1] for pair in box], dtype=torch.float64)
    through = low + (high - low) * torch.rand(
        num_lines, d, generator=generator, dtype=torch.float64
    )
    direction = torch.randn(num_lines, d, generator=generator, dtype=torch.float64)
    direction = direction / direction.norm(dim=1, keepdim=True).clamp_min(1e-300)
    with torch.no_grad():
        safe = torch.where(direction == 0, torch.ones_like(direction), direction)
        a = (low - through) / safe
        b = (high - through) / safe
        enter = torch.where(
            direction == 0, torch.full_like(a, -torch.inf), torch.minimum(a, b)
        ).amax(dim=1)
        leave = torch.where(
            direction == 0, torch.full_like(a, torch.inf), torch.maximum(a, b)
        ).amin(dim=1)
    starts = (through + enter[:, None] * direction).clamp(low, high)
    ends = (through + leave[:, None] * direction).clamp(low, high)
    return starts, ends


def _sampled_counts(
    net, starts: Tensor, ends: Tensor, samples: int, chunk: Optional[int]
) -> Tensor:
    """Pieces of constant pattern among ``samples`` equally spaced points of each segment."""
    network = relu_network(net)
    t = torch.linspace(0.0, 1.0, samples, dtype=torch.float64)
    points = (starts[:, None, :] + t[None, :, None] * (ends - starts)[:, None, :]).reshape(
        -1, starts.shape[1]
    )
    packed = packed_patterns_from(
        network, points.shape[0], tensor_source(points), resolve_chunk(chunk, network)
    )
    packed = packed.reshape(starts.shape[0], samples, -1)
    changes = (packed[:, 1:] != packed[:, :-1]).any(dim=2).sum(dim=1)
    return changes.to(torch.int64).cpu() + 1


def region_density(
    net,
    num_lines: int,
    domain: DomainLike = None,
    *,
    seed: int = 0,
    generator: Optional[torch.Generator] = None,
    samples_per_line: Optional[int] = None,
    chunk: Optional[int] = None,
) -> DensityResult:
    """Regions crossed per unit length along ``num_lines`` random segments across ``domain``.

    Hanin & Rolnick (2019)'s measure of a ReLU network's expressivity in practice: at
    initialisation it is of the order of the number of neurons per unit length and it
    changes little during training. Usable on any model accepted by
    :func:`~coordnet.regions.relu_network`, at initialisation or after training.

    Args:
        net: a ReLU model.
        num_lines: number of random segments (see :func:`random_chords`).
        domain: ``(low, high)`` for every coordinate or one pair each; ``None``: the
            ``CoordinateNet``'s ``signal_domain``, else ``[0, 1]``.
        seed: seeds a new generator when ``generator`` is ``None``.
        generator: the random source of the segments.
        samples_per_line: ``None`` for exact counts (:func:`~coordnet.regions.exact_count_1d`;
            needs an affine input map), or a number of equally spaced samples per segment,
            counting the pieces of constant pattern among them (a lower bound; works with any
            encoder, where it counts linear pieces along the curved path in encoded space).
        chunk: rows per forward chunk of the sampled mode.

    Returns:
        :class:`DensityResult`.
    """
    check_count("num_lines", num_lines)
    network = relu_network(net)
    box = resolve_domain(domain, network.in_dim, net)
    # segment ends, starts, lengths, counts and densities: before anything is allocated
    check_memory(
        f"region_density with num_lines={num_lines:,}", num_lines * (network.in_dim * 4 + 4) * 8
    )
    if generator is None:
        generator = torch.Generator().manual_seed(int(seed))
    starts, ends = random_chords(num_lines, box, generator)
    lengths = (ends - starts).norm(dim=1)
    if samples_per_line is None:
        counts = torch.tensor(
            [exact_count_1d(network, s, e) for s, e in zip(starts, ends)], dtype=torch.int64
        )
    else:
        check_count("samples_per_line", samples_per_line, minimum=2)
        counts = _sampled_counts(network, starts, ends, samples_per_line, chunk)
    return DensityResult(
        starts=starts,
        ends=ends,
        lengths=lengths,
        counts=counts,
        densities=counts.to(torch.float64) / lengths,
        exact=samples_per_line is None,
        domain=box,
    )
