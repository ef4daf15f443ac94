"""Checks of coordnet.experiments.basri2019: the authors' settings, their dynamics, the fit."""

import json
import math

import pytest
import torch

from coordnet.experiments import VERDICTS
from coordnet.experiments import basri2019 as experiment
from coordnet.spectral import basri_protocol as protocol

pytestmark = pytest.mark.usefixtures("one_thread")


def test_paper_budget_is_the_authors_code():
    b = experiment.BUDGETS["paper"]
    # Shallow/WithBias_1D/optimize.m, runOneSession.m, readAndPlot.m
    assert (b.runs, b.points, b.width, b.init_scale, b.lr) == (30, 1001, 4000, 2.5, 0.01)
    assert (b.threshold, b.max_iterations, b.fit_k_min, b.fit_k_max) == (0.1, 50000, 8, 30)
    assert b.frequencies == tuple(range(1, 31))
    # Shallow/NoBias_1D
    assert (b.no_bias_init_scale, b.no_bias_max_iterations) == (1.0, 1800)
    # Shallow/WithBias_2D
    assert (b.sphere_runs, b.sphere_points, b.sphere_width, b.sphere_init_scale) == (
        20,
        1001,
        16000,
        1.0,
    )
    assert (b.sphere_lr, b.sphere_max_iterations) == (0.01, 100000)
    # Deep/deep5_1D/config.py
    assert (b.deep_depth, b.deep_width, b.deep_lr, b.deep_points) == (5, 256, 0.05, 1001)
    assert (b.deep_threshold, b.deep_runs, b.deep_fit_k_min, b.deep_fit_k_max) == (0.05, 20, 8, 30)


def test_smaller_budgets_keep_the_authors_eta_times_n():
    for name in ("cpu", "smoke"):
        b = experiment.BUDGETS[name]
        assert b.lr * b.points == pytest.approx(0.01 * 1001, rel=0.05)
        assert b.sphere_lr * b.sphere_points == pytest.approx(0.01 * 1001, rel=0.05)
        assert b.deep_lr == 0.05 and b.init_scale == 2.5 and b.threshold == 0.1


def test_authors_step_is_above_the_stability_limit():
    runs = protocol.authors_shallow([8], runs=1, max_iterations=0)  # the authors' m, n, σ, η
    assert 3.0 < float(runs.eta_lambda_max[0]) < 4.0
    stable = protocol.authors_shallow(
        [8], runs=1, points=101, width=64, learning_rate=None, max_iterations=0
    )
    assert float(stable.eta_lambda_max[0]) == pytest.approx(1.0)


def test_authors_dynamics_grow_then_recover():
    runs = protocol.authors_shallow(
        [2], runs=1, points=201, width=64, learning_rate=0.05, max_iterations=3000
    )
    assert bool(runs.learned.all())
    assert float(runs.peak_loss[0, 0]) > 10 * float(runs.initial_loss[0, 0])


def test_random_data_is_unit_norm_and_fresh_per_k():
    x, y = protocol.random_data("circle", [3, 3], 50, torch.Generator().manual_seed(0))
    assert x.shape == (2, 50, 2) and torch.allclose(y.norm(dim=1), torch.ones(2, dtype=y.dtype))
    assert not torch.equal(x[0], x[1])
    xs, ys = protocol.random_data("sphere", [2], 40, torch.Generator().manual_seed(0))
    assert torch.allclose(xs.norm(dim=-1), torch.ones(1, 40, dtype=xs.dtype))


def test_deep_init_is_kaiming_normal_with_a_sqrt5_and_no_output_bias():
    weights, biases = protocol._kaiming_layers(8, 256, 5, torch.Generator().manual_seed(0))
    assert len(weights) == 6 and len(biases) == 5
    assert float(weights[1].std()) == pytest.approx(1 / math.sqrt(3 * 256), rel=0.02)
    assert float(biases[0].abs().max()) <= 1 / math.sqrt(2)


def test_exponent_fits_the_log_of_the_mean_over_runs():
    k = torch.arange(1, 31)
    times = (k.double() ** 2)[:, None] * torch.tensor([[1.0, 3.0]], dtype=torch.float64)
    times[:7] = 1000.0  # k < 8 is outside the fit
    runs = protocol.RunsToLearn(
        k,
        times.long(),
        torch.ones_like(times, dtype=torch.bool),
        times,
        times,
        torch.ones(2),
        0.1,
        50000,
    )
    value, interval = experiment.exponent(runs, 8, 30)
    assert value == pytest.approx(2.0, abs=1e-3)
    assert interval[0] <= value <= interval[1] and interval[1] - interval[0] < 0.01


def test_results_structure_and_resume(tmp_path, monkeypatch, reproduce):
    out = tmp_path / "out"
    assert reproduce("basri2019", ["--budget", "smoke", "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    claims = {c["name"]: c for c in results["claims"]}
    assert set(claims) == {
        "exponent_circle",
        "exponent_circle_stable_step",
        "odd_unlearned_without_bias",
        "exponent_sphere",
        "exponent_deep",
    }
    assert all(c["verdict"] in VERDICTS for c in claims.values())
    assert "width: 64 vs 4000" in claims["exponent_circle"]["differs"]
    assert claims["exponent_circle"]["ours"]["runs_per_k"] == 2
    assert "η·λ_max = 3." in claims["exponent_circle"]["note"]
    mean = results["tables"]["mean_time_to_learn"]["shallow_bias"]
    assert mean["k"] == [2, 3, 4] and len(mean["mean"]) == 3

    def no_training(*args, **kwargs):
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(experiment, "run_experiment", no_training)
    assert reproduce("basri2019", ["--budget", "smoke", "--out", str(out)]) == 0
    assert json.loads((out / "results.json").read_text())["claims"] == results["claims"]
