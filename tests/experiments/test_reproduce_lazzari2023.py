"""Checks of coordnet.experiments.lazzari2023: the authors' settings, and the smoke budget."""

import json
import math

import pytest
import torch

from coordnet.experiments import VERDICTS
from coordnet.experiments import lazzari2023 as experiment

pytestmark = pytest.mark.usefixtures("one_thread")


def test_paper_budget_is_the_authors_settings():
    paper = experiment.BUDGETS["paper"]
    assert (paper.images, paper.size, paper.width, paper.depth, paper.lr) == (5, 512, 512, 4, 1e-3)
    assert (paper.batch_size, paper.epochs, paper.count_every, paper.hamming_every) == (
        8192,
        1000,
        50,
        10,
    )
    assert (paper.windows, paper.window_pairs, paper.global_pairs) == (100, 500, 50000)
    assert paper.count_levels == (1, 2, 8) and paper.pair_levels == (4, 8, 16)
    cpu = experiment.BUDGETS["cpu"]
    assert cpu.images >= 5
    assert (cpu.count_levels, cpu.pair_levels, cpu.depth, cpu.lr) == (
        paper.count_levels,
        paper.pair_levels,
        4,
        1e-3,
    )


def test_encoding_uses_the_pi_factor():
    spec = experiment.mappings(experiment.BUDGETS["paper"])["pe8"]
    model = experiment.build_model(spec + "+relu:width=8,depth=1", 2, 1)
    x = torch.tensor([[0.25, 0.5]])
    features = model.encoder(x)
    expected = [math.sin(2**l * math.pi * 0.25) for l in range(8)]
    assert features.shape == (1, 32)
    assert sorted(features[0].tolist()) == pytest.approx(
        sorted(
            expected
            + [math.cos(2**l * math.pi * 0.25) for l in range(8)]
            + [f(2**l * math.pi * 0.5) for f in (math.sin, math.cos) for l in range(8)]
        ),
        abs=1e-5,
    )


def test_grid_endpoints_are_the_authors():
    pe = experiment.training_grid("pe8", 64).reshape(64, 64, 2)
    assert pe[0, 0].tolist() == [0.0, 0.0] and pe[-1, -1].tolist() == [
        1.0,
        1.0,
    ]  # linspace(0, 1, W)
    assert pe[1, 0, 0].item() == pytest.approx(1 / 63)
    raw = experiment.training_grid("raw01", 64).reshape(64, 64, 2)
    assert raw[-1, -1].tolist() == [63 / 64, 63 / 64]  # the authors' raw_xy: x / W
    assert raw[:, 0, 0].tolist() == pytest.approx([i / 64 for i in range(64)])


@pytest.mark.parametrize("budget", ["cpu", "paper", "smoke"])
def test_no_encoded_column_is_constant_at_the_largest_level(budget):
    b = experiment.BUDGETS[budget]
    level = max(b.pair_levels + b.count_levels)
    model = experiment.make_model(experiment.mappings(b)[f"pe{level}"], 3, b)
    with torch.no_grad():
        features = model.encoder(experiment.training_grid(f"pe{level}", b.size))
    assert features.shape == (b.size**2, 4 * level)
    spread = features.max(0).values - features.min(0).values
    assert spread.min() > 1e-3, f"constant columns: {(spread <= 1e-3).nonzero().flatten().tolist()}"
    # the half-open grid i / W aliases these levels to constants (the bug this guards against)
    x = torch.arange(b.size, dtype=torch.float64) / b.size
    top = torch.sin(2 ** (level - 1) * math.pi * x)
    if 2 ** (level - 1) >= b.size:
        assert top.abs().max() < 1e-9


def test_output_layer_is_linear():
    b = experiment.BUDGETS["smoke"]
    model = experiment.make_model("", 3, b)
    last = [m for m in model.modules() if isinstance(m, torch.nn.Linear)][-1]
    with torch.no_grad():
        last.bias.fill_(5.0)
        last.weight.zero_()
        out = model(torch.rand(4, 2))
    assert torch.allclose(out, torch.full_like(out, 5.0))  # no sigmoid, no clamp


def test_batches_are_shuffled_once():
    batches = experiment.fixed_batches(100, 32, seed=0)
    assert [len(b) for b in batches] == [32, 32, 32, 4]
    assert sorted(torch.cat(batches).tolist()) == list(range(100))
    assert all(torch.equal(a, b) for a, b in zip(batches, experiment.fixed_batches(100, 32, 0)))


def test_data_folder_takes_the_first_images_in_file_order(tmp_path):
    folder = tmp_path / "div2k" / "test"
    folder.mkdir(parents=True)
    for name in ("03.png", "01.png", "02.png", "notes.txt"):
        (folder / name).write_bytes(b"")
    budget = experiment.BUDGETS["paper"].with_overrides(["images=2"])
    assert [
        p.split("/")[-1] for p in experiment.image_sources(budget, tmp_path, None, "paper")
    ] == ["01.png", "02.png"]
    with pytest.raises(ValueError, match="needs --data"):
        experiment.image_sources(budget, None, None, "paper")
    with pytest.raises(ValueError, match="holds 3 images"):
        experiment.image_sources(budget.with_overrides(["images=5"]), tmp_path, None, "paper")
    bundled = experiment.image_sources(experiment.BUDGETS["cpu"], None, None, "cpu")
    assert len(bundled) == 5
    image = experiment.load_image(bundled[1], 16)
    assert image.values.shape == (16, 16, 3)


def test_smoke_run_claims_and_resume(tmp_path, monkeypatch, capsys, reproduce):
    out = tmp_path / "out"
    assert reproduce("lazzari2023", ["--budget", "smoke", "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["extra"]["bundled_images"] is True
    assert results["extra"]["images"] == ["astronaut", "chelsea"]
    assert results["extra"]["output"] == "linear"
    assert "epochs: 4 vs 1000" in results["differs_from_paper"]
    claims = {c["name"]: c for c in results["claims"]}
    assert {
        "pe_more_regions",
        "regions_grow_with_L",
        "centring_more_regions",
        "pe_fits_better",
        "hamming_grows_with_L_local",
        "gradients_less_alike_with_L_global",
    } <= set(claims)
    for claim in claims.values():
        assert claim["verdict"] in VERDICTS and claim["n"] == 2
        assert claim["p_value"] is not None and claim["p_holm"] >= claim["p_value"]
        low, high = claim["interval"]
        assert low <= claim["effect"] <= high or math.isnan(low)
    run = json.loads((out / "runs" / "astronaut__pe2.json").read_text())["result"]
    assert run["count_epochs"] == [1, 3] and len(run["counts"]) == 2
    assert max(run["counts"]) <= 16 * 16 and run["hamming_epochs"] == [1, 3]
    assert set(run["pairs"]) == {
        "hamming_local",
        "hamming_global",
        "confusion_local",
        "confusion_global",
    }
    final = results["tables"]["final_regions"]
    d = [
        math.log(final[s]["raw11"]) - math.log(final[s]["raw01"]) for s in ("astronaut", "chelsea")
    ]
    paired = results["tables"]["paired_differences"]["centring_more_regions"]
    assert paired == pytest.approx(d, abs=1e-6)
    assert claims["centring_more_regions"]["effect"] == pytest.approx(sum(d) / 2, abs=1e-6)
    assert (out / "counts.png").stat().st_size > 0

    def no_training(*args, **kwargs):
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(experiment, "train_and_measure", no_training)
    assert reproduce("lazzari2023", ["--budget", "smoke", "--out", str(out), "--no-figures"]) == 0
    assert json.loads((out / "results.json").read_text())["claims"] == results["claims"]
    with pytest.raises(AssertionError, match="trained again"):
        reproduce(
            "lazzari2023", ["--budget", "smoke", "--out", str(out), "--set", "epochs=3", "--debug"]
        )


def test_bad_input(tmp_path, capsys, reproduce):
    assert reproduce("lazzari2023", ["--budget", "paper", "--out", str(tmp_path)]) == 1
    assert "needs --data" in capsys.readouterr().err
    assert (
        reproduce("lazzari2023", ["--out", str(tmp_path), "--data", str(tmp_path / "missing")]) == 1
    )
    assert "does not exist" in capsys.readouterr().err
