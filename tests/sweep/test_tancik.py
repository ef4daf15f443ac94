"""The σ search of coordnet.experiments.tancik2020: the shipped sweep on the train images."""

import json
from pathlib import Path

import numpy as np
import pytest

from coordnet.experiments import tancik2020 as tancik
from coordnet.signals import save_image
from coordnet.sweep import load_sweep
from coordnet.sweep.config import shipped_sweep

TINY = ["--set", "images=1", "--set", "steps=3", "--set", "resolution=8", "--workers", "2"]


def make_data(root: Path) -> Path:
    rng = np.random.default_rng(1)
    for name in ("div2k", "text"):
        for split in ("train", "test"):
            folder = root / name / split
            folder.mkdir(parents=True)
            for i in range(2):
                save_image(folder / f"{i:02d}.png", rng.random((16, 16, 3)).astype(np.float32))
    return root


def test_shipped_grid_is_the_narrow_search_grid(monkeypatch):
    monkeypatch.setenv("TANCIK2020_DATA", "/nonexistent")
    (model,) = load_sweep(
        shipped_sweep("tancik2020_sigma"), overrides={"images": ["camera"]}
    ).models
    grid = list(model.grid[("encoder", "sigma")])
    assert grid == [9, 10, 11, 13, 14, 15]
    assert set(grid) == set(tancik.SIGMA_SEARCH_GRID["div2k"]) | set(
        tancik.SIGMA_SEARCH_GRID["text"]
    )
    assert 64.0 in tancik.FIGURE_SIGMA_GRID and 64 not in grid


@pytest.mark.slow
def test_sigma_search_chooses_the_best_sigma_of_the_train_images(tmp_path, capsys):
    data = make_data(tmp_path / "data")
    out = tmp_path / "out"
    assert tancik.main([str(data), "--out", str(out), "--sigma-search", *TINY]) == 0
    results = json.loads((out / "results.json").read_text())
    for s in tancik.SETS:
        search = results["extra"]["sigma_search"][s]
        assert search["grid"] == list(tancik.SIGMA_SEARCH_GRID[s])
        assert search["images"] == ["00.png"] and search["fitted"] == 3 and search["failed"] == 0
        psnr = {}
        for result in (out / "sigma_search" / s / "runs").glob("*/result.json"):
            record = json.loads(result.read_text())
            assert record["config"]["size"] == 8 and record["config"]["split"] == "tancik"
            psnr[record["params"]["sigma"] / search["sigma_scale_factor"]] = record["test_psnr"]
        assert sorted(psnr) == pytest.approx(search["grid"])
        assert search["best"] == pytest.approx(max(psnr, key=psnr.get))
        assert results["extra"]["gaussian_sigma"][s] == search["best"]
        stored = json.loads((out / "runs" / f"{s}__gaussian__00-00.json").read_text())
        assert stored["settings"]["sigma"] == search["best"]
    assert "best σ" in capsys.readouterr().out


def test_sigma_search_needs_train_images(tmp_path, capsys):
    data = make_data(tmp_path / "data")
    for png in (data / "text" / "train").iterdir():
        png.unlink()
    assert tancik.main([str(data), "--out", str(tmp_path / "out"), "--sigma-search", *TINY]) == 2
    err = capsys.readouterr().err.strip()
    assert str(data / "text" / "train") in err and len(err.splitlines()) == 1
