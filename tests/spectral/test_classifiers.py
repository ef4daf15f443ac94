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
    spectra = path_spectra(
        CosineBumps([(k, c)]), ENDPOINTS, PAIR, "between", samples=n, window="none"
    )
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
    summary = summarize(
        path_spectra(
            CosineBumps([(k1, c1), (k2, c2)]), ENDPOINTS, PAIR, "within", samples=n, window="none"
        )
    )
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
    spectra = path_spectra(
        CosineBumps([(k, c)]), ENDPOINTS, PAIR, "between", samples=n, window="hann"
    )
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
    spectra = path_spectra(
        CosineBumps([(2, 0.05)]), inputs, pairs, "between", step=1 / 40, window="none"
    )
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
        path_probabilities(
            model, inputs, pairs, counts, lengths=torch.tensor([1.0, 0.0, 2.0], dtype=torch.float64)
        )


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


# The authors' recipe: fixed input-space step, per-class probabilities, unwindowed |rfft|, fraction above 10% of bins.

from coordnet.spectral.path_fraction import (  # noqa: E402
    balanced_pairs,
    class_mean_magnitude,
    high_frequency_fraction,
    path_fractions,
    step_positions,
)


class CosineProbability(nn.Module):
    """Two classes on 1D inputs: p_0(x) = 0.5 + a cos(2π f x), p_1 = 1 - p_0 (f in cycles per unit distance)."""

    def __init__(self, a, f):
        super().__init__()
        self.a, self.f = a, f

    def forward(self, x):
        p = 0.5 + self.a * torch.cos(
            2 * math.pi * self.f * x.reshape(x.shape[0], -1)[:, 0].double()
        )
        return torch.stack([torch.log(p), torch.log1p(-p)], dim=1)


def numpy_fraction(probabilities, low_fraction=0.1):
    """Independent reference: |rfft| per class, mean over classes, bins ceil(0.1 F) .. F-2 over all bins."""
    import numpy as np

    magnitude = np.abs(np.fft.rfft(np.asarray(probabilities), axis=0)).mean(axis=1)
    first = int(np.ceil(low_fraction * len(magnitude)))
    return magnitude[first:-1].sum() / magnitude.sum()


@pytest.mark.parametrize("step, length", [(1.0, 40.0), (0.5, 20.0)])
def test_pure_sinusoid_per_unit_distance_gives_the_known_fraction(step, length):
    a, f = (
        0.2,
        0.25,
    )  # cycles per unit distance; its bin is f · n · step: 10 (step 1) or 5 (step 0.5)
    inputs = torch.tensor([[0.0], [length]], dtype=torch.float64)
    result = path_fractions(CosineProbability(a, f), inputs, PAIR, "between", step=step)
    assert result.samples.tolist() == [40]
    # m_0 = n/2 for each class, m_k = a n / 2 for each class at k = f n step: fraction a / (1 + a).
    assert result.mean == pytest.approx(a / (1 + a), rel=1e-9)
    s = torch.arange(40, dtype=torch.float64) * step
    p0 = 0.5 + a * torch.cos(2 * math.pi * f * s)
    assert result.mean == pytest.approx(
        numpy_fraction(torch.stack([p0, 1 - p0], 1).numpy()), rel=1e-12
    )
    magnitude = class_mean_magnitude(torch.stack([p0, 1 - p0], 1))
    assert int(magnitude[1:].argmax()) + 1 == round(f * 40 * step)


def test_lowest_tenth_of_bins_and_last_bin_are_not_counted():
    inputs = torch.tensor([[0.0], [40.0]], dtype=torch.float64)
    low = path_fractions(
        CosineProbability(0.2, 2 / 40), inputs, PAIR, "within"
    )  # bin 2 < ceil(0.1 * 21) = 3
    assert low.mean == pytest.approx(0.0, abs=1e-12)
    edge = path_fractions(CosineProbability(0.2, 3 / 40), inputs, PAIR, "within")  # bin 3: counted
    assert edge.mean == pytest.approx(0.2 / 1.2, rel=1e-9)
    nyquist = path_fractions(
        CosineProbability(0.2, 0.5), inputs, PAIR, "within"
    )  # the last bin: left out
    assert nyquist.mean == pytest.approx(0.0, abs=1e-12)


def test_fraction_matches_numpy_on_a_random_model_and_paths_of_different_lengths():
    import numpy as np

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 32), nn.ReLU(), nn.Linear(32, 4)).double()
    inputs = 3 * torch.randn(6, 5, dtype=torch.float64)
    pairs = torch.tensor([[0, 1], [2, 3], [4, 5]])
    result = path_fractions(model, inputs, pairs, "between", step=0.3)
    for i, (a, b) in enumerate(pairs.tolist()):
        xa, xb = inputs[a].numpy(), inputs[b].numpy()
        distance = np.linalg.norm(xb - xa)
        s = np.arange(0, distance, 0.3)
        points = torch.from_numpy(xa[None] + s[:, None] * (xb - xa)[None] / distance)
        with torch.no_grad():
            probabilities = torch.softmax(model(points), 1).numpy()
        assert result.samples[i] == len(s)
        assert result.fractions[i].item() == pytest.approx(numpy_fraction(probabilities), rel=1e-9)
    assert len(set(result.samples.tolist())) > 1
    assert result.to_dict()["mean"] == pytest.approx(float(result.fractions.mean()))


def test_step_positions_and_errors():
    positions = step_positions(torch.tensor([2.5, 0.5], dtype=torch.float64), step=1.0)
    assert torch.allclose(positions[0], torch.tensor([0.0, 0.4, 0.8], dtype=torch.float64))
    assert positions[1].tolist() == [0.0]
    assert (
        high_frequency_fraction(torch.full((3, 2), 0.5)) == 0.0
    )  # too short a path to have counted bins
    with pytest.raises(ValueError, match="step must be"):
        step_positions(torch.ones(1), step=0.0)
    with pytest.raises(ValueError, match="low_fraction must be below 1"):
        high_frequency_fraction(torch.full((8, 2), 0.5), low_fraction=1.0)
    with pytest.raises(ValueError, match="zero-length path"):
        path_fractions(CosineProbability(0.1, 1.0), torch.ones(2, 1), PAIR, "within")


def test_balanced_pairs_per_class_and_per_class_pair():
    labels = torch.arange(60) % 3
    inputs = torch.randn(60, 2)
    within = balanced_pairs(inputs, labels, 5, "within", seed=0)
    assert within.shape == (15, 2)
    assert labels[within[:, 0]].tolist() == [0] * 5 + [1] * 5 + [2] * 5
    assert (labels[within[:, 0]] == labels[within[:, 1]]).all()
    for group in within.split(5):
        assert len(set(group.flatten().tolist())) == 10  # without replacement inside a class
    between = balanced_pairs(inputs, labels, 4, "between", seed=0)
    assert between.shape == (12, 2)
    got = [(int(labels[a]), int(labels[b])) for a, b in between.tolist()]
    assert got == [(0, 1)] * 4 + [(0, 2)] * 4 + [(1, 2)] * 4
    assert torch.equal(between, balanced_pairs(inputs, labels, 4, "between", seed=0))
    assert not torch.equal(between, balanced_pairs(inputs, labels, 4, "between", seed=1))
    many = balanced_pairs(
        inputs, labels, 50, "within", seed=0
    )  # more pairs than members: with replacement
    assert (many[:, 0] != many[:, 1]).all() and (labels[many[:, 0]] == labels[many[:, 1]]).all()


def test_balanced_pairs_errors_and_identical_inputs():
    labels = torch.tensor([0, 0, 0, 1, 1])
    inputs = torch.tensor([[1.0], [1.0], [2.0], [3.0], [4.0]])
    within = balanced_pairs(inputs, labels, 10, "within", seed=0)
    assert (inputs[within[:, 0]] != inputs[within[:, 1]]).all()
    with pytest.raises(ValueError, match="class 2 has one"):
        balanced_pairs(torch.randn(5, 1), torch.tensor([0, 0, 1, 1, 2]), 2, "within")
    with pytest.raises(ValueError, match="at least 2 classes"):
        balanced_pairs(torch.randn(4, 1), torch.zeros(4, dtype=torch.long), 2, "between")
    with pytest.raises(ValueError, match="identical"):
        balanced_pairs(torch.ones(4, 1), torch.tensor([0, 0, 1, 1]), 2, "within")
