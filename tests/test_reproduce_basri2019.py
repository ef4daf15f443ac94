"""Fast checks of scripts/reproduce_basri2019.py on its seconds-long smoke settings."""
import importlib.util
import json
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "reproduce_basri2019.py"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("reproduce_basri2019", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_results_structure_and_resume(script, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    assert script.main(["--budget", "smoke", "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["budget"] == "smoke" and results["seed"] == 0
    assert isinstance(results["odd_unlearned_without_bias"], bool)
    assert isinstance(results["exponent_with_bias"], float)
    assert set(results["acceptance"]) == {"exponent_with_bias_within_2_pm_0.5", "odd_unlearned_without_bias"}
    expected_runs = set(script.experiments(script.BUDGETS["smoke"]))
    assert set(results["runs"]) == expected_runs
    shallow = results["runs"]["shallow_bias"]
    assert shallow["frequencies"] == script.BUDGETS["smoke"]["shallow"]["frequencies"]
    assert len(shallow["iterations"]) == len(shallow["predicted_iterations"]) == len(shallow["frequencies"])
    # the exponent in results is the fit of the stored times
    fit = script.fit_power_law(torch.tensor(shallow["frequencies"]), torch.tensor(shallow["iterations"]),
                               k_min=script.FIT_K_MIN, mask=torch.tensor(shallow["learned"]))
    assert results["exponent_with_bias"] == pytest.approx(fit.exponent)
    assert results["closed_form_eigenvalues"]["circle_no_bias"][3] == 0.0
    assert len(results["empirical_ntk"]["spectra"]) == 3
    for name in ("eigenvalues", "time_to_learn", "loss_curves", "ntk_spectra"):
        assert (out / f"{name}.png").stat().st_size > 0
    assert len(list((out / "runs").glob("*.json"))) == len(expected_runs)
    printed = capsys.readouterr().out
    assert "claim (paper)" in printed and "k² on S¹" in printed

    # Rerun: every experiment is reused, none retrained; the numbers are the same.
    def no_run(*args, **kwargs):
        raise AssertionError("an experiment was rerun")

    monkeypatch.setattr(script, "run_experiment", no_run)
    for name in ("save_kernel_eigenvalues", "save_time_to_learn", "save_loss_curves", "save_ntk_spectra"):
        monkeypatch.setattr(script, name, lambda *args, **kwargs: None)  # drawn and checked above
    assert script.main(["--budget", "smoke", "--out", str(out)]) == 0
    again = json.loads((out / "results.json").read_text())
    assert again["fresh_runs"] == 0
    assert again["runs"] == results["runs"]
    # another seed is a different setting: rerun
    with pytest.raises(AssertionError, match="rerun"):
        script.main(["--budget", "smoke", "--out", str(out), "--seed", "1"])


def test_odd_unlearned_rule(script):
    from coordnet.spectral.convergence import TimeToLearn

    def run(learned):
        count = len(learned)
        return TimeToLearn(
            frequencies=torch.arange(1, count + 1), iterations=torch.ones(count, dtype=torch.int64),
            learned=torch.tensor(learned), final_loss=torch.zeros(count, dtype=torch.float64), threshold=0.05,
            cap=10, learning_rate=1.0, kernel_eigenvalues=None, predicted=None,
            history_steps=torch.zeros(0, dtype=torch.int64), history=torch.zeros(0, count))

    assert script.odd_unlearned(run([True, True, False, True, False, True]))
    assert not script.odd_unlearned(run([True, True, True, True, False, True]))  # k = 3 learned
    assert not script.odd_unlearned(run([True, True, False, False, False, True]))  # k = 4 not learned
    assert not script.odd_unlearned(run([True, True]))  # no odd k >= 3 at all


def test_bad_budget(script, tmp_path, capsys):
    assert script.main(["--budget", "huge", "--out", str(tmp_path)]) == 2
    assert "--budget must be one of cpu, paper, got 'huge'" in capsys.readouterr().err
