"""Time-to-learn vs frequency (Basri et al. 2019) at small scale, the power-law fit, the predictions."""

import json
import math

import pytest
import torch

from coordnet.encoders import PositionalEncoding
from coordnet.spectral.convergence import (
    TimeToLearn,
    circle_points,
    deep_time_to_learn,
    fit_power_law,
    predicted_iterations,
    shallow_time_to_learn,
    sphere_points,
    targets,
)
from coordnet.spectral.ntk_circle import circle_grid_eigenvalues

SMALL = dict(points=32, width=256, init_scale=100.0)


# --- power-law fit ---------------------------------------------------------------------------


def test_fit_recovers_a_known_power_law():
    k = torch.arange(1, 21)
    fit = fit_power_law(k, 3.0 * k.double() ** 2.5)
    assert fit.exponent == pytest.approx(2.5, abs=1e-10)
    assert fit.prefactor == pytest.approx(3.0, rel=1e-9)
    assert fit.r_squared == pytest.approx(1.0, abs=1e-12)


def test_fit_with_noise_range_and_mask():
    generator = torch.Generator().manual_seed(0)
    k = torch.arange(1, 41)
    times = (
        7.0
        * k.double() ** 2
        * torch.exp(0.05 * torch.randn(40, generator=generator, dtype=torch.float64))
    )
    times[:2] = 1e6  # outliers outside the fitted range
    times[10] = -1.0  # masked out
    mask = torch.ones(40, dtype=torch.bool)
    mask[10] = False
    fit = fit_power_law(k, times, k_min=3, mask=mask)
    assert fit.exponent == pytest.approx(2.0, abs=0.05)
    assert 11 not in fit.frequencies.tolist() and fit.frequencies.min() == 3
    assert 0.95 < fit.r_squared < 1.0
    assert fit_power_law(k, times, k_min=3, k_max=30, mask=mask).frequencies.max() == 30


def test_fit_bad_input():
    with pytest.raises(ValueError, match="at least 2 distinct frequencies"):
        fit_power_law(torch.tensor([3, 3]), torch.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="at least 2 distinct frequencies"):
        fit_power_law(torch.tensor([1, 2, 3]), torch.tensor([1.0, 2.0, 3.0]), k_min=3)
    with pytest.raises(ValueError, match="times must be positive and finite"):
        fit_power_law(torch.tensor([1, 2]), torch.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="times must be positive and finite"):
        fit_power_law(torch.tensor([1, 2]), torch.tensor([1.0, math.inf]))
    with pytest.raises(ValueError, match="same length"):
        fit_power_law(torch.tensor([1, 2, 3]), torch.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="frequencies must be positive"):
        fit_power_law(torch.tensor([0, 2]), torch.tensor([1.0, 2.0]))


# --- predictions -----------------------------------------------------------------------------


def test_predicted_iterations_match_iterating_the_linear_map():
    mu = torch.tensor([0.0, 0.01, 0.3, 1.0, 1.9, 2.5], dtype=torch.float64)
    predicted = predicted_iterations(mu, 1.0, 0.05)
    for j, m in enumerate(mu.tolist()):
        r, t = 1.0, 0
        while r * r >= 0.05 and t < 10_000:
            r *= 1.0 - m
            t += 1
        if t == 10_000:
            assert math.isinf(predicted[j])
        else:
            assert predicted[j] == t
    assert predicted_iterations(mu, 1.0, 1.5).eq(0).all()


# --- data ------------------------------------------------------------------------------------


def test_points_and_targets():
    theta, x = circle_points(16)
    torch.testing.assert_close(x.norm(dim=1), torch.ones(16, dtype=torch.float64))
    assert theta[1].item() == pytest.approx(2 * math.pi / 16)
    s = sphere_points(500)
    torch.testing.assert_close(s.norm(dim=1), torch.ones(500, dtype=torch.float64))
    assert s.mean(0).abs().max() < 0.01  # balanced
    _, y = targets("sphere", torch.tensor([1, 2, 3]), 2000)
    gram = y @ y.T / 2000
    torch.testing.assert_close(gram, torch.eye(3, dtype=torch.float64), atol=0.02, rtol=0)
    with pytest.raises(ValueError, match="domain must be one of"):
        targets("torus", torch.tensor([1]), 8)


# --- the claims at small scale ---------------------------------------------------------------


def test_bias_free_two_layer_net_leaves_odd_frequencies_unlearned():
    run = shallow_time_to_learn([1, 2, 3, 4, 5, 6], bias=False, max_iterations=300, **SMALL)
    assert run.learned.tolist() == [True, True, False, True, False, True]
    # not learnable at all: sin kθ (odd k >= 3) is orthogonal to every function the net can make
    assert (run.final_loss[[2, 4]] >= 1.0 - 1e-3).all()  # exactly >= 1 up to float32 rounding
    assert (run.iterations[[2, 4]] == 300).all()
    assert math.isinf(run.predicted[2]) and math.isinf(run.predicted[4])
    assert torch.all(run.kernel_eigenvalues[[2, 4]] == 0)


def test_with_bias_time_to_learn_grows_with_k_as_the_kernel_predicts():
    run = shallow_time_to_learn(
        [1, 2, 3, 4, 5, 6, 7],
        bias=True,
        max_iterations=1000,
        points=32,
        width=1024,
        init_scale=100.0,
    )
    assert run.learned.all()
    t = run.iterations
    assert torch.all(t[1:] > t[:-1]), t
    # in the kernel regime the measured time is the linearised prediction ln ε / (2 ln(1 − η μ_k))
    torch.testing.assert_close(t.double(), run.predicted, rtol=0.12, atol=1.0)
    # and μ_k is the exact Gram eigenvalue of sin kθ on the grid
    mu = circle_grid_eigenvalues(7, 32, True)[1:]
    torch.testing.assert_close(run.kernel_eigenvalues, mu, rtol=1e-10, atol=1e-12)
    # the loss decays geometrically at rate (1 − η μ_k)² until it is learned
    steps, history = run.history_steps, run.history
    j = 6
    keep = (steps > 0) & (steps <= t[j])
    expected = (1 - run.learning_rate * mu[j]) ** (2 * steps[keep].double())
    torch.testing.assert_close(history[keep, j], expected, rtol=0.15, atol=0)


def test_with_bias_every_odd_frequency_is_learned():
    run = shallow_time_to_learn([3, 5], bias=True, max_iterations=1000, **SMALL)
    assert run.learned.all()


def test_sphere_time_grows_with_degree():
    run = shallow_time_to_learn(
        [1, 2, 3, 4], domain="sphere", points=400, width=1024, init_scale=100.0, max_iterations=2000
    )
    assert run.learned.all()
    assert torch.all(run.iterations[1:] > run.iterations[:-1])
    torch.testing.assert_close(run.iterations.double(), run.predicted, rtol=0.2, atol=2.0)


def test_deep_net_and_fourier_features():
    k = [1, 2, 4]
    raw = deep_time_to_learn(k, points=32, width=32, depth=2, max_iterations=2000, lr_factor=0.5)
    encoded = deep_time_to_learn(
        k,
        points=32,
        width=32,
        depth=2,
        max_iterations=2000,
        lr_factor=0.5,
        encoding=PositionalEncoding(1, 8, spacing="linear", max_log2_freq=3.0),
    )
    assert raw.learned.all() and encoded.learned.all()
    assert torch.all(
        raw.iterations[1:] > 3 * raw.iterations[:-1]
    )  # spectral bias of the plain deep net
    assert (
        encoded.iterations.max() < 3 * encoded.iterations.min()
    )  # nearly flat with Fourier features
    assert (
        raw.settings["input"] == "(cos θ, sin θ)" and encoded.settings["input"] == "encoding(θ/2π)"
    )


def test_same_seed_same_times_and_record_round_trip():
    a = shallow_time_to_learn([2, 3], bias=True, max_iterations=200, seed=3, **SMALL)
    b = shallow_time_to_learn([2, 3], bias=True, max_iterations=200, seed=3, **SMALL)
    assert torch.equal(a.iterations, b.iterations)
    record = json.loads(json.dumps(a.to_dict()))
    back = TimeToLearn.from_dict(record)
    assert torch.equal(back.iterations, a.iterations) and torch.equal(back.learned, a.learned)
    torch.testing.assert_close(back.predicted, a.predicted)
    assert back.cap == 200 and back.threshold == a.threshold


def test_divergence_is_reported():
    # η = 10/μ_max: far beyond the stability limit 2/μ_max of gradient descent
    with pytest.raises(
        FloatingPointError, match="diverged at iteration .* lower the learning rate"
    ):
        deep_time_to_learn([2], points=32, width=16, depth=2, max_iterations=400, lr_factor=10.0)


def test_bad_arguments():
    with pytest.raises(ValueError, match="frequencies is empty"):
        shallow_time_to_learn([], **SMALL)
    with pytest.raises(ValueError, match="frequencies must be an integer >= 1, got 0"):
        shallow_time_to_learn([0, 1], **SMALL)
    with pytest.raises(ValueError, match="Nyquist limit points/2 = 16 of the grid, got k = 16"):
        shallow_time_to_learn([16], **SMALL)
    with pytest.raises(ValueError, match="width must be even"):
        shallow_time_to_learn([1], points=32, width=255)
    with pytest.raises(ValueError, match="domain must be one of"):
        shallow_time_to_learn([1], domain="torus", **SMALL)
    with pytest.raises(ValueError, match="threshold must be a positive"):
        shallow_time_to_learn([1], threshold=0.0, **SMALL)
    with pytest.raises(ValueError, match="init_scale must be a positive"):
        shallow_time_to_learn([1], points=32, width=256, init_scale=-1.0)
    with pytest.raises(ValueError, match="points must be an integer >= 2, got 0"):
        deep_time_to_learn([1], points=0)
    with pytest.raises(TypeError, match="encoding must be an nn.Module or None"):
        deep_time_to_learn([1], points=32, encoding="pe")


@pytest.mark.parametrize("bias", [True, False])
def test_mlp_ntk_formula_equals_the_jacobian_ntk(bias):
    from coordnet.spectral.convergence import _init_mlp, _mlp_forward, mlp_ntk_gram
    from coordnet.spectral.empirical_ntk import ntk_gram

    layers = _init_mlp(3, 7, 3, bias, torch.Generator().manual_seed(0))
    flat = [t for layer in layers for t in layer if t is not None]
    x = torch.randn(11, 3, dtype=torch.float64)

    def function(params, inputs):
        return _mlp_forward([params[str(i)][None] for i in range(len(flat))], inputs, bias)[0]

    expected = ntk_gram(function, {str(i): t for i, t in enumerate(flat)}, x)
    torch.testing.assert_close(mlp_ntk_gram(layers, x), expected, rtol=1e-12, atol=1e-12)
