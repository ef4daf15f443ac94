"""FFT bookkeeping, frequency-resolved learning curves, the spectral-bias index, the spectrum probe.

References are independent of the code under test: sums of sinusoids and plane waves with known
amplitudes, band indices computed pixel by pixel, ranks computed by hand.
"""

import csv
import json
import math

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from coordnet.cli.main import cli
from coordnet.spectral.curves import (
    BandCurves,
    band_curves,
    first_steps,
    frequency_curves,
    learning_order,
    spectral_bias_index,
)
from coordnet.spectral.probe import SpectrumProbe, dominant_frequencies
from coordnet.spectral.spectrum import (
    RadialBands,
    amplitudes,
    check_frequencies,
    fourier_coefficients,
    normalised_radius,
    radial_band_energy,
)
from coordnet.training import Samples, TrainConfig, Trainer

pytestmark = pytest.mark.usefixtures("one_thread")


def sinusoids(n, terms, dtype=torch.float64):
    """Σ A cos(2π k t + φ) on t = j/n for terms (k, A, φ)."""
    t = torch.arange(n, dtype=torch.float64) / n
    x = torch.zeros(n, dtype=torch.float64)
    for k, a, phi in terms:
        x += a * torch.cos(2 * math.pi * k * t + phi)
    return x.to(dtype)


# ---------------------------------------------------------------- 1D amplitudes


@pytest.mark.parametrize("n", [200, 201, 64])
def test_amplitudes_of_a_sum_of_sinusoids(n):
    rng = np.random.default_rng(n)
    ks = [1, 5, 17, 30]
    amps = rng.uniform(0.2, 3.0, len(ks))
    phases = rng.uniform(0, 2 * math.pi, len(ks))
    x = sinusoids(n, zip(ks, amps, phases)) + 0.75  # constant: amplitude 0.75 at k = 0
    measured = amplitudes(x, [0, *ks, 2, 31])
    expected = [0.75, *amps, 0.0, 0.0]
    np.testing.assert_allclose(measured.numpy(), expected, atol=1e-12)


def test_unit_sine_has_amplitude_one_and_coefficients_carry_the_phase():
    n, k, phi = 200, 12, 0.7
    t = torch.arange(n, dtype=torch.float64) / n
    assert float(amplitudes(torch.sin(2 * math.pi * k * t + phi), [k])[0]) == pytest.approx(
        1.0, abs=1e-12
    )
    c = fourier_coefficients(2.5 * torch.cos(2 * math.pi * k * t + phi), [k])[0]
    assert abs(c - 2.5 * complex(math.cos(phi), math.sin(phi))) < 1e-12


def test_nyquist_and_dc_use_the_single_sided_normalisation():
    n = 16
    j = torch.arange(n, dtype=torch.float64)
    alternating = 0.5 * (-1.0) ** j  # 0.5 cos(π j): the Nyquist frequency 8
    np.testing.assert_allclose(
        amplitudes(alternating + 2.0, [0, 8]).numpy(), [2.0, 0.5], atol=1e-12
    )
    # odd n: the largest frequency (n - 1) / 2 is an ordinary one
    n = 9
    np.testing.assert_allclose(
        amplitudes(sinusoids(n, [(4, 1.3, 0.2)]), [4]).numpy(), [1.3], atol=1e-12
    )


def test_amplitudes_batch_over_leading_axes_and_take_float32_and_numpy():
    n = 50
    rows = torch.stack([sinusoids(n, [(3, a, 0.1)]) for a in (1.0, 2.0, 3.0)]).reshape(3, 1, n)
    out = amplitudes(rows.float(), [3, 4])
    assert out.shape == (3, 1, 2) and out.dtype == torch.float64
    np.testing.assert_allclose(out[:, 0, 0].numpy(), [1, 2, 3], atol=1e-5)
    np.testing.assert_allclose(
        amplitudes(rows.numpy()[0, 0], np.array([3])).numpy(), [1.0], atol=1e-12
    )


@pytest.mark.parametrize(
    "signal, frequencies, error, fragment",
    [
        (torch.zeros(200), [101], ValueError, "above the Nyquist frequency 100 of 200 samples"),
        (torch.zeros(201), [101], ValueError, "above the Nyquist frequency 100 of 201 samples"),
        (torch.zeros(20), [-1], ValueError, "must be >= 0, got -1"),
        (torch.zeros(20), [2.5], ValueError, "must be integers"),
        (torch.zeros(20), [3, 3], ValueError, "distinct"),
        (torch.zeros(20), [], ValueError, "must not be empty"),
        (torch.zeros(0), [0], ValueError, "signal is empty"),
        (torch.zeros(1), [0], ValueError, "at least 2 samples"),
        (torch.tensor(1.0), [0], ValueError, "scalar"),
        (torch.tensor([0.0, float("nan"), 1.0, 2.0]), [1], ValueError, "NaN or infinite"),
        (torch.zeros(8, dtype=torch.complex64), [1], TypeError, "must be real"),
    ],
)
def test_bad_1d_input_is_a_clear_error(signal, frequencies, error, fragment):
    with pytest.raises(error, match=fragment):
        amplitudes(signal, frequencies)


def test_check_frequencies_returns_int64():
    ks = check_frequencies(np.array([5.0, 10.0]), 200)
    assert ks.dtype == torch.int64 and ks.tolist() == [5, 10]


# ---------------------------------------------------------------- 2D radial bands


def band_of(i, j, height, width, bands):
    """Reference: the band of FFT bin (i, j), computed from scratch."""
    fy = (i if i < (height + 1) // 2 else i - height) / height
    fx = (j if j < (width + 1) // 2 else j - width) / width
    rho = math.hypot(2 * fy, 2 * fx)
    if rho == 0:
        return -1
    for b in range(bands):
        if rho <= (b + 1) / bands + 1e-12:
            return b
    return bands - 1


@pytest.mark.parametrize("shape, bands", [((16, 16), 8), ((9, 14), 4), ((32, 20), 5), ((2, 2), 1)])
def test_band_index_matches_a_pixel_by_pixel_reference(shape, bands):
    radial = RadialBands.for_grid(shape, bands)
    expected = torch.tensor(
        [[band_of(i, j, *shape, bands) for j in range(shape[1])] for i in range(shape[0])]
    )
    assert torch.equal(radial.index, expected)
    assert radial.counts.sum() == shape[0] * shape[1] - 1
    assert radial.centres.tolist() == pytest.approx([(b + 0.5) / bands for b in range(bands)])
    assert float(normalised_radius(shape)[0, 1]) == pytest.approx(2 / shape[1])


def plane_waves(height, width, waves, channels=1):
    """Σ A cos(2π (ky y / H + kx x / W) + φ), the same in every channel."""
    y, x = torch.meshgrid(
        torch.arange(height, dtype=torch.float64),
        torch.arange(width, dtype=torch.float64),
        indexing="ij",
    )
    image = torch.zeros(height, width, dtype=torch.float64)
    for ky, kx, a, phi in waves:
        image += a * torch.cos(2 * math.pi * (ky * y / height + kx * x / width) + phi)
    return image[..., None].expand(height, width, channels).clone()


def test_plane_waves_land_in_their_bands_with_their_energy():
    height = width = 32
    # radius ρ = 2 |k| / 32: (1, 0) -> 0.0625 band 0, (0, 5) -> 0.3125 band 2, (6, 8) -> 0.625 band 4,
    # (16, 0) -> 1.0 (Nyquist, last band), (12, 12) -> 1.06 (corner, last band); 8 bands of width 0.125
    waves = [(1, 0, 0.8, 0.3), (0, 5, 0.5, 1.0), (6, 8, 0.3, 2.0), (12, 12, 0.2, 0.5)]
    image = plane_waves(height, width, waves, channels=3) + 0.4  # the mean is in no band
    energy = radial_band_energy(image, 8)
    expected = np.zeros(8)
    expected[0], expected[2], expected[4], expected[7] = (
        0.8**2 / 2,
        0.5**2 / 2,
        0.3**2 / 2,
        0.2**2 / 2,
    )
    np.testing.assert_allclose(energy.numpy(), expected, atol=1e-12)
    nyquist = plane_waves(height, width, [(16, 0, 0.6, 0.0)])[..., 0]  # cos at Nyquist: energy A²
    np.testing.assert_allclose(radial_band_energy(nyquist, 8).numpy(), [0] * 7 + [0.36], atol=1e-12)


def test_band_energies_add_up_to_the_variance():
    image = torch.rand(24, 18, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    energy = RadialBands.for_grid((24, 18), 6)(image)
    variance = ((image - image.mean(dim=(0, 1))) ** 2).mean()
    assert float(energy.sum()) == pytest.approx(float(variance), rel=1e-12)
    assert (energy > 0).all()


@pytest.mark.parametrize(
    "call, fragment",
    [
        (lambda: RadialBands.for_grid((8, 8), 5), "num_bands=5 is too many for a 8x8 grid"),
        (lambda: RadialBands.for_grid((8, 8), 0), "num_bands must be an integer >= 1"),
        (lambda: RadialBands.for_grid((8,), 2), "grid_shape must be"),
        (lambda: RadialBands.for_grid((8, 8), 2)(torch.zeros(8, 6)), "these bands are for"),
        (lambda: radial_band_energy(torch.zeros(8), 2), "must have shape"),
        (lambda: radial_band_energy(torch.zeros(0, 4), 1), "is empty"),
        (lambda: radial_band_energy(torch.zeros(1, 8), 1), "at least 2 samples"),
        (lambda: radial_band_energy(torch.full((4, 4), float("inf")), 1), "NaN or infinite"),
    ],
)
def test_bad_2d_input_is_a_clear_error(call, fragment):
    with pytest.raises(ValueError, match=fragment):
        call()


def test_max_bands_are_always_populated():
    for shape in [(2, 2), (5, 3), (8, 8), (9, 31), (64, 48)]:
        RadialBands.for_grid(shape, RadialBands.max_bands(shape))  # no error


# ---------------------------------------------------------------- learning steps and the index


def test_first_steps_above_and_below():
    values = [[0.1, 1.0, 0.0], [0.95, 0.2, 0.5], [0.5, 0.95, 0.91]]
    assert first_steps(values, [0, 10, 20], 0.9) == [10, 0, 20]
    assert first_steps(values, [0, 10, 20], 0.15, above=False) == [0, None, 0]
    with pytest.raises(ValueError, match="strictly increasing"):
        first_steps(values, [0, 20, 10], 0.9)
    with pytest.raises(ValueError, match="3 records"):
        first_steps(values, [0, 10], 0.9)


def average_ranks(values):
    """Reference ranks (1-based), ties sharing the mean of their positions."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for m in range(i, j + 1):
            ranks[order[m]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def pearson(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / math.sqrt((a * a).sum() * (b * b).sum()))


@pytest.mark.parametrize(
    "steps, cap",
    [
        ([10, 20, 30, 40], 100),
        ([40, 30, 20, 10], 100),
        ([10, 10, 30, None, None], 100),  # ties and never-learned at the cap
        ([50, None, 20, 100, 20, None], 100),  # a step equal to the cap ties with never-learned
        ([0, 5, 5, 5, 9, None, 1], 9),
    ],
)
def test_index_is_spearman_with_average_ranks_and_the_cap(steps, cap):
    frequencies = [5 * (i + 1) for i in range(len(steps))]
    filled = [cap if s is None else s for s in steps]
    expected = pearson(average_ranks(frequencies), average_ranks(filled))
    assert spectral_bias_index(frequencies, steps, cap) == pytest.approx(expected, abs=1e-12)


def test_index_limits_and_undefined_cases():
    assert spectral_bias_index([1, 2, 3], [1, 2, 3], 10) == pytest.approx(1.0)
    assert spectral_bias_index([1, 2, 3], [3, 2, 1], 10) == pytest.approx(-1.0)
    assert spectral_bias_index([1, 2, 3], [7, 7, 7], 10) == 0.0  # all at once: none came first
    assert spectral_bias_index([1, 2, 3], [None, None, 10], 10) == 0.0
    assert math.isnan(spectral_bias_index([1, 2, 3], [None, None, None], 10))  # nothing learned


@pytest.mark.parametrize(
    "frequencies, steps, cap, fragment",
    [
        ([1, 2], [1], 5, "same length"),
        ([1], [1], 5, "at least 2 frequencies"),
        ([1, 1], [1, 2], 5, "distinct"),
        ([1, 2], [1, 6], 5, "in \\[0, cap=5\\]"),
        ([1, 2], [1, 2.5], 5, "integers"),
        ([1, 2], [1, 2], -1, "cap must be an integer >= 0"),
    ],
)
def test_index_rejects_bad_input(frequencies, steps, cap, fragment):
    with pytest.raises(ValueError, match=fragment):
        spectral_bias_index(frequencies, steps, cap)


def test_learning_order_lists_learned_by_step_then_unlearned():
    order = learning_order([5, 10, 15, 20, 25], [300, None, 100, 100, None], 500)
    assert order.order == [15, 20, 5]  # ties by frequency
    assert order.unlearned == [10, 25]
    assert order.cap == 500 and order.steps == [300, None, 100, 100, None]
    record = order.to_dict()
    assert record["spectral_bias_index"] == pytest.approx(
        spectral_bias_index([5, 10, 15, 20, 25], [300, None, 100, 100, None], 500)
    )
    assert math.isnan(learning_order([1, 2], [None, None], 3).index)
    assert learning_order([1, 2], [None, None], 3).to_dict()["spectral_bias_index"] is None


def test_frequency_curves_from_hand_made_predictions():
    n, ks, amps = 64, [2, 6, 11], [1.0, 0.5, 0.25]
    t = torch.arange(n, dtype=torch.float64) / n
    target = sum(a * torch.sin(2 * math.pi * k * t + 0.3 * k) for k, a in zip(ks, amps))
    # learned fractions per record: k=2 at step 10, k=6 at step 30, k=11 never (0.8 at most)
    fractions = [[0.0, 0.0, 0.0], [0.9, 0.1, 0.0], [1.0, 0.5, 0.3], [1.0, 0.95, 0.8]]
    predictions = torch.stack(
        [
            sum(c * a * torch.sin(2 * math.pi * k * t + 0.3 * k) for c, k, a in zip(row, ks, amps))
            for row in fractions
        ]
    )
    curves = frequency_curves([0, 10, 20, 30], predictions, target, ks)
    np.testing.assert_allclose(curves.normalised.numpy(), fractions, atol=1e-12)
    np.testing.assert_allclose(curves.target_amplitude.numpy(), amps, atol=1e-12)
    assert curves.learned_steps() == [10, 30, None]
    assert curves.learned_steps(0.75) == [10, 30, 30]
    record = curves.to_dict()
    assert record["order"] == [2, 6] and record["unlearned"] == [11] and record["cap"] == 30
    # step 30 is also the cap: frequency 6 ties with the never-learned 11 (ranks 1, 2.5, 2.5)
    assert record["spectral_bias_index"] == pytest.approx(pearson([1, 2, 3], [1, 2.5, 2.5]))
    json.dumps(record)  # JSON-ready
    with pytest.raises(ValueError, match="no amplitude at frequency 3"):
        frequency_curves([0], predictions[:1], target, [2, 3])
    with pytest.raises(ValueError, match="matching target"):
        frequency_curves([0], predictions[:1, :10], target, [2])


def test_band_curves_track_error_energy_per_band():
    height = width = 16
    target = plane_waves(height, width, [(1, 0, 1.0, 0.0), (0, 6, 0.5, 0.0)])[
        ..., 0
    ]  # bands 0 and 5 of 8
    low = plane_waves(height, width, [(1, 0, 1.0, 0.0)])[..., 0]
    high = plane_waves(height, width, [(0, 6, 0.5, 0.0)])[..., 0]
    predictions = torch.stack(
        [0 * target, 0.5 * low, low, low + 0.8 * high]
    )  # error shrinks band by band
    curves = band_curves([0, 5, 10, 15], predictions, target, num_bands=8)
    assert isinstance(curves, BandCurves)
    expected_low = [0.5, 0.125, 0.0, 0.0]  # (1 - c)² A² / 2
    expected_high = [0.125, 0.125, 0.125, 0.005]
    np.testing.assert_allclose(curves.error_energy[:, 0].numpy(), expected_low, atol=1e-12)
    np.testing.assert_allclose(curves.error_energy[:, 5].numpy(), expected_high, atol=1e-12)
    np.testing.assert_allclose(curves.target_energy[[0, 5]].numpy(), [0.5, 0.125], atol=1e-12)
    share = curves.share
    np.testing.assert_allclose(share[1, 0].item(), 0.5, atol=1e-12)
    np.testing.assert_allclose(share.sum(dim=1).numpy(), [1, 1, 1, 1], atol=1e-12)
    steps = curves.learned_steps(0.1)  # bands without target energy count as learned at once
    assert steps[0] == 10 and steps[5] == 15
    assert curves.learned_steps(0.3, reference="initial")[0] == 5  # 0.125 <= 0.3 x 0.5
    record = curves.to_dict()
    assert record["kind"] == "2d" and len(record["band_edges"]) == 9
    json.dumps(record)
    with pytest.raises(ValueError, match="fraction must lie strictly between 0 and 1"):
        curves.learned_steps(1.5)
    with pytest.raises(ValueError, match="reference must be one of"):
        curves.learned_steps(0.1, reference="final")


# ---------------------------------------------------------------- the probe


def test_dominant_frequencies_pick_the_strongest():
    x = sinusoids(100, [(3, 1.0, 0.0), (7, 0.2, 0.0), (20, 0.6, 1.0), (41, 0.05, 0.0)])
    assert dominant_frequencies(x, 3).tolist() == [3, 7, 20]
    assert dominant_frequencies(torch.stack([x, x], dim=1), 2).tolist() == [3, 20]
    assert dominant_frequencies(sinusoids(100, [(5, 1.0, 0.0)]), 4).tolist() == [5]
    with pytest.raises(ValueError, match="constant"):
        dominant_frequencies(torch.ones(100), 3)


class Scaled(torch.nn.Module):
    """A fake model: ``scale * target`` at the grid points (looked up), scale set by the test."""

    def __init__(self, coords, values):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(()))
        self.coords, self.values = (
            coords.reshape(-1, coords.shape[-1]),
            values.reshape(-1, values.shape[-1]),
        )

    def forward(self, x):
        index = torch.cdist(x.float(), self.coords.float()).argmin(dim=1)
        return self.weight * self.values[index].float()


def test_probe_records_a_known_trajectory_in_1d_and_2d():
    t = (torch.arange(40, dtype=torch.float64) / 40)[:, None]
    values = torch.sin(2 * math.pi * 3 * t) + 0.5 * torch.sin(2 * math.pi * 8 * t)
    model = Scaled(t, values)
    probe = SpectrumProbe(t.float(), values, every=2, frequencies=[3, 8])
    for step, scale in [(0, 0.0), (2, 0.5), (4, 0.95)]:
        model.weight.data.fill_(scale)
        probe.record(model, step)
    probe.record(model, 4)  # once per step
    curves = probe.curves()
    assert curves.steps.tolist() == [0, 2, 4]
    np.testing.assert_allclose(
        curves.normalised.numpy(), [[0, 0], [0.5, 0.5], [0.95, 0.95]], atol=1e-6
    )

    image = plane_waves(16, 16, [(2, 1, 0.3, 0.0)], channels=3) + 0.5
    coords = torch.stack(
        torch.meshgrid(torch.arange(16) / 16, torch.arange(16) / 16, indexing="ij"), dim=-1
    )
    model2 = Scaled(coords, image)
    probe2 = SpectrumProbe(coords, image, every=1)
    model2.weight.data.fill_(0.5)
    probe2.record(model2, 0)
    bands = probe2.curves()
    assert bands.error_energy.shape == (1, 8)  # min(8, 16 // 2) bands
    np.testing.assert_allclose(
        bands.error_energy[0].numpy(), 0.25 * bands.target_energy.numpy(), atol=1e-12
    )


def test_probe_attached_to_the_trainer_and_its_state_round_trips():
    t = (torch.arange(32) / 32).float()[:, None]
    values = torch.sin(2 * math.pi * 2 * t) + 0.5 * torch.sin(2 * math.pi * t)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(1, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    probe = SpectrumProbe(t, values, every=4, frequencies=[2])
    Trainer(model, Samples(t, values), TrainConfig(steps=10, lr=1e-2, eval_every=10), [probe]).fit()
    assert probe.steps == [0, 4, 8, 10]
    restored = SpectrumProbe(t, values, every=4, frequencies=[2])
    restored.load_state_dict(json.loads(json.dumps(probe.state_dict())))
    assert torch.equal(restored.curves().amplitude, probe.curves().amplitude)
    other = SpectrumProbe(t, values, every=4, frequencies=[1])
    with pytest.raises(ValueError, match="frequencies"):
        other.load_state_dict(probe.state_dict())


@pytest.mark.parametrize(
    "coords, values, kwargs, fragment",
    [
        (torch.zeros(4, 4, 4, 3), torch.zeros(4, 4, 4, 1), {}, "1D grid \\(n, 1\\) or a 2D grid"),
        (torch.zeros(8, 2), torch.zeros(8, 1), {}, "1D grid"),
        (torch.zeros(8, 1), torch.zeros(9, 1), {}, "target must have shape"),
        (torch.zeros(8, 1), torch.zeros(8, 1), {"every": 0}, "every must be an integer >= 1"),
        (
            (torch.arange(8) / 8.0)[:, None],
            torch.sin(2 * math.pi * (torch.arange(8) / 8.0))[:, None],
            {"frequencies": [5]},
            "above the Nyquist frequency 4 of 8 samples",
        ),
        (
            (torch.arange(8) / 8.0)[:, None],
            torch.sin(2 * math.pi * (torch.arange(8) / 8.0))[:, None],
            {"frequencies": [2]},
            "no amplitude at frequency 2",
        ),
    ],
)
def test_probe_rejects_what_it_cannot_measure(coords, values, kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        SpectrumProbe(coords, values, **{"every": 1, **kwargs})


# ---------------------------------------------------------------- the CLI


SPEC = "gauss:num_frequencies=16+relu:width=16,depth=1"


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], prog_name="coordnet")


def test_fit_with_the_spectrum_probe_writes_spectrum_json(tmp_path):
    out = tmp_path / "fit"
    result = invoke(
        "fit",
        "camera",
        "--size",
        32,
        "-m",
        SPEC,
        "--steps",
        20,
        "--eval-every",
        10,
        "--quiet",
        "--probe",
        "spectrum",
        "--probe-every",
        5,
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    spectrum = json.loads((out / "spectrum.json").read_text())
    assert {
        "kind",
        "steps",
        "band_edges",
        "band_centres",
        "target_energy",
        "error_energy",
        "error_share",
        "criterion",
        "learned_steps",
        "cap",
        "spectral_bias_index",
        "order",
        "unlearned",
        "grid",
        "grid_shape",
        "every",
        "model",
    } <= set(spectrum)
    assert (
        spectrum["kind"] == "2d"
        and spectrum["grid"] == "train"
        and spectrum["grid_shape"] == [16, 16]
    )
    assert spectrum["steps"] == [0, 5, 10, 15, 20] and spectrum["cap"] == 20
    assert len(spectrum["band_edges"]) == 9 and np.asarray(spectrum["error_energy"]).shape == (5, 8)
    assert (out / "spectrum.png").stat().st_size > 0
    metrics = json.loads((out / "metrics.json").read_text())
    index = spectrum["spectral_bias_index"]
    assert metrics["spectral_bias_index"] == index
    assert f"spectral-bias index {'-' if index is None else f'{index:.3f}'}" in result.stdout

    resumed = invoke(
        "fit",
        "camera",
        "--size",
        32,
        "-m",
        SPEC,
        "--steps",
        30,
        "--eval-every",
        10,
        "--quiet",
        "--probe",
        "spectrum",
        "--probe-every",
        5,
        "--out",
        out,
        "--resume",
    )
    assert resumed.exit_code == 0, resumed.output  # more steps extend the fit and its records
    assert json.loads((out / "spectrum.json").read_text())["steps"] == [0, 5, 10, 15, 20, 25, 30]


def test_interrupted_fit_resumes_with_its_probe_records(tmp_path, monkeypatch):
    from coordnet.runs import run as run_module
    from coordnet.signals import load_signal
    from coordnet.training.callbacks import ProgressBar
    from coordnet.training.checkpoint import CheckpointError

    camera = load_signal("camera", size=16)
    config = TrainConfig(steps=12, lr=1e-2, seed=1, eval_every=6)
    kwargs = dict(
        split="tancik", progress=False, checkpoint_every=6, probes=("spectrum",), probe_every=3
    )
    straight = run_module.run_fit(camera, SPEC, config, str(tmp_path / "straight"), **kwargs)

    class InterruptedBar(ProgressBar):
        def on_step(self, trainer, step, loss):
            if step == 8:  # after the checkpoint of step 6
                raise KeyboardInterrupt
            super().on_step(trainer, step, loss)

    out = tmp_path / "resumed"
    monkeypatch.setattr(run_module, "ProgressBar", InterruptedBar)
    with pytest.raises(KeyboardInterrupt):
        run_module.run_fit(camera, SPEC, config, str(out), **kwargs)
    monkeypatch.undo()
    with pytest.raises(CheckpointError, match="written without the probe"):
        run_module.run_fit(
            camera,
            SPEC,
            config,
            str(tmp_path / "plain"),
            split="tancik",
            progress=False,
            checkpoint_every=6,
        )  # a checkpoint without probe records ...
        run_module.run_fit(
            camera, SPEC, config, str(tmp_path / "plain"), resume=True, **kwargs
        )  # ... refuses
    run_module.run_fit(camera, SPEC, config, str(out), resume=True, **kwargs)
    expected = json.loads((tmp_path / "straight" / "spectrum.json").read_text())
    resumed = json.loads((out / "spectrum.json").read_text())
    assert resumed["steps"] == expected["steps"] == [0, 3, 6, 9, 12]
    np.testing.assert_allclose(
        resumed["error_energy"], expected["error_energy"], rtol=1e-9, atol=1e-15
    )
    assert straight.metrics["spectral_bias_index"] == expected["spectral_bias_index"]


def test_fit_probe_on_a_1d_series_and_a_clear_error_for_volumes(tmp_path):
    t = np.arange(64) / 64
    np.save(tmp_path / "wave.npy", np.sin(2 * np.pi * 3 * t) + 0.3 * np.sin(2 * np.pi * 11 * t))
    out = tmp_path / "series"
    result = invoke(
        "fit",
        tmp_path / "wave.npy",
        "-m",
        "relu:width=8,depth=1",
        "--steps",
        4,
        "--split",
        "full",
        "--quiet",
        "--probe",
        "spectrum",
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    spectrum = json.loads((out / "spectrum.json").read_text())
    assert spectrum["kind"] == "1d" and spectrum["frequencies"] == [3, 11]
    assert spectrum["target_amplitude"] == pytest.approx([1.0, 0.3], abs=1e-6)
    assert np.asarray(spectrum["normalised_amplitude"]).shape == (5, 2)

    volume = invoke(
        "fit",
        "sphere",
        "--size",
        8,
        "--steps",
        2,
        "--quiet",
        "--probe",
        "spectrum",
        "--out",
        tmp_path / "vol",
    )
    assert volume.exit_code == 1
    assert "--probe spectrum measures 1D and 2D signals" in volume.stderr
    assert not (tmp_path / "vol").exists() or not any((tmp_path / "vol").iterdir())


def test_compare_adds_the_spectral_bias_index_column(tmp_path):
    result = invoke(
        "compare",
        "camera",
        "--size",
        32,
        "-m",
        SPEC,
        "-m",
        "relu:width=8,depth=1",
        "--steps",
        10,
        "--quiet",
        "--probe",
        "spectrum",
        "--out",
        tmp_path,
    )
    assert result.exit_code == 0, result.output
    with open(tmp_path / "results.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert "spectral_bias_index" in rows[0]
    for row, label in zip(rows, [SPEC, "relu:width=8,depth=1"]):
        directory = tmp_path / label.replace(":", "_").replace(",", "_").replace("+", "_") / "seed0"
        spectrum = json.loads((directory / "spectrum.json").read_text())
        index = spectrum["spectral_bias_index"]
        assert row["spectral_bias_index"] == ("-" if index is None else f"{index:.3f}")
        assert row["spectral_learned"] == str(
            sum(step is not None for step in spectrum["learned_steps"])
        )
    assert "| spectral_bias_index | spectral_learned |" in result.stdout

    plain = invoke(
        "compare",
        "camera",
        "--size",
        16,
        "-m",
        "relu:width=8,depth=1",
        "--steps",
        2,
        "--quiet",
        "--out",
        tmp_path / "plain",
    )
    assert plain.exit_code == 0 and "spectral_bias_index" not in plain.stdout
