"""Pixel pairs of an ``S x S`` image as Lazzari & Liu (2023)'s code draws them for the Hamming
distance and the gradient confusion (``hamming_image.py``, ``gradient_confusion_image.py`` of
``JohnLazzari/Spectral-Bias-Training-Dynamics``; their sizes are for ``S = 512``):

* local: ``windows`` random windows of ``50 x 50`` pixels, centres ``c`` drawn per axis from
  ``[30, 480)`` and the window spanning ``[c − 25, c + 25)``; in each window ``pairs_per_window``
  pairs of flat window indices drawn independently from ``[0, 2499)`` (numpy's
  ``randint(0, 2499)``: the window's last pixel is never drawn and a pair may repeat a pixel);
* global: one pixel with row in ``[0, 225)`` and one with row in ``[275, 511)``; their columns
  likewise, either the first pixel's column low and the second's high (top-left / bottom-right)
  or the other way round (top-right / bottom-left), each with probability 1/2. Diagonally
  opposite quadrants with a gap of at least 51 pixels on both axes (the authors' "50 pixels").

At other sizes every constant is scaled by ``S / 512`` and rounded (:class:`PairLayout`); the last
row and column stay excluded as in the authors' ``randint(275, 511)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from coordnet.validation import check_count

#: The authors' image side, to which the constants below refer.
AUTHORS_SIZE = 512


def _scaled(value: int, size: int) -> int:
    return int(round(value * size / AUTHORS_SIZE))


@dataclass(frozen=True)
class PairLayout:
    """The pixel ranges of the pair sampler at side ``size`` (the authors' at 512).

    ``half``: half the window side (25); ``centre_low``/``centre_high``: the centres' half-open
    range ([30, 480)); ``low_end``: rows/columns ``[0, low_end)`` of the near corner (225);
    ``high_start``/``high_end``: ``[high_start, high_end)`` of the far corner ([275, 511))."""

    size: int
    half: int
    centre_low: int
    centre_high: int
    low_end: int
    high_start: int
    high_end: int

    @classmethod
    def for_size(cls, size: int) -> "PairLayout":
        """The layout at side ``size`` (``ValueError`` when a scaled range would be empty)."""
        check_count("size", size, minimum=2)
        layout = cls(
            size=size,
            half=max(1, _scaled(25, size)),
            centre_low=_scaled(30, size),
            centre_high=_scaled(480, size),
            low_end=max(1, _scaled(225, size)),
            high_start=_scaled(275, size),
            high_end=size - 1,
        )
        if not (
            layout.half <= layout.centre_low < layout.centre_high <= size - layout.half
            and layout.low_end < layout.high_start < layout.high_end
        ):
            raise ValueError(f"image side {size} is too small for the pair layout: {layout}")
        return layout

    @property
    def window(self) -> int:
        """Side of a local window in pixels (50 at 512)."""
        return 2 * self.half

    @property
    def gap(self) -> int:
        """Smallest row (and column) difference of a global pair (51 at 512)."""
        return self.high_start - (self.low_end - 1)


@dataclass(frozen=True)
class PixelPairs:
    """Pairs of pixel indices ``(P, 2)`` int64 ``(row, column)``: ``local_a[i]``/``local_b[i]``
    inside one window, ``global_a[i]``/``global_b[i]`` in diagonally opposite corners."""

    local_a: Tensor
    local_b: Tensor
    global_a: Tensor
    global_b: Tensor
    layout: PairLayout


def lazzari_pairs(
    size: int, windows: int, pairs_per_window: int, global_pairs: int, *, seed: int = 0
) -> PixelPairs:
    """The local and global pixel pairs of Lazzari & Liu's code on an ``size x size`` image.

    Args:
        size: image side ``S``. windows: local windows (authors: 100). pairs_per_window: pairs
            drawn in each window (authors: 500). global_pairs: global pairs (authors: 50000).
        seed: the random source.

    Returns ``windows · pairs_per_window`` local and ``global_pairs`` global pairs.
    """
    check_count("windows", windows)
    check_count("pairs_per_window", pairs_per_window)
    check_count("global_pairs", global_pairs)
    layout = PairLayout.for_size(size)
    generator = torch.Generator().manual_seed(seed)

    def draw(low: int, high: int, *shape: int) -> Tensor:
        return torch.randint(low, high, shape, generator=generator)

    centres = draw(layout.centre_low, layout.centre_high, windows, 1, 2)
    corner = (centres - layout.half).expand(windows, pairs_per_window, 2)
    area = layout.window * layout.window - 1  # randint(0, 2499): the last pixel is never drawn

    def in_window() -> Tensor:
        flat = draw(0, area, windows, pairs_per_window)
        offset = torch.stack([flat // layout.window, flat % layout.window], -1)
        return (corner + offset).reshape(-1, 2)

    local_a, local_b = in_window(), in_window()
    low = draw(0, layout.low_end, global_pairs, 2)
    high = draw(layout.high_start, layout.high_end, global_pairs, 2)
    crossed = draw(0, 2, global_pairs).bool()  # top-right / bottom-left instead
    first = torch.stack([low[:, 0], torch.where(crossed, high[:, 1], low[:, 1])], 1)
    second = torch.stack([high[:, 0], torch.where(crossed, low[:, 1], high[:, 1])], 1)
    return PixelPairs(local_a, local_b, first, second, layout)
