"""Encoders: values against independent formulas, shapes, state, errors."""

import math

import pytest
import torch
from helpers import TWO_PI, phase_tolerance

from coordnet.encoders import (
    BasicFourier,
    FourierFeatures,
    GaussianFourierFeatures,
    Identity,
    IntegratedPositionalEncoding,
    PositionalEncoding,
    annealing_alpha,
    cosine_window,
)

ALL_ENCODERS = [
    lambda: Identity(3, scale=2.0, offset=-1.0),
    lambda: BasicFourier(3),
    lambda: PositionalEncoding(3, 5, include_input=True),
    lambda: PositionalEncoding(3, 4, layout="nerf-pytorch", factor=1.0),
    lambda: PositionalEncoding(3, 4, layout="tcnn", factor=math.pi),
    lambda: GaussianFourierFeatures(3, 32, 4.0),
    lambda: FourierFeatures(torch.randn(10, 3), learnable=True, include_input="last"),
    lambda: IntegratedPositionalEncoding(3, 0, 4),
]


@pytest.mark.parametrize("make", ALL_ENCODERS)
@pytest.mark.parametrize("batch", [(), (0,), (7,), (2, 5), (3, 0, 2)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_shapes_and_dtypes(make, batch, dtype):
    encoder = make()
    x = torch.rand(*batch, 3, dtype=dtype)
    y = encoder(x)
    assert y.shape == (*batch, encoder.out_dim)
    assert y.dtype == dtype
    assert encoder.get_out_dim() == encoder.out_dim


def per_axis_features(x, freqs, factor):
    """(N, d) -> sin, cos of shape (N, d, L): sin(factor f_l x_j)."""
    phase = factor * x[..., None].double() * freqs.double()
    return torch.sin(phase), torch.cos(phase)


def test_positional_encoding_blocks_layout():
    x = torch.rand(50, 2, dtype=torch.float64)
    encoder = PositionalEncoding(2, 6, include_input=True)
    s, c = per_axis_features(x, 2.0 ** torch.arange(6), TWO_PI)
    want = torch.cat((s.reshape(50, -1), c.reshape(50, -1), x), dim=-1)
    torch.testing.assert_close(
        encoder(x), want, rtol=0, atol=phase_tolerance(TWO_PI * 32, torch.float64)
    )


def test_positional_encoding_nerf_pytorch_layout():
    x = torch.randn(40, 3, dtype=torch.float64) * 4  # raw coordinates, any range
    encoder = PositionalEncoding(3, 5, factor=1.0, layout="nerf-pytorch", include_input=True)
    columns = [x]
    for l in range(5):
        columns += [torch.sin(x * 2.0**l), torch.cos(x * 2.0**l)]
    torch.testing.assert_close(encoder(x), torch.cat(columns, -1), rtol=0, atol=1e-12)


def test_positional_encoding_tcnn_layout():
    x = torch.rand(30, 3, dtype=torch.float64)
    L = 4
    encoder = PositionalEncoding(3, L, factor=math.pi, layout="tcnn")
    want = torch.empty(30, 2 * 3 * L, dtype=torch.float64)
    for i in range(2 * 3 * L):
        dim, level, phase_shift = i // (2 * L), (i // 2) % L, (i % 2) * math.pi / 2
        want[:, i] = torch.sin(2.0**level * math.pi * x[:, dim] + phase_shift)
    torch.testing.assert_close(encoder(x), want, rtol=0, atol=1e-12)


def test_positional_encoding_linear_spacing_and_range():
    encoder = PositionalEncoding(1, 4, min_log2_freq=1.0, max_log2_freq=4.0, spacing="linear")
    torch.testing.assert_close(
        encoder.frequencies, torch.linspace(2.0, 16.0, 4, dtype=torch.float64)
    )
    encoder = PositionalEncoding(1, 4, min_log2_freq=1.0, max_log2_freq=4.0)
    torch.testing.assert_close(
        encoder.frequencies, 2.0 ** torch.linspace(1.0, 4.0, 4, dtype=torch.float64)
    )


def test_basic_fourier():
    x = torch.rand(20, 2, dtype=torch.float64)
    want = torch.cat((torch.sin(TWO_PI * x), torch.cos(TWO_PI * x)), -1)
    torch.testing.assert_close(BasicFourier(2)(x), want, rtol=0, atol=1e-13)


def test_gaussian_fourier_features_definition():
    encoder = GaussianFourierFeatures(2, 4096, sigma=7.0, seed=3)
    assert encoder.B.shape == (4096, 2) and encoder.out_dim == 8192
    assert abs(encoder.B.std().item() - 7.0) < 0.2 and abs(encoder.B.mean().item()) < 0.3
    x = torch.rand(10, 2, dtype=torch.float64)
    phase = TWO_PI * x @ encoder.B.double().T
    want = torch.cat((torch.sin(phase), torch.cos(phase)), -1)
    torch.testing.assert_close(
        encoder(x), want, rtol=0, atol=phase_tolerance(phase.abs().max().item(), torch.float64)
    )


def test_gaussian_seed_generator_and_state_dict():
    a, b, c = (GaussianFourierFeatures(3, 16, 2.0, seed=s) for s in (1, 1, 2))
    assert torch.equal(a.B, b.B) and not torch.equal(a.B, c.B)
    g = torch.Generator().manual_seed(1)
    assert torch.equal(GaussianFourierFeatures(3, 16, 2.0, generator=g).B, a.B)
    assert "B" in a.state_dict()
    c.load_state_dict(a.state_dict())
    x = torch.rand(5, 3)
    assert torch.equal(c(x), a(x))


def test_learnable_fourier_features_train_B():
    B = torch.randn(8, 2, dtype=torch.float64)
    encoder = FourierFeatures(B, learnable=True).double()
    assert isinstance(encoder.B, torch.nn.Parameter)
    x = torch.rand(3000, 2, dtype=torch.float64)
    weights = torch.randn(16, dtype=torch.float64)
    (encoder(x) @ weights).sum().backward()
    B_ref = B.clone().requires_grad_()
    phase = TWO_PI * x @ B_ref.T
    (torch.cat((torch.sin(phase), torch.cos(phase)), -1) @ weights).sum().backward()
    torch.testing.assert_close(encoder.B.grad, B_ref.grad, rtol=1e-9, atol=1e-9)
    assert not FourierFeatures(B).B.requires_grad


def test_identity_affine():
    x = torch.rand(4, 2)
    torch.testing.assert_close(Identity(2, scale=2.0, offset=-1.0)(x), 2 * x - 1)
    assert Identity(2)(x) is x


def test_cosine_window_values():
    assert torch.equal(cosine_window(4, 0.0), torch.zeros(4))
    assert torch.equal(cosine_window(4, 4.0), torch.ones(4))
    w = cosine_window(4, 1.5)
    torch.testing.assert_close(w, torch.tensor([1.0, 0.5, 0.0, 0.0]))
    assert (
        annealing_alpha(0, 8, 100) == 0.0
        and annealing_alpha(50, 8, 100) == 4.0
        and annealing_alpha(500, 8, 100) == 8.0
    )
    with pytest.raises(ValueError, match="anneal_steps"):
        annealing_alpha(1, 8, 0)


@pytest.mark.parametrize("layout", ["blocks", "nerf-pytorch", "tcnn"])
def test_windowed_positional_encoding_scales_each_band(layout):
    encoder = PositionalEncoding(2, 5, layout=layout)
    x = torch.rand(6000, 2)  # large enough for the compiled path
    plain = encoder(x)
    encoder.set_window(2.3)
    windowed = encoder(x)
    window = cosine_window(5, 2.3)
    probe = PositionalEncoding(2, 5, layout=layout)
    # Identify each column's band through the frequency matrix rows.
    band_of_row = torch.log2(probe.B.abs().sum(1)).round().long()
    weights = window[band_of_row]
    group = probe.group
    per_column = torch.stack((weights.reshape(-1, group), weights.reshape(-1, group)), 1).reshape(
        -1
    )
    torch.testing.assert_close(windowed, plain * per_column, rtol=1e-5, atol=1e-6)
    encoder.set_window(None)
    torch.testing.assert_close(encoder(x), plain)


def test_integrated_positional_encoding_matches_monte_carlo():
    torch.manual_seed(1)
    encoder = IntegratedPositionalEncoding(2, 0, 3, factor=math.pi)
    mean = torch.rand(4, 2, dtype=torch.float64)
    diag = torch.rand(4, 2, dtype=torch.float64) * 0.05
    samples = mean + diag.sqrt() * torch.randn(200_000, 4, 2, dtype=torch.float64)
    freqs = 2.0 ** torch.arange(3, dtype=torch.float64)
    phase = (math.pi * samples[..., None, :] * freqs[:, None]).flatten(-2)
    monte_carlo = torch.cat((torch.sin(phase), torch.cos(phase)), -1).mean(0)
    torch.testing.assert_close(encoder(mean, diag), monte_carlo, rtol=0, atol=0.01)
    full = torch.diag_embed(diag) + 0.01 * torch.ones(4, 2, 2, dtype=torch.float64) * (
        1 - torch.eye(2, dtype=torch.float64)
    )
    torch.testing.assert_close(encoder(mean, full), encoder(mean, diag))
    plain = encoder(mean)
    torch.testing.assert_close(encoder(mean, torch.zeros_like(mean)), plain)
    assert (encoder(mean, diag * 100).abs()[..., 4:6] < plain.abs()[..., 4:6] + 1e-12).all()


@pytest.mark.parametrize(
    "make,error,match",
    [
        (
            lambda: GaussianFourierFeatures(2, 16, sigma=0.0),
            ValueError,
            "sigma must be a positive finite number, got 0.0",
        ),
        (
            lambda: GaussianFourierFeatures(2, 16, sigma=-1.0),
            ValueError,
            "sigma must be a positive",
        ),
        (
            lambda: GaussianFourierFeatures(2, 0),
            ValueError,
            "num_frequencies must be an integer >= 1, got 0",
        ),
        (
            lambda: PositionalEncoding(2, 0),
            ValueError,
            "num_frequencies must be an integer >= 1, got 0",
        ),
        (lambda: PositionalEncoding(2, 4, layout="weird"), ValueError, "layout must be one of"),
        (lambda: PositionalEncoding(2, 4, spacing="cubic"), ValueError, "spacing must be"),
        (lambda: PositionalEncoding(2, 4, factor=0), ValueError, "factor must be a positive"),
        (lambda: PositionalEncoding(0, 4), ValueError, "in_dim must be an integer >= 1, got 0"),
        (
            lambda: FourierFeatures(torch.randn(4)),
            ValueError,
            "B must be a \\(num_frequencies, in_dim\\) tensor",
        ),
        (lambda: FourierFeatures(torch.ones(4, 2, dtype=torch.int32)), TypeError, "floating-point"),
        (
            lambda: FourierFeatures(torch.randn(4, 2), group=3),
            ValueError,
            "group must be a positive divisor",
        ),
        (
            lambda: FourierFeatures(torch.randn(4, 2), include_input="middle"),
            ValueError,
            "include_input",
        ),
        (lambda: Identity(2, scale=float("nan")), ValueError, "scale must be a finite number"),
        (lambda: IntegratedPositionalEncoding(2, 3, 3), ValueError, "min_deg < max_deg"),
    ],
)
def test_invalid_parameters(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("make", ALL_ENCODERS)
def test_bad_inputs(make):
    encoder = make()
    with pytest.raises(ValueError, match=r"must have shape \(\.\.\., 3\), got \(4, 2\)"):
        encoder(torch.rand(4, 2))
    with pytest.raises(TypeError, match="floating-point tensor, got dtype torch.int64"):
        encoder(torch.ones(4, 3, dtype=torch.long))


def test_integrated_bad_covariance():
    encoder = IntegratedPositionalEncoding(2, 0, 2)
    with pytest.raises(
        ValueError,
        match=r"cov must have shape \(4, 2\) \(diagonal\) or \(4, 2, 2\) \(full\), got \(4, 3\)",
    ):
        encoder(torch.rand(4, 2), torch.rand(4, 3))


@pytest.mark.parametrize("make", ALL_ENCODERS[1:6])
def test_half_precision_and_autocast_compute_in_float32(make):
    encoder = make()
    x = torch.rand(3000, 3)
    want = encoder(x)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = encoder(x)
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, want)
    got_half = encoder(x.to(torch.bfloat16))
    assert got_half.dtype == torch.float32
    torch.testing.assert_close(got_half, encoder(x.to(torch.bfloat16).float()))


def test_high_frequency_phase_accuracy_under_autocast():
    # Scale-10 Gaussian features: bf16 phases would be off by radians; ours stay exact.
    encoder = GaussianFourierFeatures(2, 256, 10.0)
    x = torch.rand(4096, 2)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = encoder(x)
    exact = encoder.double()(x.double())
    assert (got.double() - exact).abs().max() < 1e-4


def test_encoders_move_and_cast_like_modules():
    encoder = GaussianFourierFeatures(2, 8, 1.0).double()
    assert encoder.B.dtype == torch.float64
    assert encoder(torch.rand(3, 2, dtype=torch.float64)).dtype == torch.float64


def test_vocabulary_num_frequencies_is_per_coordinate_and_scale_is_gone():
    from coordnet.encoders.compat import NeRFEncoding

    pe = PositionalEncoding(3, 10)
    assert (pe.num_frequencies, pe.num_sinusoids, pe.out_dim) == (10, 30, 60)
    assert NeRFEncoding(3, 10, 0, 9).num_frequencies == 10
    B = torch.randn(4, 2)
    assert FourierFeatures(B, factor=math.pi).factor == math.pi
    with pytest.raises(TypeError, match="scale"):
        FourierFeatures(B, scale=math.pi)
    with pytest.raises(TypeError, match="scale"):
        GaussianFourierFeatures(2, 4, scale=3.0)
    assert not hasattr(FourierFeatures(B), "scale")
