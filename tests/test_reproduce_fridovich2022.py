"""Fast checks of scripts/reproduce_fridovich2022.py: its pieces and a tiny end-to-end run."""
import importlib.util
import json
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "reproduce_fridovich2022.py"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("reproduce_fridovich2022", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_data_split_and_models(script):
    data = script.load_digits_data(seed=0, examples=100)
    assert data["x_train"].shape == (70, 1, 8, 8) and data["x_test"].shape == (30, 1, 8, 8)
    assert 0 <= data["x_train"].min() and data["x_train"].max() <= 1
    full = script.load_digits_data(seed=1)
    assert len(full["y_train"]) == script.TRAIN_SIZE and len(full["y_test"]) == 1797 - script.TRAIN_SIZE
    for name in script.SIZES:
        assert script.build_model(name, 0)(data["x_train"][:5]).shape == (5, 10)
    small, large = script.build_model("small", 0), script.build_model("large", 0)
    assert sum(p.numel() for p in small.parameters()) < sum(p.numel() for p in large.parameters())
    with pytest.raises(ValueError, match="model must be one of"):
        script.build_model("huge", 0)


def test_augment_shifts_by_at_most_one_pixel(script, monkeypatch):
    monkeypatch.setattr(script, "PIXEL_NOISE", 0.0)
    monkeypatch.setattr(script, "SHIFT", 1)
    x = torch.zeros(200, 1, 8, 8)
    x[:, 0, 4, 3] = 1.0
    out = script.augment(x, torch.Generator().manual_seed(0))
    assert out.shape == x.shape
    positions = {tuple(torch.nonzero(o[0])[0].tolist()) for o in out}
    assert positions == {(r, c) for r in (3, 4, 5) for c in (2, 3, 4)}
    assert torch.equal(out.sum(dim=(1, 2, 3)), torch.ones(200))
    monkeypatch.setattr(script, "SHIFT", 0)
    monkeypatch.setattr(script, "PIXEL_NOISE", 0.1)
    noisy = script.augment(x, torch.Generator().manual_seed(0))
    assert (noisy - x).std().item() == pytest.approx(0.1, rel=0.05)


def test_intervention_check_logic(script):
    def row(b, w, acc):
        return {"between": b, "within": w, "test_accuracy": acc}

    means = {"sizes": {"small": row(1.0, 3.0, 0.8), "medium": row(2.0, 2.0, 0.9), "large": row(1.5, 2.5, 0.95),
                       "cnn": row(3.0, 3.0, 0.85)},
             "regularisation": {"none": row(2.0, 2.0, 0.9), "weight decay": row(2.5, 1.5, 0.91),
                                "augmentation": row(2.5, 1.5, 0.89), "both": row(1.0, 1.0, 0.92)}}
    checks = {c["intervention"]: c for c in script.intervention_checks(means)}
    assert checks["small -> medium"]["claim_holds"] is True
    assert checks["medium -> large"]["claim_holds"] is False
    assert checks["medium -> cnn"]["claim_holds"] is None  # accuracy fell: the claim does not apply
    assert checks["none -> weight decay"]["claim_holds"] is True
    assert checks["none -> augmentation"]["claim_holds"] is None
    assert checks["none -> both"]["claim_holds"] is False and checks["none -> both"]["within_falls"]


def test_noise_check(script):
    means = {"label_noise": {"planar": {"frequencies": [1, 2, 4], "fitted_fraction": [0.9, 0.5, 0.1]},
                             "radial": {"frequencies": [1, 2, 4], "fitted_fraction": [0.1, 0.5, 0.2]}}}
    checks = script.noise_check(means)
    assert checks["planar"]["falls_with_f"] and checks["planar"]["spearman_beta_vs_f"] == pytest.approx(-1.0)
    assert not checks["radial"]["falls_with_f"]


def fake_run_seed(script):
    """A stand-in for ``run_seed`` without training: rows measured on untrained models."""

    def run_seed(seed, settings, log=print):
        data = script.load_digits_data(seed, 30)
        x, y = data["x_train"], data["y_train"]
        pairs = {kind: script.sample_pairs(x, y, settings["pairs"], kind, seed=seed) for kind in ("between", "within")}

        def row(name, offset):
            model = script.build_model(name, seed + offset)
            m = script.measure(model, x, pairs, settings["samples"])
            return {"between": m["between"]["centroid"], "within": m["within"]["centroid"],
                    "between_high_share": m["between"]["high_share"], "within_high_share": m["within"]["high_share"],
                    "between_untapered": m["between"]["centroid_untapered"],
                    "within_untapered": m["within"]["centroid_untapered"],
                    "between_variation": m["between"]["mean_variation"], "within_variation": m["within"]["mean_variation"],
                    "test_accuracy": script.accuracy(model, data["x_test"], data["y_test"]),
                    "train_accuracy": script.accuracy(model, x, y), "spectra": m}

        sizes = {n: row(n, 0) for n in script.SIZES}
        others = [row("small", offset) for offset in (1, 2)]
        return {"seed": seed,
                "training": {0: others[0], 1: others[1], settings["epochs"]: sizes["medium"]},
                "sizes": sizes,
                "regularisation": {n: [sizes["medium"], *others, sizes["small"]][i]
                                   for i, n in enumerate(script.REGULARISERS)},
                "label_noise": {k: [0.5 / (1 + i) for i, _ in enumerate(settings["noise_frequencies"])]
                                for k in ("planar", "radial")}}

    return run_seed


def test_main_writes_results_and_report(script, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(script, "run_seed", fake_run_seed(script))
    out = tmp_path / "out"
    argv = ["--out", str(out), "--seeds", "2", "--epochs", "3", "--pairs", "2", "--samples", "8",
            "--noise-frequencies", "1,2,4"]
    assert script.main(argv) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["budget"] == "cpu" and results["settings"]["epochs"] == 3 and results["settings"]["seeds"] == 2
    assert set(results["means"]["training"]) == {"0", "1", "3"}
    assert set(results["means"]["sizes"]) == set(script.SIZES)
    assert len(results["intervention_checks"]) == len(results["intervention_checks_untapered"]) == 6
    assert results["claims"] == script.CLAIMS and len(results["per_seed"]) == 2
    mean_between = results["means"]["sizes"]["large"]["between"]
    per_seed = [r["sizes"]["large"]["between"] for r in results["per_seed"]]
    assert mean_between == pytest.approx(sum(per_seed) / 2)
    assert results["label_noise_check"]["planar"]["falls_with_f"]
    for name in ("frequency.png", "spectra.png", "label_noise.png"):
        assert (out / name).stat().st_size > 0
    printed = capsys.readouterr().out
    assert "paper:" in printed and f"{mean_between:.3f}" in printed
    assert script.main(["--out", str(out), "--samples", "1"]) == 2


def test_a_rerun_reuses_the_seeds_already_run_with_the_same_settings(script, tmp_path, capsys, monkeypatch):
    calls = []
    fake = fake_run_seed(script)

    def counting_run_seed(seed, settings, log=print):
        calls.append(seed)
        return fake(seed, settings, log)

    monkeypatch.setattr(script, "run_seed", counting_run_seed)
    out = tmp_path / "out"
    argv = ["--out", str(out), "--seeds", "2", "--epochs", "3", "--pairs", "2", "--samples", "8",
            "--noise-frequencies", "1,2"]
    assert script.main(argv) == 0
    first = json.loads((out / "results.json").read_text())["means"]
    (out / "runs" / "seed-1.pt").unlink()  # as if interrupted during seed 1
    assert script.main(argv) == 0
    assert calls == [0, 1, 1]
    assert json.loads((out / "results.json").read_text())["means"] == first
    assert script.main([*argv[:-1], "1,4"]) == 0  # other settings: nothing reused
    assert calls == [0, 1, 1, 0, 1]


def test_measure_keeps_the_tapered_summary(script):
    data = script.load_digits_data(0, 30)
    x, y = data["x_train"], data["y_train"]
    pairs = {kind: script.sample_pairs(x, y, 2, kind, seed=0) for kind in ("between", "within")}
    m = script.measure(script.build_model("small", 0), x, pairs, 8)
    for kind in ("between", "within"):
        summary = m[kind]["summary"]
        assert summary["kind"] == kind and len(summary["mean_power"]) == 8 // 2 + 1
        assert summary["cutoff"] == pytest.approx(0.25 * 8 / 2)
        assert summary["centroid"] == m[kind]["centroid"] and summary["high_share"] == m[kind]["high_share"]


def test_seed_files_of_an_older_layout_are_not_reused(script, tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(script, "run_seed", lambda seed, settings, log=print: calls.append(seed) or {"seed": seed})
    settings = {"seeds": 1, "epochs": 2}
    path = tmp_path / "runs" / "seed-0.pt"
    path.parent.mkdir()
    torch.save({"settings": settings, "result": {"seed": "old"}}, path)  # no cache version
    assert script.cached_run_seed(tmp_path, 0, settings) == {"seed": 0} and calls == [0]
    assert script.cached_run_seed(tmp_path, 0, settings) == {"seed": 0} and calls == [0]
    assert torch.load(path, weights_only=False)["settings"]["cache_version"] == script.CACHE_VERSION


@pytest.mark.slow
def test_tiny_run_writes_results(script, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["--out", str(out), "--seeds", "1", "--epochs", "2", "--pairs", "3", "--samples", "8",
            "--examples", "60", "--noise-frequencies", "1,4"]
    assert script.main(argv) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["budget"] == "cpu" and results["settings"]["epochs"] == 2
    assert set(results["means"]["training"]) == {"0", "1", "2"}
    assert set(results["means"]["sizes"]) == set(script.SIZES)
    assert set(results["means"]["regularisation"]) == set(script.REGULARISERS)
    assert results["means"]["label_noise"]["planar"]["frequencies"] == [1.0, 4.0]
    assert len(results["intervention_checks"]) == 6 and results["claims"] == script.CLAIMS
    for name in ("frequency.png", "spectra.png", "label_noise.png"):
        assert (out / name).stat().st_size > 0
    printed = capsys.readouterr().out
    assert "paper:" in printed and "between" in printed
