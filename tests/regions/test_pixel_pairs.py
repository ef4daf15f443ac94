"""Lazzari & Liu's local (window) and global (opposite-corner) pixel pairs."""

import pytest
import torch

from coordnet.regions.pixel_pairs import PairLayout, lazzari_pairs


def test_layout_is_the_authors_at_512_and_scales():
    authors = PairLayout.for_size(512)
    assert (authors.half, authors.centre_low, authors.centre_high) == (25, 30, 480)
    assert (authors.low_end, authors.high_start, authors.high_end) == (225, 275, 511)
    assert (authors.window, authors.gap) == (50, 51)
    small = PairLayout.for_size(64)
    assert (small.window, small.centre_low, small.centre_high) == (6, 4, 60)
    assert (small.low_end, small.high_start, small.high_end, small.gap) == (28, 34, 63, 7)
    with pytest.raises(ValueError, match="too small"):
        PairLayout.for_size(4)


@pytest.mark.parametrize("size", [512, 64])
def test_local_pairs_lie_in_one_window(size):
    layout = PairLayout.for_size(size)
    pairs = lazzari_pairs(size, windows=40, pairs_per_window=50, global_pairs=10, seed=1)
    a, b = pairs.local_a, pairs.local_b
    assert a.shape == b.shape == (2000, 2) and a.dtype == torch.int64
    corner_a = a.reshape(40, 50, 2).min(1).values
    corner_b = b.reshape(40, 50, 2).min(1).values
    both = torch.minimum(corner_a, corner_b)[:, None, :]
    for p in (a.reshape(40, 50, 2), b.reshape(40, 50, 2)):
        assert ((p - both) < layout.window).all()  # one window per group of pairs
    assert (a - b).abs().max() <= layout.window - 1
    assert a.min() >= layout.centre_low - layout.half
    assert a.max() < layout.centre_high + layout.half


@pytest.mark.parametrize("size", [512, 64])
def test_global_pairs_are_in_opposite_corners_with_the_gap(size):
    layout = PairLayout.for_size(size)
    pairs = lazzari_pairs(size, windows=1, pairs_per_window=1, global_pairs=4000, seed=2)
    a, b = pairs.global_a, pairs.global_b
    assert (a[:, 0] < layout.low_end).all() and (b[:, 0] >= layout.high_start).all()
    distance = (a - b).abs()
    assert (distance >= layout.gap).all()  # at least the gap on both axes
    assert b.max() < size - 1  # the last row/column is never drawn (randint(275, 511))
    crossed = a[:, 1] >= layout.high_start
    assert 0.4 < crossed.double().mean() < 0.6  # both diagonals, equally likely


def test_seeded_and_checked():
    one, two = lazzari_pairs(64, 3, 4, 5, seed=3), lazzari_pairs(64, 3, 4, 5, seed=3)
    assert torch.equal(one.local_a, two.local_a) and torch.equal(one.global_b, two.global_b)
    with pytest.raises(ValueError):
        lazzari_pairs(64, 0, 4, 5)
