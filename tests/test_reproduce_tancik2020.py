"""Fast checks of scripts/reproduce_tancik2020.py on a tiny synthetic DATA_DIR."""
import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from coordnet.signals import save_image

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "reproduce_tancik2020.py"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("reproduce_tancik2020", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def data_dir(tmp_path):
    rng = np.random.default_rng(0)
    root = tmp_path / "data"
    for name in ("div2k", "text"):
        for split in ("train", "test"):
            folder = root / name / split
            folder.mkdir(parents=True)
            for i in range(2):
                save_image(folder / f"{i:02d}.png", rng.random((32, 32, 3)).astype(np.float32))
    return root


TINY = ["--budget", "cpu", "--images", "2", "--steps", "3", "--resolution", "16", "--crop", "8"]


def test_results_structure_and_resume(script, data_dir, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    assert script.main([str(data_dir), "--out", str(out), *TINY]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["budget"] == "cpu"
    assert results["settings"]["steps"] == 3 and results["settings"]["resolution"] == 16
    assert results["settings"]["crop"] == 8 and results["settings"]["train_grid"] == 4
    assert results["settings"]["images"] == 2
    for s in script.SETS:
        assert set(results["ours"][s]) == set(script.MAPPINGS)
        assert results["paper_table"][s] == script.PAPER[s]
        assert isinstance(results["ordering_holds"][s], bool)
        for m in script.MAPPINGS:
            assert set(results["per_image"][s][m]) == {"00.png", "01.png"}
            assert np.isfinite(results["ours"][s][m])
    assert results["fitted_this_run"] == 16 and results["skipped_existing"] == 0
    assert len(list((out / "runs").glob("*.json"))) == 16
    assert (out / "table1.png").stat().st_size > 0 and (out / "examples.png").stat().st_size > 0
    assert "paper" in capsys.readouterr().out

    # Rerun: every finished fit is reused, none retrained.
    def no_fit(*args, **kwargs):
        raise AssertionError("finished run was retrained")

    monkeypatch.setattr(script, "fit_one", no_fit)
    assert script.main([str(data_dir), "--out", str(out), *TINY]) == 0
    again = json.loads((out / "results.json").read_text())
    assert again["skipped_existing"] == 16 and again["fitted_this_run"] == 0
    assert again["per_image"] == results["per_image"]


def test_missing_paths(script, data_dir, tmp_path, capsys):
    missing = tmp_path / "nope"
    assert script.main([str(missing), "--out", str(tmp_path / "o1"), *TINY]) != 0
    err = capsys.readouterr().err.strip()
    assert str(missing) in err and len(err.splitlines()) == 1

    shutil.rmtree(data_dir / "text" / "test")
    assert script.main([str(data_dir), "--out", str(tmp_path / "o2"), *TINY]) != 0
    err = capsys.readouterr().err.strip()
    assert str(data_dir / "text" / "test") in err and len(err.splitlines()) == 1
