"""Fast checks of scripts/reproduce_rahaman2019.py with its seconds-long smoke budget."""
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "reproduce_rahaman2019.py"


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("reproduce_rahaman2019", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def smoke(script, tmp_path_factory):
    out = tmp_path_factory.mktemp("rahaman") / "out"
    return out, script.main(["--budget", "smoke", "--out", str(out)])


def test_results_json_holds_the_measurements(script, smoke):
    out, status = smoke
    assert status == 0
    results = json.loads((out / "results.json").read_text())
    budget = script.BUDGETS["smoke"]
    frequencies = budget["exp1"]["frequencies"]
    for key in ("rank_correlation_relu", "rank_correlation_relu_increasing", "rank_correlation_fourier",
                "rank_correlation_fourier_increasing", "rank_correlation_pe", "rank_correlation_pe_increasing"):
        assert key in results and (results[key] is None or -1 <= results[key] <= 1)
    names = {f"{m}_{c}" for m in ("relu", "gauss", "pe") for c in ("equal", "increasing")}
    assert set(results["learning_order"]) == set(results["learned_steps"]) == names
    for name in names:
        steps = results["learned_steps"][name]
        assert list(steps) == [str(k) for k in frequencies]
        learned = sorted((s, int(k)) for k, s in steps.items() if s is not None)
        assert results["learning_order"][name] == [k for _, k in learned]
        assert sorted(results["unlearned"][name]) == sorted(int(k) for k, s in steps.items() if s is None)
        record = json.loads((out / "runs" / f"{name}.json").read_text())["record"]
        assert np.asarray(record["normalised_amplitude"]).shape == (len(record["steps"]), len(frequencies))
        cap = record["cap"]
        assert cap == (budget["exp1"]["steps"] if name.startswith("relu") else budget["exp1"]["fourier_steps"])
    assert json.loads((out / "runs" / "relu_increasing.json").read_text())["record"]["target"]["amplitudes"] == \
        pytest.approx([0.1, 0.2, 0.3])
    perturbation = results["perturbation"]
    assert np.asarray(perturbation["normalised_amplitude"]).shape == (3, len(frequencies))
    assert perturbation["deltas"][0] == 0 and perturbation["deltas"][-1] == pytest.approx(
        0.3 * perturbation["parameter_norm"])
    manifold = results["manifold"]
    assert manifold["L"] == [0, 8] and manifold["k"] == [8]
    assert np.asarray(manifold["learnability"]).shape == (2, 1)
    assert set(results["acceptance"]) == {"rank_correlation_relu >= 0.9", "rank_correlation_fourier <= 0.5"}
    assert results["settings"]["exp1"] == budget["exp1"]
    for figure in ("heatmaps.png", "perturbation.png", "manifold.png", "manifolds.png"):
        assert (out / figure).stat().st_size > 0


def test_printout_puts_the_paper_beside_ours_and_a_rerun_reuses_every_run(script, smoke, capsys, monkeypatch):
    out, _ = smoke
    capsys.readouterr()

    def no_training(*args, **kwargs):
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(script, "train_spectral_run", no_training)
    monkeypatch.setattr(script, "manifold_experiment", no_training)
    monkeypatch.setattr(script, "perturbation_spectrum", no_training)
    before = json.loads((out / "results.json").read_text())
    assert script.main(["--budget", "smoke", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    after = json.loads((out / "results.json").read_text())
    assert after["fresh_runs"] == 0
    for key in ("rank_correlation_relu", "rank_correlation_fourier", "learning_order", "perturbation", "manifold"):
        assert after[key] == before[key], key
    for claim in script.PAPER_CLAIMS.values():
        assert f"paper: {claim}" in printed
    assert printed.count("ours:  ") == len(script.PAPER_CLAIMS) + 1  # the Fourier claim for both amplitude cases
    assert "rank_correlation_relu >= 0.9: " in printed


def test_unknown_budget_is_an_error(script, tmp_path, capsys):
    assert script.main(["--budget", "huge", "--out", str(tmp_path)]) == 2
    assert "--budget must be one of cpu, paper" in capsys.readouterr().err
