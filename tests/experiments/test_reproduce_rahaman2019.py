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


def test_cpu_budget_differs_from_the_paper_only_in_sizes():
    paper, cpu = experiment.BUDGETS["paper"], experiment.BUDGETS["cpu"]
    sizes = {"width", "steps", "record_every", "fourier_steps", "runs", "deltas", "perturb_models"}
    sizes |= {"directions", "manifold_ls", "manifold_ks", "manifold_width", "manifold_steps"}
    differing = {k for k, v in vars(cpu).items() if vars(paper)[k] != v}
    assert differing <= sizes, differing - sizes
    assert cpu.lr == paper.lr == 3e-4 and cpu.manifold_lr == paper.manifold_lr
    assert cpu.manifold_depth == paper.manifold_depth and cpu.runs >= 5


def test_paper_budget_is_the_reference_protocol():
    paper = experiment.BUDGETS["paper"]
    assert paper.runs == 20  # random-phase runs of exp. 1
    assert paper.deltas == pytest.approx(np.linspace(0, 5, 100).tolist())
    assert (paper.perturb_models, paper.directions) == (5, 100)
    assert experiment.perturbs("relu", "equal", 4, paper)
    assert not experiment.perturbs("relu", "equal", 5, paper)
    assert not experiment.perturbs("pe", "equal", 0, paper)


def test_no_order_is_an_interval_containing_zero():
    # +0.41 was once called "no order" by a threshold; an interval decides now
    assert experiment._no_order(experiment._interval([0.41, -0.2, 0.5, 0.1])) == "within"
    assert experiment._no_order(experiment._interval([0.41, 0.45, 0.38, 0.43])) == "outside"
    assert experiment._no_order(experiment._interval([0.41])) == "inconclusive"
    stats = experiment._interval([0.9, 0.8, None, 0.85])
    assert stats["runs"] == 3 and stats["interval_95"][0] > 0
    assert experiment._finite([0.9, None, float("nan")]) == [0.9]


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
    for name in ("relu_equal_run0", "gauss_increasing_run1", "pe_equal_run0"):
        record = json.loads((out / "runs" / f"{name}.json").read_text())["result"]
        assert np.asarray(record["normalised_amplitude"]).shape == (len(record["steps"]), 3)
        learned = sorted(
            (s, k) for k, s in zip(record["frequencies"], record["learned_steps"]) if s is not None
        )
        assert record["order"] == [k for _, k in learned]
    for index in range(budget.runs):  # both smoke runs are exp. 2 models, with absolute δ
        record = json.loads((out / "runs" / f"relu_equal_run{index}.json").read_text())["result"]
        assert record["perturbation"]["deltas"] == pytest.approx(list(budget.deltas))
        assert (
            record["target"]
            != json.loads((out / "runs" / f"relu_equal_run{1 - index}.json").read_text())["result"][
                "target"
            ]
        )  # its own random phases
    claims = {c["name"]: c for c in results["claims"]}
    assert claims["fourier_pe"]["n"] == claims["fourier_pe"]["ours"]["runs"]
    assert len(claims["fourier_pe"]["ours"]["per_run"]) == budget.runs
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
