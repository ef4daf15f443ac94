"""Fast checks of coordnet.experiments.basri2019 on its seconds-long smoke budget."""

import json

import pytest
import torch

from coordnet.experiments import VERDICTS
from coordnet.experiments import basri2019 as experiment


def test_default_fit_and_stopping_rule_are_the_authors():
    for name in ("paper", "cpu"):
        budget = experiment.BUDGETS[name]
        assert (budget.threshold, budget.fit_k_min, budget.fit_k_max) == (0.1, 8, 30)
        assert (budget.variant_threshold, budget.variant_k_min) == (0.05, 3)
    assert max(experiment.BUDGETS["cpu"].frequencies) >= 30
    runs = experiment.experiments(experiment.BUDGETS["cpu"])
    assert (
        runs["shallow_bias"]["threshold"] == 0.1
        and runs["shallow_bias_variant"]["threshold"] == 0.05
    )


def test_exponent_uses_only_the_fit_range():
    k = torch.arange(1, 31)
    times = torch.where(k >= 8, k.double() ** 2, torch.full_like(k.double(), 1000.0))
    run = experiment.TimeToLearn(
        k,
        times.long(),
        torch.ones(30, dtype=torch.bool),
        torch.zeros(30),
        0.1,
        5000,
        1.0,
        None,
        times,
        torch.zeros(0),
        torch.zeros(0, 30),
    )
    assert experiment.exponent(run, 8, 30) == pytest.approx(2.0, abs=1e-6)
    assert experiment.exponent(run, 3) < 1.0  # the flat k < 8 part pulls the slope down
    assert experiment.exponent(run, 8, 30, predicted=True) == pytest.approx(2.0, abs=1e-6)


def test_results_structure_and_resume(tmp_path, monkeypatch, capsys, reproduce):
    out = tmp_path / "out"
    assert reproduce("basri2019", ["--budget", "smoke", "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["experiment"] == "basri2019" and results["settings"]["seed"] == 0
    claims = {c["name"]: c for c in results["claims"]}
    assert set(claims) == {
        "exponent_circle",
        "exponent_circle_coordnet_variant",
        "odd_unlearned_without_bias",
        "exponent_sphere",
        "exponent_deep",
        "fourier_features_flat",
    }
    assert all(c["verdict"] in VERDICTS for c in claims.values())
    assert "width: 256 vs 4000" in claims["exponent_circle"]["differs"]
    shallow = results["tables"]["time_to_learn"]["shallow_bias"]
    fit = experiment.fit_power_law(
        torch.tensor(shallow["k"]),
        torch.tensor(shallow["iterations"]),
        k_min=3,
        k_max=6,
        mask=torch.tensor(shallow["learned"]),
    )
    assert claims["exponent_circle"]["ours"] == pytest.approx(fit.exponent)
    variant = results["tables"]["time_to_learn"]["shallow_bias_variant"]
    both = [
        (v, s)
        for v, s, ok in zip(variant["iterations"], shallow["iterations"], variant["learned"])
        if ok
    ]
    assert both and all(
        v >= s for v, s in both
    )  # the same runs stopped at 0.05 instead of 0.1 take longer
    assert results["tables"]["closed_form_eigenvalues"]["S¹, no bias"][3] == 0.0
    for name in ("eigenvalues", "time_to_learn", "loss_curves", "ntk_spectra"):
        assert (out / f"{name}.png").stat().st_size > 0
    assert len(list((out / "runs").glob("*.json"))) == len(
        experiment.experiments(experiment.BUDGETS["smoke"])
    )

    def no_run(*args, **kwargs):
        raise AssertionError("an experiment was rerun")

    monkeypatch.setattr(experiment, "run_experiment", no_run)
    assert reproduce("basri2019", ["--budget", "smoke", "--out", str(out)]) == 0
    again = json.loads((out / "results.json").read_text())["tables"]
    assert again["time_to_learn"] == results["tables"]["time_to_learn"]
    for name, fits in results["tables"]["exponents"].items():  # refitted from the stored times
        for key, value in fits.items():
            assert again["exponents"][name][key] == (
                None if value is None else pytest.approx(value, rel=1e-9)
            )
    with pytest.raises(AssertionError, match="rerun"):
        reproduce(
            "basri2019", ["--budget", "smoke", "--out", str(out), "--set", "seed=1", "--debug"]
        )
