"""Label noise patterns and the fitted-fraction measure, on hand-made predictions."""

import math

import pytest
import torch

from coordnet.spectral.label_noise import fitted_fraction, noise_pattern


@pytest.fixture
def data():
    g = torch.Generator().manual_seed(0)
    inputs = torch.rand(200, 2, 3, generator=g)
    labels = torch.randint(0, 4, (200,), generator=g)
    return inputs, labels


def test_planar_pattern_values(data):
    inputs, _ = data
    noise = noise_pattern(inputs, 2.0, "planar", num_classes=4, amplitude=0.3, seed=5)
    flat = inputs.reshape(200, -1).double()
    expected = torch.sin(2 * math.pi * 2.0 * ((flat - flat.mean(0)) @ noise.direction))
    assert torch.allclose(noise.pattern, expected)
    assert noise.direction.norm().item() == pytest.approx(1.0)
    assert noise.output_direction.norm().item() == pytest.approx(1.0)
    assert noise.output_direction.sum().item() == pytest.approx(0.0, abs=1e-12)


def test_radial_pattern_values(data):
    inputs, _ = data
    center = torch.full((6,), 0.5)
    noise = noise_pattern(inputs, 1.5, "radial", num_classes=4, center=center)
    flat = inputs.reshape(200, -1).double()
    assert torch.allclose(noise.pattern, torch.sin(2 * math.pi * 1.5 * (flat - 0.5).norm(dim=1)))
    assert noise.direction is None


def test_fitted_fraction_on_hand_made_predictions(data):
    inputs, labels = data
    noise = noise_pattern(inputs, 3.0, "planar", num_classes=4, amplitude=0.5, seed=1)
    clean = torch.nn.functional.one_hot(labels, 4).double()
    noisy = noise.targets(labels, 4).double()
    assert torch.allclose(
        noisy - clean, 0.5 * noise.pattern[:, None] * noise.output_direction[None], atol=1e-6
    )
    assert fitted_fraction(noisy, noise, clean) == pytest.approx(1.0, abs=1e-6)
    assert fitted_fraction(clean, noise, clean) == 0.0
    half = clean + 0.5 * (noisy - clean)
    assert fitted_fraction(half, noise, clean) == pytest.approx(0.5, abs=1e-6)
    # A residual orthogonal to v (here: the same shift for every class) does not count.
    shifted = noisy + noise.pattern[:, None] * torch.ones(1, 4, dtype=torch.float64)
    assert fitted_fraction(shifted, noise, clean) == pytest.approx(1.0, abs=1e-6)


def test_errors(data):
    inputs, labels = data
    with pytest.raises(ValueError, match="kind must be one of"):
        noise_pattern(inputs, 1.0, "spiral", num_classes=4)
    with pytest.raises(ValueError, match="frequency"):
        noise_pattern(inputs, -1.0, num_classes=4)
    noise = noise_pattern(inputs, 1.0, num_classes=4)
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        fitted_fraction(torch.zeros(200, 3), noise, torch.zeros(200, 3))
    zero = noise_pattern(inputs, 0.0, num_classes=4)
    with pytest.raises(ValueError, match="undefined"):
        fitted_fraction(torch.zeros(200, 4), zero, torch.zeros(200, 4))
