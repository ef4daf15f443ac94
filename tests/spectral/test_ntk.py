"""Closed-form NTK eigenvalues (circle, sphere) against quadrature of the kernel and against a
Monte-Carlo network; the empirical NTK against explicit Jacobians."""

import math

import numpy as np
import pytest
import torch
from scipy.integrate import quad
from scipy.special import eval_legendre
from torch import nn

from coordnet.encoders import GaussianFourierFeatures
from coordnet.nets import ReluMLP
from coordnet.spectral.empirical_ntk import (
    empirical_ntk,
    gram_spectrum,
    ntk_gram,
    ntk_spectrum,
    uniform_grid,
)
from coordnet.spectral.ntk_circle import (
    circle_grid_eigenvalues,
    circle_ntk_eigenvalues,
    circle_ntk_kernel,
    dot_product_ntk,
    sphere_ntk_eigenvalues,
)

PI = math.pi


def kernel_np(t: float, bias: bool) -> float:
    """The kernel written independently of the module: E_w[x̄·z̄ 1(w·x>0) 1(w·z>0)] in closed form."""
    t = min(1.0, max(-1.0, t))
    angle = PI - math.acos(t)
    return (1 + t) / 2 * angle / (2 * PI) if bias else t * angle / (2 * PI)


def circle_quadrature(k: int, bias: bool) -> float:
    # λ_k = ∫_{-π}^{π} K(cos θ) cos kθ dθ = 2 ∫_0^π ... (K is even); the kink is at θ = 0, an endpoint.
    value, _ = quad(
        lambda th: kernel_np(math.cos(th), bias) * math.cos(k * th),
        0.0,
        PI,
        limit=400,
        epsabs=1e-13,
    )
    return 2 * value


@pytest.mark.parametrize("bias", [False, True])
def test_circle_eigenvalues_equal_quadrature_of_the_kernel(bias):
    lam = circle_ntk_eigenvalues(24, bias)
    assert lam.dtype == torch.float64 and lam.shape == (25,)
    numeric = np.array([circle_quadrature(k, bias) for k in range(25)])
    np.testing.assert_allclose(lam.numpy(), numeric, rtol=1e-9, atol=1e-12)


def test_circle_eigenvalues_stated_ratios():
    plain = circle_ntk_eigenvalues(12, False)
    assert plain[0].item() == pytest.approx(2 / PI, rel=1e-14)
    assert plain[1].item() == pytest.approx(PI / 4, rel=1e-14)
    for k in (2, 4, 6, 8, 10, 12):
        assert plain[k].item() == pytest.approx(
            2 * (k * k + 1) / (PI * (k * k - 1) ** 2), rel=1e-13
        )
    assert torch.all(plain[3::2] == 0)  # odd k >= 3: exactly zero without bias
    assert (plain[:2] > 0).all() and (plain[::2] > 0).all()

    bias = circle_ntk_eigenvalues(12, True)
    for k in (3, 5, 7, 9, 11):
        assert bias[k].item() == pytest.approx(1 / (PI * k * k), rel=1e-13)
    # ratios: with bias the even part is half the bias-free kernel's, λ_0 and λ_1 get the bias term
    assert (bias[2] / bias[3]).item() == pytest.approx((5 / (9 * PI)) / (1 / (9 * PI)), rel=1e-13)
    assert bias[0].item() == pytest.approx(PI / 4 + 1 / PI, rel=1e-14)
    assert bias[1].item() == pytest.approx(PI / 8 + 1 / PI, rel=1e-14)
    assert torch.all(bias > 0)
    # with bias every eigenvalue decays like 1/(π k²): even ones are (1 + O(3/k²)) times that
    k = torch.arange(200, 400, dtype=torch.float64)
    big = circle_ntk_eigenvalues(399, True)[200:]
    assert torch.allclose(big * PI * k**2, torch.ones_like(k), rtol=1e-4)


@pytest.mark.parametrize("bias", [False, True])
def test_kernel_function_matches_independent_formula(bias):
    theta = torch.linspace(-3 * PI, 3 * PI, 101, dtype=torch.float64)
    expected = torch.tensor(
        [kernel_np(math.cos(t), bias) for t in theta.tolist()], dtype=torch.float64
    )
    torch.testing.assert_close(circle_ntk_kernel(theta, bias), expected, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("bias", [False, True])
def test_kernel_is_the_infinite_width_limit_of_the_network_ntk(bias):
    # Monte Carlo over w ~ N(0, I): (1/m) Σ_r 1(w_r·x̄ > 0) 1(w_r·z̄ > 0) x̄·z̄, bias weight at 0.
    torch.manual_seed(0)
    w = torch.randn(400_000, 2, dtype=torch.float64)
    theta = torch.tensor([0.0, 0.7, 2.0, 3.0], dtype=torch.float64)
    x = torch.stack([theta.cos(), theta.sin()], 1)
    base = torch.tensor([1.0, 0.0], dtype=torch.float64)
    both = ((w @ x.T) > 0) & ((w @ base) > 0)[:, None]
    dot = x @ base
    dot_bar = (dot + 1) / 2 if bias else dot
    estimate = both.double().mean(0) * dot_bar
    torch.testing.assert_close(estimate, circle_ntk_kernel(theta, bias), atol=3e-3, rtol=0)


@pytest.mark.parametrize("bias", [False, True])
def test_grid_eigenvalues_are_exact_gram_eigenvalues(bias):
    n = 32
    mu = circle_grid_eigenvalues(8, n, bias)
    theta = torch.arange(n, dtype=torch.float64) * 2 * PI / n
    gram = circle_ntk_kernel(theta[:, None] - theta[None, :], bias)
    for k in range(9):
        for vector in (torch.cos(k * theta), torch.sin(k * theta)):
            if vector.norm() < 1e-9:
                continue
            torch.testing.assert_close(gram @ vector, mu[k] * vector, atol=1e-12, rtol=0)
    # Poisson summation: μ_k = (n/2π) Σ_q λ_{|k + q n|} (truncated at |q| <= Q; tail ~ 1/(π n² Q))
    Q = 2000
    lam = circle_ntk_eigenvalues(8 + Q * n, bias)
    q = torch.arange(-Q, Q + 1)
    aliased = torch.stack([lam[(k + q * n).abs()].sum() for k in range(9)]) * n / (2 * PI)
    torch.testing.assert_close(mu, aliased, rtol=2e-4, atol=1e-12)
    if not bias:
        assert torch.all(mu[3::2].abs() < 1e-13)


@pytest.mark.parametrize("bias", [False, True])
def test_sphere_eigenvalues_equal_funk_hecke_quadrature(bias):
    lam = sphere_ntk_eigenvalues(14, bias)
    numeric = [
        2
        * PI
        * quad(
            lambda p, k=k: (
                kernel_np(math.cos(p), bias) * eval_legendre(k, math.cos(p)) * math.sin(p)
            ),
            0,
            PI,
            limit=400,
            epsabs=1e-13,
        )[0]
        for k in range(15)
    ]
    np.testing.assert_allclose(lam.numpy(), numeric, rtol=1e-9, atol=1e-12)
    if not bias:
        assert torch.all(lam[3::2] == 0)
        assert lam[0].item() == pytest.approx(PI / 4) and lam[1].item() == pytest.approx(PI / 3)
    else:
        assert torch.all(lam > 0)


def test_sphere_eigenvalues_decay_like_k_cubed():
    lam = sphere_ntk_eigenvalues(80, True)
    k = torch.arange(40, 81, dtype=torch.float64)
    slope = np.polyfit(np.log(k.numpy()), np.log(lam[40:].numpy()), 1)[0]
    assert slope == pytest.approx(-3.0, abs=0.1)


def test_sphere_is_the_funk_hecke_eigenvalue_of_the_discrete_operator():
    # A zonal harmonic on a fine Fibonacci lattice: (4π/n) H P_k ≈ λ_k P_k.
    from coordnet.spectral.convergence import sphere_points

    x = sphere_points(3000)
    gram = dot_product_ntk(x @ x.T, True) * (4 * PI / x.shape[0])
    lam = sphere_ntk_eigenvalues(4, True)
    for k in range(5):
        y = torch.tensor(eval_legendre(k, x[:, 2].numpy()))
        rayleigh = (y @ gram @ y) / (y @ y)
        assert rayleigh.item() == pytest.approx(lam[k].item(), rel=2e-2)


@pytest.mark.parametrize("function", [circle_ntk_eigenvalues, sphere_ntk_eigenvalues])
def test_bad_kmax_and_bias(function):
    with pytest.raises(ValueError, match="kmax must be an integer >= 0, got -1"):
        function(-1, True)
    with pytest.raises(TypeError, match="kmax must be an integer"):
        function(2.5, True)
    with pytest.raises(TypeError, match="bias must be True or False"):
        function(3, "yes")
    assert function(0, False).shape == (1,)


def test_grid_eigenvalues_bad_points():
    with pytest.raises(ValueError, match="points must be an integer >= 1, got 0"):
        circle_grid_eigenvalues(3, 0, True)


# --- empirical NTK ---------------------------------------------------------------------------


def explicit_ntk(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Θ_ij = ∇_p f(x_i) · ∇_p f(x_j), one autograd.grad per point."""
    rows = []
    params = [p for p in model.parameters() if p.requires_grad]
    for i in range(x.shape[0]):
        out = model(x[i : i + 1]).reshape(())
        grads = torch.autograd.grad(out, params)
        rows.append(torch.cat([g.reshape(-1) for g in grads]))
    jacobian = torch.stack(rows)
    return jacobian @ jacobian.T


@pytest.mark.parametrize(
    "make",
    [
        lambda: ReluMLP(1, 1, width=7, depth=2),
        lambda: ReluMLP(2, 1, width=5, depth=1, bias=False),
        lambda: nn.Sequential(
            GaussianFourierFeatures(1, 4, 3.0, seed=1), ReluMLP(8, 1, width=6, depth=2)
        ),
    ],
)
def test_empirical_ntk_matches_explicit_jacobians(make):
    torch.manual_seed(0)
    model = make().double()
    x = torch.rand(
        9,
        model[0].in_dim if isinstance(model, nn.Sequential) else model.in_dim,
        dtype=torch.float64,
    )
    theta = empirical_ntk(model, x, chunk_size=4)
    expected = explicit_ntk(model, x)
    torch.testing.assert_close(theta, expected, rtol=1e-12, atol=1e-12)
    assert torch.equal(theta, theta.T)
    assert torch.linalg.eigvalsh(theta).min() > -1e-10


def test_empirical_ntk_frozen_parameters_and_output_channel():
    torch.manual_seed(0)
    model = ReluMLP(1, 2, width=5, depth=1).double()
    model.layers[0].weight.requires_grad_(False)
    x = torch.rand(6, 1, dtype=torch.float64)

    class Pick(nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return self.inner(x)[..., 1:2]

    expected = explicit_ntk(Pick(model), x)
    torch.testing.assert_close(empirical_ntk(model, x, output=1), expected, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="output must be < the model's 2 outputs, got 2"):
        empirical_ntk(model, x, output=2)


def test_ntk_gram_of_a_linear_model_is_the_feature_gram():
    features = torch.randn(10, 3, dtype=torch.float64)
    w = torch.randn(3, dtype=torch.float64)
    gram = ntk_gram(lambda p, x: x @ p["w"], {"w": w}, features)
    torch.testing.assert_close(gram, features @ features.T)


def test_spectrum_of_a_circulant_kernel_finds_the_frequencies():
    n = 64
    theta = torch.arange(n, dtype=torch.float64) * 2 * PI / n
    # eigenvalue (n/2)/(1+k²) for cos kθ and sin kθ (the constant: weight ½ so that it gets n/2 too)
    diff = theta[:, None] - theta[None, :]
    gram = 0.5 + sum(torch.cos(k * diff) / (1 + k * k) for k in range(1, 9))
    spectrum = gram_spectrum(gram)
    assert spectrum.eigenvalues.shape == (n,)
    assert torch.all(spectrum.eigenvalues[:-1] >= spectrum.eigenvalues[1:])
    assert spectrum.dominant_frequency[0] == 0
    expected = [0] + [k for k in range(1, 9) for _ in range(2)]
    assert spectrum.dominant_frequency[:17].tolist() == expected
    assert spectrum.count_above(1 / 65.5) == 1 + 2 * 8  # 1/(1+64) = λ_8 / λ_0 and above
    assert spectrum.frequency_reach(0.1) == 3  # 1/(1+9) = 0.1
    torch.testing.assert_close(
        spectrum.spectral_centroid[0], torch.tensor(0.0, dtype=torch.float64)
    )


def test_fourier_features_widen_the_ntk_bandwidth():
    torch.manual_seed(0)
    raw = ReluMLP(1, 1, width=64, depth=2)
    ff = nn.Sequential(
        GaussianFourierFeatures(1, 32, 8.0, seed=0), ReluMLP(64, 1, width=64, depth=2)
    )
    grid = uniform_grid(48)
    s_raw, s_ff = ntk_spectrum(raw, grid), ntk_spectrum(ff, grid)
    assert s_ff.count_above(1e-2) > 2 * s_raw.count_above(1e-2)
    assert s_ff.frequency_reach(1e-2) > s_raw.frequency_reach(1e-2)


def test_empirical_ntk_bad_input():
    model = ReluMLP(1, 1, width=4, depth=1)
    with pytest.raises(ValueError, match="inputs is empty"):
        empirical_ntk(model, torch.zeros(0, 1))
    with pytest.raises(ValueError, match=r"inputs must have shape \(n, in_dim\)"):
        empirical_ntk(model, torch.zeros(5))
    with pytest.raises(TypeError, match="floating-point"):
        empirical_ntk(model, torch.zeros(3, 1, dtype=torch.int64))
    with pytest.raises(ValueError, match="grid needs at least 2 points, got 1"):
        ntk_spectrum(model, torch.zeros(1))
    with pytest.raises(ValueError, match="grid must be a 1D grid"):
        ntk_spectrum(model, torch.zeros(4, 2))
    with pytest.raises(ValueError, match="gram must be a square"):
        gram_spectrum(torch.zeros(3, 4))
    with pytest.raises(ValueError, match="gram is empty"):
        gram_spectrum(torch.zeros(0, 0))
    with pytest.raises(ValueError, match="params is empty"):
        ntk_gram(lambda p, x: x[:, 0], {}, torch.zeros(2, 1))
    frozen = ReluMLP(1, 1, width=4, depth=1).requires_grad_(False)
    with pytest.raises(ValueError, match="no trainable parameters"):
        empirical_ntk(frozen, torch.zeros(3, 1))
