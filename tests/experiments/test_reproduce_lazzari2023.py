"""Fast checks of coordnet.experiments.lazzari2023 on its seconds-long smoke budget."""

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
    assert (paper.batch_size, paper.epochs, paper.count_every, paper.patch) == (8192, 1000, 50, 50)
    assert paper.count_levels == (1, 2, 8) and paper.pair_levels == (4, 8, 16)
    cpu = experiment.BUDGETS["cpu"]
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


def test_data_folder_takes_the_first_images_sorted(tmp_path):
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


def test_smoke_run_claims_and_resume(tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    assert experiment.main(["--budget", "smoke", "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["extra"]["bundled_images"] is True and results["extra"]["images"] == ["camera"]
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
        assert claim["verdict"] in VERDICTS and len(claim["ours"]) == 1
    run = json.loads((out / "runs" / "camera__pe2.json").read_text())["result"]
    assert run["epochs"] == [0, 2, 4] and len(run["counts"]) == 3 and max(run["counts"]) <= 16 * 16
    assert set(run["pairs"]) == {"local", "global"} and run["pairs"]["local"]["hamming"] >= 0
    final = results["tables"]["final_regions"]["camera"]
    assert claims["centring_more_regions"]["ours"][0] == pytest.approx(
        math.log(final["raw11"]) - math.log(final["raw01"]), abs=1e-4
    )
    assert (out / "counts.png").stat().st_size > 0

    def no_training(*args, **kwargs):
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(experiment, "train_and_measure", no_training)
    assert experiment.main(["--budget", "smoke", "--out", str(out), "--no-figures"]) == 0
    assert json.loads((out / "results.json").read_text())["claims"] == results["claims"]
    with pytest.raises(AssertionError, match="trained again"):
        experiment.main(
            ["--budget", "smoke", "--out", str(out), "--steps", "3"]
        )  # old flag: epochs


def test_bad_input(tmp_path, capsys):
    assert experiment.main(["--budget", "paper", "--out", str(tmp_path)]) == 2
    assert "needs --data" in capsys.readouterr().err
    assert experiment.main(["--out", str(tmp_path), "--data", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
