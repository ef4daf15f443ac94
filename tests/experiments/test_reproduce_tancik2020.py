"""Fast checks of coordnet.experiments.tancik2020 and `coordnet reproduce tancik2020` on a tiny synthetic DATA_DIR."""

import json
import shutil

import numpy as np
import pytest
import torch

from coordnet.experiments import tancik2020 as tancik
from coordnet.signals import save_image


@pytest.fixture
def data_dir(tmp_path):
    rng = np.random.default_rng(0)
    root = tmp_path / "data"
    for name in ("div2k", "text"):
        for split in ("train", "test"):
            folder = root / name / split
            folder.mkdir(parents=True)
            for i in range(2):
                save_image(folder / f"{i:02d}.png", rng.random((16, 16, 3)).astype(np.float32))
    return root


def test_results_claims_and_resume(data_dir, tmp_path, monkeypatch, capsys, reproduce):
    out = tmp_path / "out"
    args = [
        "--data",
        str(data_dir),
        "--out",
        str(out),
        "--budget",
        "cpu",
        "--set",
        "images=2",
        "--set",
        "steps=3",
        "--set",
        "resolution=8",
        "--set",
        "chunk=2",
    ]
    assert reproduce("tancik2020", args) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["budget"] == "cpu" and results["settings"]["resolution"] == 8
    assert "steps: 3 vs 2000" in results["differs_from_paper"]
    per_image = results["tables"]["per_image"]
    for s in tancik.SETS:
        for m in tancik.MAPPINGS:
            assert len(per_image[s][m]) == 2 and all(np.isfinite(per_image[s][m]))
    # cpu budget: ordering claims with paired intervals, verdict consistent with the interval.
    claims = results["claims"]
    assert len(claims) == 6 and all(
        c["verdict"] in ("holds", "reverses", "inconclusive") for c in claims
    )
    first = claims[0]
    d = np.array(per_image["div2k"]["basic"]) - np.array(per_image["div2k"]["none"])
    assert first["ours"].startswith(f"{d.mean():+.2f} dB")
    assert len(list((out / "runs").glob("*.json"))) == 8 and (out / "table1.png").stat().st_size > 0
    assert "paper" in capsys.readouterr().out

    def no_fit(*args, **kwargs):
        raise AssertionError("finished run was retrained")

    monkeypatch.setattr(tancik, "fit_chunk", no_fit)
    assert reproduce("tancik2020", args) == 0
    assert json.loads((out / "results.json").read_text())["tables"]["per_image"] == per_image


def test_paper_claims_are_within_or_outside():
    per_image = {"div2k": {"none": [19.0, 19.6], "gaussian": [20.0, 21.0]}, "text": {}}
    claims = tancik.make_claims("paper", tancik.PAPER_BUDGET, per_image)
    assert [c.verdict for c in claims] == ["within", "outside"]
    assert (
        claims[0].ours == "19.30 (0.30)"
        and claims[0].paper == "19.32 (2.48)"
        and claims[0].differs == []
    )


def test_chunked_fits_match_the_notebook_protocol(data_dir):
    budget = tancik.TancikBudget(images=2, resolution=8, steps=2, record_every=1)
    paths = sorted((data_dir / "div2k" / "test").glob("*.png"))
    record = tancik.fit_chunk(paths, "div2k", "gaussian", budget, 10.0, torch.device("cpu"), None)
    assert record["images"] == ["00.png", "01.png"] and record["record_step"] == 2
    # The same fits one at a time give the same numbers (shared B, same initialisation).
    alone = [
        tancik.fit_chunk([p], "div2k", "gaussian", budget, 10.0, torch.device("cpu"), None)
        for p in paths
    ]
    assert record["test_psnr"] == pytest.approx([a["test_psnr"][0] for a in alone], abs=1e-4)


def test_frequencies_and_grid():
    g = tancik.grid(4)
    assert g.shape == (4, 4, 2) and g[0, 1].tolist() == [0.25, 0.0]  # "xy": column first
    B = tancik.posenc_B(6.0)
    assert (
        B.shape == (256, 2)
        and B[0].tolist() == [0.0, 0.0]
        and B[127, 0] == 63.0
        and B[255, 1] == 63.0
    )
    half = tancik.TancikBudget(resolution=256)
    torch.testing.assert_close(tancik.frequencies("positional", "div2k", half, 3, 10.0), B / 2)
    shared = tancik.frequencies("gaussian", "text", half, 3, 14.0)
    per_image = tancik.frequencies("gaussian", "text", tancik.TancikBudget(shared_b=False), 3, 14.0)
    assert shared.shape == (256, 2) and per_image.shape == (3, 256, 2)
    assert shared.std().item() == pytest.approx(7.0, rel=0.1)
    assert tancik.features(
        g.reshape(-1, 2), tancik.frequencies("basic", "div2k", half, 1, 1.0)
    ).shape == (16, 4)


def test_bad_input_is_one_line(data_dir, tmp_path, capsys, reproduce):
    missing = tmp_path / "nope"
    assert (
        reproduce(
            "tancik2020",
            ["--data", str(missing), "--out", str(tmp_path / "o1"), "--set", "steps=3"],
        )
        == 1
    )
    err = capsys.readouterr().err.strip()
    assert str(missing) in err and len(err.splitlines()) == 1
    shutil.rmtree(data_dir / "text" / "test")
    assert reproduce("tancik2020", ["--data", str(data_dir), "--out", str(tmp_path / "o2")]) == 1
    assert str(data_dir / "text" / "test") in capsys.readouterr().err
    assert (
        reproduce(
            "tancik2020",
            ["--data", str(data_dir), "--out", str(tmp_path / "o3"), "--set", "crop=64"],
        )
        == 1
    )
    assert "unknown setting 'crop'" in capsys.readouterr().err
    if not torch.cuda.is_available():
        assert (
            reproduce(
                "tancik2020",
                ["--data", str(data_dir), "--out", str(tmp_path / "o4"), "--device", "cuda"],
            )
            == 1
        )
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: --device cuda") and len(err.splitlines()) == 1
        assert (
            reproduce(
                "tancik2020",
                ["--data", str(data_dir), "--out", str(tmp_path / "o5"), "--budget", "gpu-paper"],
            )
            == 1
        )
        assert "gpu-paper needs --device cuda" in capsys.readouterr().err


def test_wall_clock_guard_reports_partial_results(data_dir, tmp_path, capsys, reproduce):
    out = tmp_path / "out"
    assert (
        reproduce(
            "tancik2020",
            [
                "--data",
                str(data_dir),
                "--out",
                str(out),
                "--set",
                "images=1",
                "--set",
                "steps=50",
                "--set",
                "resolution=8",
                "--set",
                "max_seconds=0.000001",
            ],
        )
        == 0
    )
    results = json.loads((out / "results.json").read_text())
    assert (
        results["extra"]["complete"] is False and "wall-clock guard" in results["extra"]["stopped"]
    )
    assert results["tables"]["per_image"] == {"div2k": {}, "text": {}} and results["claims"] == []
    assert not list((out / "runs").glob("*.json")) if (out / "runs").exists() else True
    assert "partial results" in capsys.readouterr().out
