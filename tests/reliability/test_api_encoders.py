"""The encoders' Python API: errors of the right type naming the argument, and finite outputs."""

import json

import pytest
import torch

from coordnet.encoders import (
    Composite,
    GaussianFourierFeatures,
    HashGrid,
    IntegratedPositionalEncoding,
    OneBlob,
    PositionalEncoding,
    SphericalHarmonics,
    TriangleWave,
)
from coordnet.encoders.config import MAX_NESTING, from_config


@pytest.mark.parametrize("seed", ["2", 1.5, True, float("inf"), 2**70, -1])
@pytest.mark.parametrize(
    "make",
    [
        lambda s: GaussianFourierFeatures(2, 8, sigma=1.0, seed=s),
        lambda s: HashGrid(2, num_levels=2, log2_table_size=8, seed=s),
        lambda s: from_config({"otype": "Frequency", "n_frequencies": 2}, 2, seed=s),
    ],
)
def test_bad_seeds_are_refused_naming_seed(make, seed):
    with pytest.raises((TypeError, ValueError), match=r"^seed must be an integer") as caught:
        make(seed)
    assert not isinstance(caught.value, OverflowError)


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: PositionalEncoding(2, num_frequencies=200), "num_frequencies"),
        (lambda: PositionalEncoding(2, 4, max_log2_freq=1e9), "max_log2_freq"),
        (lambda: PositionalEncoding(2, 4, min_log2_freq=float("nan")), "min_log2_freq"),
        (lambda: TriangleWave(2, 200), "num_frequencies"),
        (lambda: GaussianFourierFeatures(2, 8, sigma=1e38), "sigma"),
        (lambda: GaussianFourierFeatures(2, 8, sigma=True), "sigma"),
        (lambda: HashGrid(2, num_levels=10**30), "num_levels"),
        (lambda: HashGrid(2, num_levels=16, growth=1e30), "growth"),
        (lambda: HashGrid(2, min_resolution=2**40), "min_resolution"),
        (lambda: IntegratedPositionalEncoding(2, 0, 10**6), "max_deg"),
        (lambda: IntegratedPositionalEncoding(2, 0.5, 4), "min_deg"),
        (lambda: OneBlob(2, 1.5), "num_bins"),
        (lambda: PositionalEncoding(2, num_frequencies=True), "num_frequencies"),
    ],
)
def test_bad_arguments_name_themselves(make, name):
    with pytest.raises((TypeError, ValueError)) as caught:
        make()
    assert not isinstance(caught.value, (OverflowError, RecursionError))
    assert name in str(caught.value)


def _nested(depth):
    config = {"otype": "Identity"}
    for _ in range(depth):
        config = {"otype": "Composite", "nested": [config]}
    return config


@pytest.mark.parametrize("depth", [MAX_NESTING + 1, 1500])
def test_deep_composites_are_refused(depth):
    with pytest.raises(ValueError, match="nested"):
        from_config(_nested(depth), 2)
    with pytest.raises(ValueError, match="nested"):
        from_config(
            json.dumps(_nested(depth))
            if depth < 900
            else "{" + '"otype": "Composite", "nested": [{' * depth + "}]" * depth + "}",
            2,
        )


def test_shallow_composites_still_build():
    encoder = from_config(_nested(3), 2)
    assert encoder(torch.rand(5, 2)).shape == (5, encoder.out_dim)


def test_negative_covariance_is_refused():
    ipe = IntegratedPositionalEncoding(2, 0, 4)
    with pytest.raises(ValueError, match="cov must have finite, non-negative variances"):
        ipe(torch.rand(3, 2), torch.full((3, 2), -1.0))


@pytest.mark.parametrize("magnitude", [1e5, 1e10, 1e20, 3e38])
def test_spherical_harmonics_stay_finite_and_match_float64(magnitude):
    torch.manual_seed(0)
    for convention in ("tcnn", "nerfstudio"):
        encoder = SphericalHarmonics(3, 4 if convention == "tcnn" else 4, convention=convention)
        x = (torch.rand(16, 3) * 2 - 1) * magnitude
        y = encoder(x)
        assert y.dtype == torch.float32 and torch.isfinite(y).all()
        reference = encoder(x.double())  # the float64 polynomials, saturated to float32's range
        limit = torch.finfo(torch.float32).max
        expected = reference.clamp(-limit, limit).float()
        assert torch.allclose(y, expected, rtol=1e-6, atol=0)


def test_spherical_harmonics_degree_8_at_1e5_is_finite():
    y = SphericalHarmonics(3, 8)(torch.full((4, 3), 1e5))
    assert torch.isfinite(y).all()


@pytest.mark.parametrize("magnitude", [1e5, 1e20, 3e38])
def test_oneblob_stays_finite_and_matches_float64(magnitude):
    encoder = OneBlob(2, 16)
    x = (torch.rand(8, 2) * 2 - 1) * magnitude
    y = encoder(x)
    assert torch.isfinite(y).all()
    assert torch.allclose(y.double(), encoder(x.double()), atol=1e-6)


def test_oneblob_in_domain_values_unchanged():
    """The clamp inside the kernel's CDF changes nothing in [0, 1]: rows still sum to 1 per coordinate."""
    y = OneBlob(3, 8)(torch.rand(32, 3)).reshape(32, 3, 8)
    assert torch.allclose(y.sum(-1), torch.ones(32, 3), atol=1e-5)
    assert (y >= 0).all()


def test_composite_far_inputs_finite_and_bad_parts_named():
    composite = Composite(2, [PositionalEncoding(1, 4), OneBlob(1, 8)])
    assert composite.out_dim == 2 * 4 + 8
    assert torch.isfinite(composite(torch.full((4, 2), 1e20))).all()
    with pytest.raises((TypeError, ValueError), match="reduction"):
        Composite(2, [PositionalEncoding(1, 4), OneBlob(1, 8)], reduction="median")
