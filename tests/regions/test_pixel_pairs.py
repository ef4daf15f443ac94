"""Local (patch) and global (opposite-quadrant) pixel pairs."""

import pytest
import torch

from coordnet.regions.pixel_pairs import patch_and_quadrant_pairs


def test_local_pairs_are_distinct_pixels_inside_one_patch():
    pairs = patch_and_quadrant_pairs(500, 64, 6, seed=1)
    a, b = pairs.near_a * 64, pairs.near_b * 64
    assert a.shape == b.shape == (500, 2)
    assert torch.equal(a, a.round()) and torch.equal(b, b.round())  # on the pixel grid
    assert ((a - b).abs().max(dim=1).values <= 5).all()  # within a 6 x 6 window
    assert ((a != b).any(dim=1)).all()
    assert a.min() >= 0 and a.max() <= 63 and b.min() >= 0 and b.max() <= 63
    assert (a - b).abs().max() == 5  # the whole window is used


def test_global_pairs_lie_in_opposite_quadrants():
    pairs = patch_and_quadrant_pairs(500, 64, 6, seed=2)
    qa = (pairs.far_a * 64 >= 32).long()
    qb = (pairs.far_b * 64 >= 32).long()
    assert torch.equal(qa + qb, torch.ones_like(qa))  # diagonally opposite on both axes
    assert len({tuple(q) for q in qa.tolist()}) == 4


def test_seeded_and_checked():
    one, two = (
        patch_and_quadrant_pairs(10, 8, 2, seed=3),
        patch_and_quadrant_pairs(10, 8, 2, seed=3),
    )
    assert torch.equal(one.near_a, two.near_a) and torch.equal(one.far_b, two.far_b)
    for args in ((10, 7, 2), (10, 8, 1), (10, 8, 9), (0, 8, 2)):
        with pytest.raises(ValueError):
            patch_and_quadrant_pairs(*args)
