"""Checks of scripts/reproduce_lazzari2023.py: its pieces, and a tiny end-to-end run that resumes."""
import copy
import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from coordnet.fit import Callback, Samples, TrainConfig, Trainer
from coordnet.regions import exact_count_1d, relu_network

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "reproduce_lazzari2023.py"
TINY = ["--size", "12", "--fine", "2", "--width", "8", "--depth", "2", "--steps", "4", "--every", "2", "--pairs", "3",
        "--ks", "2,6", "--line-samples", "48", "--line-steps", "4", "--line-every", "2"]


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("reproduce_lazzari2023", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def test_models_and_targets(script):
    assert script.model_spec("raw01", 16, 2) == "relu:width=16,depth=2"
    assert script.model_spec("pe2", 16, 2) == "pe:L=2+relu:width=16,depth=2"
    settings = {"width": 6, "depth": 2}
    x = torch.rand(5, 2)
    raw11 = relu_network(script.make_model("raw11", 2, 1, settings, "sigmoid"))
    torch.testing.assert_close(raw11.encode(x), 2 * x - 1)  # [0,1] -> [-1,1], an affine input map
    assert raw11.input_map_is_affine
    pe8 = relu_network(script.make_model("pe8", 2, 1, settings, "sigmoid"))
    assert pe8.hidden[0].in_features == 2 * 2 * 8  # sin and cos of 8 frequencies per coordinate

    t, y = script.line_target(3, 12)
    assert t.shape == y.shape == (12, 1)
    np.testing.assert_allclose(t[:, 0].numpy(), np.arange(12) / 12, atol=1e-7)
    np.testing.assert_allclose(y[:, 0].numpy(), 0.5 + 0.5 * np.sin(2 * np.pi * 3 * np.arange(12) / 12), atol=1e-6)

    values = torch.arange(12.0).reshape(3, 4, 1)
    target = script.nearest_pixel(values)
    points = torch.tensor([[0.0, 0.0], [0.34, 0.99], [0.99, 0.26], [1.0, 1.0]], dtype=torch.float64)
    assert target(points)[:, 0].tolist() == [0.0, 7.0, 9.0, 11.0]


def test_spearman_matches_scipy(script):
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(0)
    x = rng.integers(0, 5, 20).astype(float)
    y = x + rng.normal(0, 2, 20)
    assert script.spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic)
    assert script.spearman([1, 2, 3], [5, 5, 5]) == 0.0


def test_line_counts_are_exact_counts_of_the_model_at_each_step(script):
    class Snapshots(Callback):
        def __init__(self):
            self.models = {}

        def on_start(self, trainer):
            self.models[trainer.step] = copy.deepcopy(trainer.model)

        def on_step(self, trainer, step, loss):
            self.models[step] = copy.deepcopy(trainer.model)

    t, y = script.line_target(4, 32)
    model = script.make_model("raw01", 1, 1, {"width": 8, "depth": 2}, "none")
    counter, snapshots = script.LineCounts(every=2), Snapshots()
    Trainer(model, Samples(t, y), TrainConfig(steps=5, lr=0.05, eval_every=5), [snapshots, counter]).fit()
    assert counter.steps == [0, 2, 4, 5]
    assert counter.counts == [exact_count_1d(snapshots.models[s], [0.0], [1.0]) for s in counter.steps]


def image_record(label, initial, final, psnr, near_hamming, near_cosine, grid=100):
    return {"label": label, "initial_count": initial, "final_count": final, "final_psnr": psnr, "grid_samples": grid,
            "steps": [0, 10], "counts": [initial, final],
            "pairs": {"near_hamming_fraction": near_hamming, "near_gradient_cosine": near_cosine}}


def test_claims_follow_the_numbers(script):
    images = {
        "raw01": image_record("raw [0,1]", 10, 12, 18.0, 0.001, 0.9),
        "raw11": image_record("raw [-1,1]", 20, 25, 19.0, 0.002, 0.8),
        "pe1": image_record("PE L=1", 30, 31, 20.0, 0.01, 0.5),
        "pe2": image_record("PE L=2", 40, 45, 21.0, 0.02, 0.4),
        "pe8": image_record("PE L=8", 90, 100, 30.0, 0.05, 0.1),
    }
    line = lambda k, count, psnr: {"final_count": count, "final_psnr": psnr}  # noqa: E731
    lines = {"raw01": {"5": line(5, 12, 30.0), "10": line(10, 15, 20.0), "20": line(20, 22, 12.0)}}
    claims = script.check_claims(images, lines)
    assert set(claims) == set(script.CLAIMS)
    assert all(c["holds"] for c in claims.values()), {k: c["ours"] for k, c in claims.items() if not c["holds"]}
    assert claims["pe_more_regions"]["numbers"]["ratio"] == pytest.approx(4.0)
    assert "100 regions" in claims["pe_more_regions"]["ours"] and "25" in claims["pe_more_regions"]["ours"]
    assert claims["line_regions_fall_short"]["numbers"]["raw01"]["needed"] == [10, 20, 40]
    assert claims["line_regions_fall_short"]["numbers"]["raw01"]["spearman_count_vs_k"] == pytest.approx(1.0)

    worse = copy.deepcopy(images)
    worse["raw11"]["final_psnr"] = 17.0
    worse["pe2"]["final_count"] = 200
    worse["pe8"]["final_count"] = 40
    lines["raw01"]["20"]["final_psnr"] = 35.0
    lines["raw01"]["20"]["final_count"] = 40  # enough regions for k = 20
    claims = script.check_claims(worse, lines)
    assert not claims["centring_helps_fit"]["holds"]
    assert not claims["pe_regions_grow_with_L"]["holds"]
    assert not claims["pe_more_regions"]["holds"]
    assert not claims["line_spectral_bias"]["holds"]
    assert not claims["line_regions_fall_short"]["holds"]
    assert claims["centring_changes_regions"]["holds"]

    only_raw = script.check_claims({"raw01": images["raw01"]}, {})
    assert only_raw == {}  # nothing to compare with a single mapping
    seen = script.observations(images)
    assert seen["pe8"]["final_over_initial"] == pytest.approx(100 / 90) and seen["pe8"]["saturated"]


def test_tiny_run_writes_results_and_resumes(script, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    assert script.main(["--out", str(out), *TINY, "--no-figures"]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["budget"] == "cpu" and results["settings"]["size"] == 12
    assert set(results["images"]) == set(script.MAPPINGS)
    for m, record in results["images"].items():
        assert record["steps"] == [0, 2, 4]
        assert len(record["counts"]) == 3 and record["counts"][0] == record["initial_count"]
        assert record["callback_matches_maps"]
        assert 1 <= record["final_count"] <= 144 and math.isfinite(record["final_psnr"])
        assert record["fine_grid"] == [24, 24]  # contains the 12x12 grid: never fewer regions
        assert record["initial_count"] <= record["initial_count_fine"] <= 576
        assert record["final_count"] <= record["final_count_fine"] <= 576
        assert record["spec"] == script.model_spec(m, 8, 2)
    assert set(results["lines"]) == set(script.LINE_MAPPINGS)
    for runs in results["lines"].values():
        assert set(runs) == {"2", "6"}
        for record in runs.values():
            assert record["steps"] == [0, 2, 4] and record["needed"] == 2 * record["k"]
            assert record["sampled_final_count"] <= record["final_count"]  # samples are a lower bound
    assert set(results["claims"]) == set(script.CLAIMS)
    assert all(isinstance(c["holds"], bool) and c["ours"] for c in results["claims"].values())
    assert set(results["region_dynamics"]) == set(script.MAPPINGS)
    assert results["figures"] == [] and not list(out.glob("*.png"))
    printed = capsys.readouterr().out
    assert "paper [" in printed and "ours:" in printed

    def no_run(*args, **kwargs):
        raise AssertionError("a finished run was repeated")

    monkeypatch.setattr(script, "run_image", no_run)
    monkeypatch.setattr(script, "run_line", no_run)
    assert script.main(["--out", str(out), *TINY, "--no-figures"]) == 0
    again = json.loads((out / "results.json").read_text())
    assert again["fitted_this_run"] == 0 and again["reused"] == 5 + 2 * 2
    assert again["images"] == results["images"] and again["claims"] == results["claims"]


@pytest.mark.slow
def test_tiny_run_draws_its_figures(script, tmp_path):
    out = tmp_path / "out"
    assert script.main(["--out", str(out), *TINY]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["figures"] == ["counts.png", "region_maps.png", "lines_1d.png"]
    for name in results["figures"]:
        assert (out / name).stat().st_size > 0


def test_bad_arguments(script, tmp_path, capsys):
    assert script.main(["--out", str(tmp_path / "o"), "--steps", "0"]) == 2
    assert "--steps" in capsys.readouterr().err
    assert script.main(["--out", str(tmp_path / "o"), "--mappings", "raw01,bogus"]) == 2
    assert "bogus" in capsys.readouterr().err
    assert script.main(["--out", str(tmp_path / "o"), "--image", str(tmp_path / "missing.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert "missing.png" in err and len(err.splitlines()) == 1
