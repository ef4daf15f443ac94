"""Function-frequency bookkeeping along interpolation paths, on models with known path signals."""
import math

import pytest
import torch
from torch import nn

from coordnet.spectral.classifiers import (
    classifier_spectrum,
    high_frequency_share,
    path_lengths,
    path_probabilities,
    path_spectra,
    power_spectrum,
    sample_pairs,
    samples_per_path,
    spectral_centroid,
    summarize,
)


class CosineBumps(nn.Module):
    """Two-class model on 1D inputs: p_0(x) = q0 + Σ_j c_j (1 - cos 2π k_j x), so along the path
    from x = 0 to x = 1 the path signal ‖p(t) - p(0)‖ is √2 Σ_j c_j (1 - cos 2π k_j t)."""

    def __init__(self, terms, q0=0.2):
        super().__init__()
        self.terms, self.q0 = terms, q0

    def forward(self, x):
        x = x.reshape(x.shape[0], -1)[:, 0].double()
        q = self.q0 + sum(c * (1 - torch.cos(2 * math.pi * k * x)) for k, c in self.terms)
        return torch.stack([torch.log(q) - torch.log1p(-q), torch.zeros_like(q)], dim=1)


ENDPOINTS = torch.tensor([[0.0], [1.0]], dtype=torch.float64)
PAIR = torch.tensor([[0, 1]])


def test_single_frequency_peak_and_power():
    k, c, n = 5, 0.1, 64
    spectra = path_spectra(CosineBumps([(k, c)]), ENDPOINTS, PAIR, "between", samples=n, window="none")
    power = spectra.power[0]
    assert power.shape == (n // 2 + 1,)
    assert int(power.argmax()) == k
    # √2 c (1 - cos): after mean removal a cosine of amplitude √2 c -> power (√2 c)² / 2 = c².
    assert power[k].item() == pytest.approx(c**2, rel=1e-9)
    assert power.sum().item() == pytest.approx(c**2, rel=1e-9)
    summary = summarize(spectra)
    assert summary.centroid == pytest.approx(k, rel=1e-9)
    assert summary.cutoff == pytest.approx(0.25 * n / 2)
    assert summary.high_share == pytest.approx(0.0, abs=1e-12)  # k = 5 <= cutoff 8


def test_two_frequencies_centroid_and_cutoff_share():
    (k1, c1), (k2, c2) = (3, 0.1), (12, 0.05)
    n = 64
    summary = summarize(path_spectra(CosineBumps([(k1, c1), (k2, c2)]), ENDPOINTS, PAIR, "within", samples=n, window="none"))
    p1, p2 = c1**2, c2**2
    assert summary.centroid == pytest.approx((k1 * p1 + k2 * p2) / (p1 + p2), rel=1e-9)
    assert summary.high_share == pytest.approx(p2 / (p1 + p2), rel=1e-9)  # cutoff 8: only k2 above
    assert summary.mean_power[k1].item() == pytest.approx(p1, rel=1e-9)
    assert summary.mean_power[k2].item() == pytest.approx(p2, rel=1e-9)
    d = summary.to_dict()
    assert d["kind"] == "within" and len(d["mean_power"]) == n // 2 + 1
    assert d["frequencies_cycles_per_path"][k2] == k2


def test_hann_window_spreads_power_keeps_total_and_centroid():
    k, c, n = 6, 0.1, 64
    spectra = path_spectra(CosineBumps([(k, c)]), ENDPOINTS, PAIR, "between", samples=n, window="hann")
    power = spectra.power[0]
    # Amplitudes 1/4, 1/2, 1/4 at k-1, k, k+1 -> powers 1 : 4 : 1, divided by mean(w²) = 3/8.
    expected = torch.zeros_like(power)
    expected[k - 1], expected[k], expected[k + 1] = c**2 / 6, 2 * c**2 / 3, c**2 / 6
    assert torch.allclose(power, expected, atol=1e-12)
    assert summarize(spectra).centroid == pytest.approx(k, rel=1e-9)


def test_hann_removes_the_wrap_around_jump():
    # A ramp (linear in t) has a 1/k² tail untapered (the jump at t = 1 -> 0), almost none with Hann.
    ramp = torch.arange(64, dtype=torch.float64) / 64
    untapered, tapered = power_spectrum(ramp, "none"), power_spectrum(ramp, "hann")
    assert tapered[0] == pytest.approx(0.0, abs=1e-15)
    assert spectral_centroid(tapered) < 1.5 < spectral_centroid(untapered)
    assert high_frequency_share(tapered, 8) < 1e-3 < high_frequency_share(untapered, 8)


def test_power_spectrum_matches_numpy_parseval():
    signal = torch.rand(3, 50, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    power = power_spectrum(signal)
    assert torch.allclose(power.sum(-1), signal.var(-1, unbiased=False))
    direct = torch.fft.fft(signal - signal.mean(-1, keepdim=True)).abs().pow(2) / 50**2
    assert torch.allclose(power[:, 1:25], 2 * direct[:, 1:25])
    assert torch.allclose(power[:, 25], direct[:, 25])


def test_centroid_and_share_formulae_and_flat_path():
    power = torch.tensor([[0.0, 1.0, 0.0, 3.0], [0.0, 0.0, 0.0, 0.0]], dtype=torch.float64)
    assert spectral_centroid(power).tolist() == [pytest.approx((1 + 9) / 4), 0.0]
    assert high_frequency_share(power, cutoff=1).tolist() == [pytest.approx(0.75), 0.0]
    assert high_frequency_share(power, cutoff=0.5).tolist() == [pytest.approx(1.0), 0.0]


def test_step_mode_samples_depend_on_length():
    inputs = torch.tensor([[0.0], [1.0], [0.25]], dtype=torch.float64)
    pairs = torch.tensor([[0, 1], [0, 2]])
    spectra = path_spectra(CosineBumps([(2, 0.05)]), inputs, pairs, "between", step=1 / 40, window="none")
    assert spectra.samples.tolist() == [40, 10]
    assert spectra.power.shape == (2, 21)
    assert spectra.power[1, 6:].abs().max() == 0  # zero-padded past the short path's Nyquist bin
    assert int(spectra.power[0].argmax()) == 2
    with pytest.raises(ValueError, match="exactly one of samples and step"):
        samples_per_path(torch.ones(2), samples=8, step=0.1)


def test_batched_chunks_match_one_pass():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3)).double()
    inputs = torch.randn(10, 2, 3, dtype=torch.float64)
    pairs = torch.tensor([[0, 1], [2, 3], [4, 9]])
    counts = torch.tensor([16, 16, 16])
    whole = path_probabilities(model, inputs, pairs, counts, chunk=10_000)
    chunked = path_probabilities(model, inputs, pairs, counts, chunk=7)
    for a, b in zip(whole, chunked):
        assert torch.allclose(a, b)
    # Row j of path i is softmax(model(x_a + (j / n)(x_b - x_a))).
    x = inputs[4] + (5 / 16) * (inputs[9] - inputs[4])
    assert torch.allclose(whole[2][5], torch.softmax(model(x[None]), 1)[0])
    assert whole[0][0].sum().item() == pytest.approx(1.0)
    given = path_probabilities(model, inputs, pairs, counts, lengths=path_lengths(inputs, pairs))
    for a, b in zip(whole, given):
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match="pair 1 .* is a zero-length path"):
        path_probabilities(model, inputs, pairs, counts, lengths=torch.tensor([1.0, 0.0, 2.0], dtype=torch.float64))


def test_model_training_flag_restored():
    model = nn.Sequential(nn.Linear(1, 2), nn.Dropout(0.5)).double()
    model.train()
    path_probabilities(model, ENDPOINTS, PAIR, torch.tensor([8]))
    assert model.training


def test_pairs_respect_classes_and_seed():
    labels = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 2, 3])
    inputs = torch.arange(10, dtype=torch.float32)[:, None]
    between = sample_pairs(inputs, labels, 200, "between", seed=3)
    within = sample_pairs(inputs, labels, 200, "within", seed=3)
    assert between.shape == within.shape == (200, 2)
    assert (labels[between[:, 0]] != labels[between[:, 1]]).all()
    assert (labels[within[:, 0]] == labels[within[:, 1]]).all()
    assert (within[:, 0] != within[:, 1]).all()
    assert 9 not in within.flatten().tolist()  # class 3 has a single example
    assert torch.equal(between, sample_pairs(inputs, labels, 200, "between", seed=3))
    assert not torch.equal(between, sample_pairs(inputs, labels, 200, "between", seed=4))


def test_pairs_skip_identical_inputs():
    labels = torch.tensor([0, 0, 0, 1])
    inputs = torch.tensor([[1.0], [1.0], [2.0], [3.0]])
    within = sample_pairs(inputs, labels, 50, "within", seed=0)
    assert (inputs[within[:, 0]] != inputs[within[:, 1]]).all()
    with pytest.raises(ValueError, match="identical"):
        sample_pairs(torch.ones(4, 1), labels, 5, "within")


def test_bad_input_errors():
    inputs = torch.randn(4, 3)
    with pytest.raises(ValueError, match="at least 2 classes"):
        sample_pairs(inputs, torch.zeros(4, dtype=torch.long), 3, "between")
    with pytest.raises(ValueError, match="at least 2 examples"):
        sample_pairs(inputs, torch.arange(4), 3, "within")
    with pytest.raises(ValueError, match="labels has 3 entries"):
        sample_pairs(inputs, torch.arange(3), 3, "between")
    with pytest.raises(ValueError, match="kind must be one of"):
        sample_pairs(inputs, torch.arange(4), 3, "across")
    with pytest.raises(ValueError, match="zero-length path"):
        path_probabilities(nn.Linear(3, 2), torch.ones(2, 3), PAIR, torch.tensor([8]))
    with pytest.raises(ValueError, match="logits"):
        path_probabilities(nn.Flatten(0), inputs, PAIR, torch.tensor([8]))


def test_classifier_spectrum_end_to_end():
    torch.manual_seed(0)
    inputs = torch.randn(40, 4)
    labels = torch.arange(40) % 4
    model = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 4))
    result = classifier_spectrum(model, inputs, labels, num_pairs=12, samples=32, seed=1)
    d = result.to_dict()
    assert d["between"]["num_paths"] == d["within"]["num_paths"] == 12
    assert d["settings"]["samples"] == 32 and d["frequency_unit"] == "cycles per path"
    for kind in ("between", "within"):
        assert 0 < d[kind]["centroid"] <= 16
        assert 0 <= d[kind]["high_share"] <= 1
