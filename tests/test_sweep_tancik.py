"""scripts/reproduce_tancik2020.py --sigma-search: the shipped σ-search sweep on the train images."""
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from coordnet.signals import save_image

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "reproduce_tancik2020.py"
TINY = ["--budget", "cpu", "--images", "1", "--steps", "3", "--resolution", "16", "--crop", "8", "--workers", "2"]


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("reproduce_tancik2020_sweep", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_data(root: Path) -> Path:
    rng = np.random.default_rng(1)
    for name in ("div2k", "text"):
        for split in ("train", "test"):
            folder = root / name / split
            folder.mkdir(parents=True)
            for i in range(2):
                save_image(folder / f"{i:02d}.png", rng.random((16, 16, 3)).astype(np.float32))
    return root


@pytest.mark.slow
def test_sigma_search_chooses_the_best_sigma_of_the_train_images(script, tmp_path, capsys):
    data = make_data(tmp_path / "data")
    out = tmp_path / "out"
    assert script.main([str(data), "--out", str(out), "--sigma-search", *TINY]) == 0
    results = json.loads((out / "results.json").read_text())
    for s in script.SETS:
        search = results["sigma_search"][s]
        assert search["grid"] == [1, 2, 4, 8, 10, 16, 32, 64]
        assert search["images"] == ["00.png"] and search["fitted"] == 8 and search["failed"] == 0
        # The best σ is the one with the highest mean test PSNR, recomputed from the run folders.
        psnr = {}
        for result in (out / "sigma_search" / s / "runs").glob("*/result.json"):
            record = json.loads(result.read_text())
            assert record["config"]["size"] == 8 and record["config"]["split"] == "tancik"
            psnr[record["params"]["scale"] / search["sigma_scale_factor"]] = record["test_psnr"]
        assert sorted(psnr) == pytest.approx(search["grid"])
        best = max(psnr, key=psnr.get)
        assert search["best"] == pytest.approx(best)
        assert results["settings"]["gaussian_sigma"][s] == search["best"]
        assert (out / "sigma_search" / s / "results.md").exists()
        gaussian = json.loads((out / "runs" / f"{s}__gaussian__00.json").read_text())
        assert gaussian["settings"]["sigma"] == search["best"]
    assert "σ search on the div2k train images: best σ" in capsys.readouterr().out

    # Rerun: the σ search and the table fits are all reused.
    assert script.main([str(data), "--out", str(out), "--sigma-search", *TINY]) == 0
    again = json.loads((out / "results.json").read_text())
    assert again["fitted_this_run"] == 0
    assert all(again["sigma_search"][s]["reused"] == 8 and again["sigma_search"][s]["fitted"] == 0
               for s in script.SETS)


def test_sigma_search_needs_train_images(script, tmp_path, capsys):
    data = make_data(tmp_path / "data")
    for png in (data / "text" / "train").iterdir():
        png.unlink()
    assert script.main([str(data), "--out", str(tmp_path / "out"), "--sigma-search", *TINY]) == 2
    err = capsys.readouterr().err.strip()
    assert str(data / "text" / "train") in err and len(err.splitlines()) == 1
