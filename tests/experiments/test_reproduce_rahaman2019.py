"""Fast checks of coordnet.experiments.rahaman2019 on its seconds-long smoke budget."""

import json

import numpy as np
import pytest
import torch

from coordnet.experiments import VERDICTS
from coordnet.experiments import rahaman2019 as experiment

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def smoke(tmp_path_factory, reproduce):
    out = tmp_path_factory.mktemp("rahaman") / "out"
    return out, reproduce("rahaman2019", ["--budget", "smoke", "--out", str(out)])


def test_paper_budget_reads_six_linear_layers():
    paper = experiment.BUDGETS["paper"]
    assert paper.depth == 5 and paper.width == 256 and paper.lr == 3e-4 and paper.steps == 60000
    model = experiment.build_model(experiment.model_spec("relu", paper), 1, 1)
    assert sum(isinstance(m, torch.nn.Linear) for m in model.modules()) == 6
    assert experiment.BUDGETS["cpu"].depth == 5


def test_results_hold_claims_and_measurements(smoke):
    out, status = smoke
    assert status == 0
    results = json.loads((out / "results.json").read_text())
    budget = experiment.BUDGETS["smoke"]
    assert results["experiment"] == "rahaman2019" and results["budget"] == "smoke"
    assert results["settings"]["frequencies"] == [1, 3, 7]
    assert "depth: 2 vs 5" in results["differs_from_paper"]
    names = [c["name"] for c in results["claims"]]
    assert names == [
        "exp1_equal",
        "exp1_increasing",
        "fourier_gauss",
        "fourier_pe",
        "perturbation",
        "manifold",
    ]
    for claim in results["claims"]:
        assert claim["verdict"] in VERDICTS and claim["source"]
        assert "depth: 2 vs 5" in claim["differs"] or claim["name"] == "manifold"
    for name in ("relu_equal", "gauss_increasing", "pe_equal"):
        record = json.loads((out / "runs" / f"{name}.json").read_text())["result"]
        assert np.asarray(record["normalised_amplitude"]).shape == (len(record["steps"]), 3)
        learned = sorted(
            (s, k) for k, s in zip(record["frequencies"], record["learned_steps"]) if s is not None
        )
        assert record["order"] == [k for _, k in learned]
    perturbation = json.loads((out / "runs" / "relu_equal.json").read_text())["result"][
        "perturbation"
    ]
    assert perturbation["deltas"][-1] == pytest.approx(0.3 * perturbation["parameter_norm"])
    assert np.asarray(results["tables"]["manifold"]["learnability"]).shape == (2, 1)
    assert (out / "results.md").read_text().count("| exp1_") == 2
    for figure in ("heatmaps.png", "perturbation.png", "manifold.png", "manifolds.png"):
        assert (out / figure).stat().st_size > 0
    assert budget.manifold_ls == (0, 8)


def test_rerun_reuses_every_run_and_seed_setting_changes_settings(
    smoke, monkeypatch, capsys, reproduce
):
    out, _ = smoke
    before = json.loads((out / "results.json").read_text())

    def no_training(*args, **kwargs):
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(experiment, "train_spectral_run", no_training)
    monkeypatch.setattr(experiment, "manifold_experiment", no_training)
    assert reproduce("rahaman2019", ["--budget", "smoke", "--out", str(out)]) == 0
    after = json.loads((out / "results.json").read_text())
    assert after["claims"] == before["claims"] and after["tables"] == before["tables"]
    assert "exp1_equal: paper [Sec. 3, Fig. 1 (A_i = 1)]" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="trained again"):
        reproduce(
            "rahaman2019", ["--budget", "smoke", "--out", str(out), "--set", "seed=1", "--debug"]
        )


def test_bad_input_is_one_line(tmp_path, capsys, reproduce):
    assert reproduce("rahaman2019", ["--budget", "huge", "--out", str(tmp_path)]) == 1
    assert "unknown budget 'huge'" in capsys.readouterr().err
    assert reproduce("rahaman2019", ["--out", str(tmp_path), "--set", "width=wide"]) == 1
    assert "bad value for 'width'" in capsys.readouterr().err
