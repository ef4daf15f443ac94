"""Fast checks of the Fridovich-Keil 2022 reproduction (coordnet.experiments.fridovich2022) and its digits helpers."""

import json
import math

import pytest
import torch

from coordnet.experiments import digits
from coordnet.experiments import fridovich2022 as fk


def test_digits_split_is_standardised_with_training_statistics():
    data = digits.load_digits(seed=0, examples=100)
    assert data.x_train.shape == (70, 1, 8, 8) and data.x_test.shape == (30, 1, 8, 8)
    assert data.x_train.mean().item() == pytest.approx(0.0, abs=1e-5)
    assert data.x_train.std().item() == pytest.approx(1.0, rel=1e-4)
    assert data.background == pytest.approx(-data.mean / data.std)
    full = digits.load_digits(seed=1)
    assert len(full.y_train) == digits.TRAIN_SIZE and len(full.y_test) == 1797 - digits.TRAIN_SIZE
    assert digits.mlp(16, 0)(data.x_train[:5]).shape == (5, 10)
    with pytest.raises(ValueError, match="examples"):
        digits.load_digits(0, examples=5)


def test_random_shift_moves_by_at_most_one_pixel_and_fills():
    x = torch.zeros(200, 1, 8, 8)
    x[:, 0, 4, 3] = 1.0
    out = digits.random_shift(x, 1, torch.Generator().manual_seed(0), fill=-0.5)
    positions = {tuple(torch.nonzero(o[0] == 1.0)[0].tolist()) for o in out}
    assert positions == {(r, c) for r in (3, 4, 5) for c in (2, 3, 4)}
    assert ((out == 1.0).sum(dim=(1, 2, 3)) == 1).all()
    assert set(out.unique().tolist()) <= {
        -0.5,
        0.0,
        1.0,
    }  # vacated border pixels take the fill value
    assert torch.equal(digits.random_shift(x, 0, torch.Generator()), x)


def test_t_interval_matches_the_t_table():
    mean, low, high = fk.interval([1.0, 2.0, 3.0], 0.95)
    half = 4.302653 / math.sqrt(3)  # t_{0.975, 2} from a t table, sd = 1
    assert (
        mean == 2.0
        and low == pytest.approx(2 - half, rel=1e-6)
        and high == pytest.approx(2 + half, rel=1e-6)
    )
    assert math.isnan(fk.interval([1.0])[1])


def test_verdicts_follow_the_intervals():
    runs = []
    for s in range(5):
        d = 0.001 * (s - 2)
        short = {
            "test_accuracy": 0.8,
            "authors": {"between": 0.3, "within": 0.1},
            "coordnet": {"between": 1.0, "within": 1.0},
        }
        ref = {
            "test_accuracy": 0.9 + d,
            "authors": {"between": 0.4 + d, "within": 0.2 + d},
            "coordnet": {"between": 1.0 + 10 * d, "within": 0.9 + d},
        }
        runs.append(
            {
                "rows": {
                    "short": short,
                    "reference": ref,
                    "small": short,
                    "few": short,
                    "shifts": short,
                    "decay": ref,
                }
            }
        )
    table = fk.compare(runs, 0.95)
    time = table["training time"]
    assert time["test accuracy"]["verdict"] == "holds"
    assert time["between, authors'"]["verdict"] == "holds" and time["between, authors'"][
        "difference"
    ] == pytest.approx(0.1)
    assert time["within, authors'"]["verdict"] == "reverses"  # rose, the paper expects a fall
    assert time["between, coordnet"]["verdict"] == "inconclusive"  # mean 0, spread over seeds
    assert time["within, coordnet"]["verdict"] == "holds"
    assert (
        table["augmentation"]["test accuracy"]["verdict"] == "reverses"
    )  # reference -> shifts lost accuracy
    assert table["training time"]["within, authors'"]["per_seed"] == pytest.approx(
        [0.1 + 0.001 * (s - 2) for s in range(5)]
    )


def fake_run_seed(seed, budget):
    """A stand-in for run_seed without training: numbers that depend on the seed."""
    d = 0.01 * seed

    def row(a, b, w):
        return {
            "test_accuracy": a + d,
            "authors": {"between": b + d, "within": w},  # noqa: E731
            "coordnet": {"between": 2 * b, "within": w + d},
        }

    rows = {
        "short": row(0.5, 0.2, 0.1),
        "reference": row(0.9, 0.3, 0.05),
        "small": row(0.8, 0.25, 0.06),
        "few": row(0.85, 0.28, 0.07),
        "shifts": row(0.88, 0.31, 0.04),
        "decay": row(0.9, 0.3, 0.05),
    }
    return {
        "rows": rows,
        "label_noise": {
            p: [0.9 - d, 0.5, 0.2 + d][: len(budget.noise_frequencies)]
            for p in ("planar", "radial")
        },
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
        "pairs=2",
        "--set",
        "samples=8",
        "--set",
        "noise_frequencies=1,4",
        "--set",
        "short_epochs=1",
    ]
    assert reproduce("fridovich2022", argv) == 0 and calls == [0, 1, 2]
    results = json.loads((out / "results.json").read_text())
    assert results["experiment"] == "fridovich2022" and results["budget"] == "cpu"
    assert results["settings"]["epochs"] == 4 and results["settings"]["noise_frequencies"] == [
        1.0,
        4.0,
    ]
    assert "epochs: 4 vs 100" in results["differs_from_paper"]
    claims = {c["name"]: c for c in results["claims"]}
    assert len(claims) == len(fk.INTERVENTIONS) * len(fk.MEASURES) + 2
    time = claims["training time: test accuracy"]
    assert time["verdict"] == "holds" and time["ours"].startswith("+0.4000")
    assert (
        claims["training time: within, authors'"]["verdict"] == "holds"
    )  # 0.1 -> 0.05 at every seed
    assert claims["training time: between, coordnet"]["verdict"] == "holds"
    assert claims["weight decay: test accuracy"]["verdict"] == "inconclusive"  # identical rows
    assert claims["label noise (planar): β(lowest f) − β(highest f)"]["verdict"] == "holds"
    assert "pixel_interpolation.py" in claims["model size: between, authors'"]["source"]
    table = results["tables"]["interventions"]["model size"]["between, authors'"]
    assert table["difference"] == pytest.approx(0.05) and table["per_seed"] == pytest.approx(
        [0.05] * 3
    )
    assert (out / "results.md").read_text().count("| model size:") == len(fk.MEASURES)
    for name in ("frequency.png", "label_noise.png"):
        assert (out / name).stat().st_size > 0
    assert "training time" in capsys.readouterr().out
    (out / "runs" / "seed-1.json").unlink()  # as if interrupted during seed 1
    assert reproduce("fridovich2022", argv) == 0 and calls == [0, 1, 2, 1]
    assert reproduce("fridovich2022", [*argv, "--set", "step=0.5"]) == 0 and calls == [
        0,
        1,
        2,
        1,
        0,
        1,
        2,
    ]  # other settings


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--set", "samples=1"], "samples must be"),
        (["--set", "seeds=1"], "seeds must be at least 2"),
        (["--set", "short_epochs=40"], "short_epochs"),
        (["--set", "colour=red"], "unknown setting 'colour'"),
    ],
)
def test_bad_settings_exit_1_with_one_line(tmp_path, capsys, argv, message, reproduce):
    assert reproduce("fridovich2022", ["--out", str(tmp_path), *argv]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


@pytest.mark.slow
def test_tiny_real_run(tmp_path, reproduce):
    out = tmp_path / "out"
    argv = [
        "--out",
        str(out),
        "--set",
        "seeds=2",
        "--set",
        "epochs=2",
        "--set",
        "pairs=3",
        "--set",
        "samples=8",
        "--set",
        "examples=200",
        "--set",
        "noise_frequencies=1,4",
        "--set",
        "short_epochs=1",
        "--set",
        "per_group=2",
    ]
    assert reproduce("fridovich2022", argv) == 0
    results = json.loads((out / "results.json").read_text())
    rows = results["tables"]["row_means"]
    assert set(rows) == {"short", "reference", "small", "few", "shifts", "decay"}
    for row in rows.values():
        assert 0 <= row["between, authors'"] < 1 and 0 <= row["test accuracy"] <= 1
    assert all(c["verdict"] in ("holds", "reverses", "inconclusive") for c in results["claims"])
