"""Rahaman et al. 2019 at small scale: targets, learning order, perturbation robustness, manifolds."""

import math

import numpy as np
import pytest
import torch

from coordnet.nets import build_model
from coordnet.spectral.rahaman import (
    PAPER_FREQUENCIES,
    flower_curve,
    manifold_experiment,
    perturbation_spectrum,
    sinusoid_target,
    train_spectral_run,
    unit_grid,
)
from coordnet.spectral.spectrum import amplitudes

pytestmark = pytest.mark.usefixtures("one_thread")


def test_target_is_the_papers_sum_of_sinusoids():
    equal = sinusoid_target(seed=3)
    assert equal.frequencies.tolist() == list(range(5, 55, 5)) == list(PAPER_FREQUENCIES)
    assert equal.amplitudes.tolist() == [1.0] * 10
    assert ((equal.phases >= 0) & (equal.phases < 1)).all()
    increasing = sinusoid_target(amplitudes="increasing", seed=3)
    np.testing.assert_allclose(increasing.amplitudes.numpy(), [0.1 * i for i in range(1, 11)])
    assert torch.equal(increasing.phases, equal.phases)  # the seed fixes the phases
    assert not torch.equal(sinusoid_target(seed=4).phases, equal.phases)

    t = unit_grid(200)
    assert t[1].item() == pytest.approx(1 / 200) and t.shape == (200,)
    values = increasing(t)
    expected = sum(
        0.1 * i * torch.sin(2 * math.pi * (5 * i * t + increasing.phases[i - 1]))
        for i in range(1, 11)
    )
    np.testing.assert_allclose(values.numpy(), expected.numpy(), atol=1e-12)
    np.testing.assert_allclose(
        amplitudes(values, increasing.frequencies).numpy(),
        increasing.amplitudes.numpy(),
        atol=1e-12,
    )


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"frequencies": [5, 5]}, "distinct positive integers"),
        ({"frequencies": [0, 5]}, "distinct positive integers"),
        ({"amplitudes": "decreasing"}, "amplitudes must be one of 'equal', 'increasing'"),
        ({"frequencies": [1, 2], "amplitudes": [1.0]}, "2 positive numbers"),
        ({"frequencies": [1, 2], "amplitudes": [1.0, -1.0]}, "2 positive numbers"),
    ],
)
def test_target_rejects_bad_settings(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        sinusoid_target(**kwargs)


def test_frequencies_above_nyquist_of_the_grid_are_refused():
    model = build_model("relu:width=4,depth=1", 1, 1)
    with pytest.raises(ValueError, match="above the Nyquist frequency 16 of 32 samples"):
        train_spectral_run(
            model, sinusoid_target([5, 20]), steps=1, lr=1e-3, record_every=1, n_points=32
        )


SMALL = dict(frequencies=(1, 3, 7), n_points=32)


def small_run(spec, steps, lr, seed=0):
    target = sinusoid_target(SMALL["frequencies"], seed=seed)
    torch.manual_seed(seed)
    model = build_model(spec, 1, 1)
    return train_spectral_run(
        model, target, steps=steps, lr=lr, record_every=5, n_points=SMALL["n_points"], seed=seed
    )


@pytest.fixture(scope="module")
def relu_run():
    return small_run("relu:width=48,depth=3", steps=800, lr=3e-3)


def test_relu_mlp_learns_low_frequencies_first(relu_run):
    steps = relu_run.order.steps  # k = 1, 3, 7
    assert steps[0] is not None and steps[1] is not None
    assert steps[0] < steps[1]
    assert steps[2] is None or steps[2] > steps[1]
    assert relu_run.order.index > 0.8
    curves = relu_run.curves
    assert curves.steps[0] == 0 and curves.steps[-1] == 800 and curves.normalised.shape == (161, 3)
    # the heat map: k = 1 close to its target long before k = 7
    halfway = int(torch.nonzero(curves.steps == 400)[0])
    assert curves.normalised[halfway, 0] > 0.9 > curves.normalised[halfway, 2]


def test_fourier_features_learn_all_frequencies_at_nearly_the_same_step(relu_run):
    run = small_run("gauss:num_frequencies=64,sigma=8+relu:width=48,depth=3", steps=100, lr=3e-3)
    steps = run.order.steps
    assert all(s is not None for s in steps), steps
    assert max(steps) - min(steps) <= 20  # within a few records of each other ...
    assert max(steps) < relu_run.order.steps[1]  # ... before the ReLU MLP has learned k = 3


def test_perturbation_hurts_high_frequencies_first(relu_run):
    """Rahaman's Fig. 2: under random parameter perturbations the amplitude of the higher
    frequency decays while the lower one's stays (it even grows: the perturbation itself is
    mostly low-frequency, which the relative deviation shows)."""
    model = relu_run.model
    before = [p.detach().clone() for p in model.parameters()]
    coords = unit_grid(32).float()[:, None]
    result = perturbation_spectrum(
        model, coords, [1, 3], [0.0, 0.5, 1.0, 2.0, 4.0], directions=8, seed=0
    )
    assert all(
        torch.equal(a, b) for a, b in zip(before, model.parameters())
    )  # the model is untouched
    np.testing.assert_allclose(result.normalised[0].numpy(), [1.0, 1.0], atol=1e-6)  # δ = 0
    np.testing.assert_allclose(result.deviation[0].numpy(), [0.0, 0.0], atol=1e-6)
    assert (result.normalised[-2:, 1] < 1).all() and (result.normalised[-2:, 0] > 1).all()
    assert (torch.diff(result.deviation[:, 0]) > 0).all()  # the change grows with δ
    assert result.parameter_norm == pytest.approx(
        float(torch.cat([p.reshape(-1) for p in before]).norm()), rel=1e-6
    )
    record = result.to_dict()
    assert np.asarray(record["normalised_amplitude"]).shape == (5, 2) and record["directions"] == 8


def test_perturbation_directions_have_unit_norm():
    """A one-parameter model f(t) = w sin(2π t): δ moves w by exactly ±δ, so the amplitude is |w ± δ|."""

    class OneWeight(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.tensor(2.0, dtype=torch.float64))

        def forward(self, x):
            return self.w * torch.sin(2 * math.pi * x)

    coords = unit_grid(16)[:, None]
    result = perturbation_spectrum(OneWeight(), coords, [1], [0.5, 1.0], directions=4, seed=1)
    np.testing.assert_allclose(
        result.deviation[:, 0].numpy(), [0.25, 0.5], atol=1e-12
    )  # |δ u| / |w|, |u| = 1
    with pytest.raises(ValueError, match="deltas"):
        perturbation_spectrum(OneWeight(), coords, [1], [-1.0])
    with pytest.raises(ValueError, match="above the Nyquist"):
        perturbation_spectrum(OneWeight(), coords, [9], [1.0])


def test_flower_curve():
    phi = torch.linspace(0, 2 * math.pi, 7, dtype=torch.float64)
    circle = flower_curve(phi, 0)
    np.testing.assert_allclose(circle.norm(dim=-1).numpy(), 1.0, atol=1e-12)
    flower = flower_curve(phi, 5)
    np.testing.assert_allclose(
        flower.norm(dim=-1).numpy(), (1 + 0.5 * torch.sin(5 * phi)).numpy(), atol=1e-12
    )
    np.testing.assert_allclose(
        torch.atan2(flower[1:-1, 1], flower[1:-1, 0]).remainder(2 * math.pi).numpy(),
        phi[1:-1].numpy(),
        atol=1e-12,
    )
    with pytest.raises(ValueError, match="L must be an integer >= 0"):
        flower_curve(phi, -1)


def test_a_curvier_manifold_makes_its_own_frequency_easy():
    """sin(Lφ) along γ_L is 2(|x| - 1): smooth in R², learned within a budget that leaves it
    unlearned along the circle (L = 0)."""
    result = manifold_experiment(
        [0, 16],
        [16],
        lambda: build_model("relu:width=32,depth=3", 2, 1),
        steps=150,
        lr=3e-3,
        n_points=64,
    )
    assert result.amplitude.shape == (2, 1)
    assert result.learnability()[1, 0] > 0.95 and result.learnability()[0, 0] < 0.7
    assert result.amplitude[1, 0] > 0.95 > result.amplitude[0, 0]
    record = result.to_dict()
    assert record["L"] == [0, 16] and record["rank_correlation_L_learnability"] == pytest.approx(
        1.0
    )


def test_unit_grid_is_the_one_half_open_grid_of_the_spectral_modules():
    from coordnet.spectral import spectrum
    from coordnet.spectral.empirical_ntk import uniform_grid

    for n in (2, 7, 200, 1000):
        t = spectrum.unit_grid(n)
        assert t.dtype == torch.float64 and t.shape == (n,)
        np.testing.assert_array_equal(t.numpy(), np.arange(n, dtype=np.float64) / n)
        assert torch.equal(uniform_grid(n, torch.float64), t[:, None])
        assert torch.equal(uniform_grid(n), t.float()[:, None])
    assert unit_grid is spectrum.unit_grid
    with pytest.raises(ValueError, match="n must be an integer >= 2, got 1"):
        spectrum.unit_grid(1)
