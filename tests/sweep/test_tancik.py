"""The σ search of coordnet.experiments.tancik2020: the shipped sweep on the train images."""

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from coordnet.cli.main import cli
from coordnet.experiments import tancik2020 as tancik
from coordnet.signals import save_image
from coordnet.sweep import load_sweep
from coordnet.sweep.config import shipped_sweep

TINY = ["--set", "images=1", "--set", "steps=3", "--set", "resolution=8"]


def reproduce(data: Path, out: Path, *extra: str):
    """``coordnet reproduce tancik2020 --data DATA --out OUT --sigma-search ...``."""
    arguments = ["reproduce", "tancik2020", "--data", str(data), "--out", str(out)]
    return CliRunner().invoke(cli, [*arguments, "--sigma-search", *extra])


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
def test_sigma_search_chooses_the_best_sigma_of_the_train_images(tmp_path):
    data = make_data(tmp_path / "data")
    out = tmp_path / "out"
    result = reproduce(data, out, *TINY)
    assert result.exit_code == 0, result.output
    results = json.loads((out / "results.json").read_text())
    for s in tancik.SETS:
        search = results["extra"]["sigma_search"][s]
        assert search["grid"] == list(tancik.SIGMA_SEARCH_GRID[s])
        assert search["images"] == ["00.png"]
        psnr = {float(sigma): value for sigma, value in search["test_psnr"].items()}
        assert sorted(psnr) == pytest.approx(search["grid"])
        assert search["best"] == pytest.approx(max(psnr, key=lambda sigma: psnr[sigma]))
        assert results["extra"]["gaussian_sigma"][s] == search["best"]
        stored = json.loads((out / "runs" / f"{s}__gaussian__00-00.json").read_text())
        assert stored["settings"]["sigma"] == search["best"]
    assert "best σ" in result.output


def test_sigma_search_needs_train_images(tmp_path):
    data = make_data(tmp_path / "data")
    for png in (data / "text" / "train").iterdir():
        png.unlink()
    result = reproduce(data, tmp_path / "out", *TINY)
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and str(data / "text" / "train") in errors[0]
