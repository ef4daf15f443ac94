"""Fast defaults: time budget, plateau stop, seconds to PSNR milestones, CPU flags, presets."""

import json
import math
import os

import pytest
import torch
from click.testing import CliRunner

from coordnet.cli.main import cli
from coordnet.nets import build_model
from coordnet.runs.presets import PRESETS, get_preset, parse_duration
from coordnet.training import precision
from coordnet.training.metrics import seconds_to_psnr
from coordnet.training.trainer import Samples, TrainConfig, Trainer

pytestmark = pytest.mark.usefixtures("one_thread")


def _samples(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 2, generator=g)
    y = torch.sin(6 * x[:, :1]) * 0.4 + 0.5
    return Samples(x[: n // 2], y[: n // 2], x[n // 2 :], y[n // 2 :])


def _model():
    torch.manual_seed(0)
    return build_model("gauss:num_frequencies=8+relu:width=16,depth=1", in_dim=2, out_dim=1)


def test_seconds_to_psnr_first_crossing_and_never():
    got = seconds_to_psnr([1.0, 2.0, 3.0, 4.0], [20.0, 25.5, 24.0, 31.0])
    assert got == {"25": 2.0, "30": 4.0}
    assert seconds_to_psnr([1.0, 2.0], [None, 26.0], levels=(25.0, 27.5)) == {
        "25": 2.0,
        "27.5": None,
    }
    with pytest.raises(ValueError, match="equal lengths"):
        seconds_to_psnr([1.0], [])


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("60", 60.0),
        ("60s", 60.0),
        ("2m", 120.0),
        ("1.5min", 90.0),
        ("1h", 3600.0),
        (45, 45.0),
        ("0", None),
        ("none", None),
        (None, None),
    ],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["soon", "-5s", "inf", "5x"])
def test_parse_duration_rejects(text):
    with pytest.raises(ValueError, match="time must be"):
        parse_duration(text)


def test_presets_known_and_unknown():
    assert get_preset("paper").model == "gauss" and get_preset("paper").steps == 2000
    assert get_preset("fast").bf16 == "auto" and get_preset("fast").patience is None
    with pytest.raises(ValueError, match="preset must be one of fast, paper"):
        get_preset("slow")
    assert set(PRESETS) == {"fast", "paper"}


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"time_limit": 0}, "time_limit"),
        ({"time_limit": math.inf}, "time_limit"),
        ({"patience": 0}, "patience"),
        ({"min_delta": -1}, "min_delta"),
        ({"bf16": "maybe"}, "bf16"),
    ],
)
def test_config_rejects(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**kwargs)


def test_stable_decay_is_constant_then_falls_linearly_over_the_last_fifth():
    trainer = Trainer(
        _model(), _samples(), TrainConfig(steps=11, schedule="stable-decay", final_lr_ratio=0.1)
    )
    factors = [trainer._lr_factor(step) for step in range(11)]
    assert factors[:9] == [1.0] * 9  # progress step / 10 up to 0.8
    assert factors[9] == pytest.approx(0.55) and factors[10] == pytest.approx(0.1)


def test_with_a_time_limit_schedules_follow_the_larger_of_step_and_time_progress(monkeypatch):
    config = TrainConfig(steps=1001, schedule="stable-decay", final_lr_ratio=0.1, time_limit=10.0)
    trainer = Trainer(_model(), _samples(), config)
    monkeypatch.setattr(trainer, "elapsed", lambda: 9.0)  # 90% of the time, 0.1% of the steps
    assert trainer._lr_factor(1) == pytest.approx(0.55)
    monkeypatch.setattr(trainer, "elapsed", lambda: 1.0)
    assert trainer._lr_factor(900) == pytest.approx(0.55)  # the steps are ahead of the time
    cosine = Trainer(
        _model(), _samples(), TrainConfig(steps=1000, schedule="cosine", time_limit=10.0)
    )
    monkeypatch.setattr(cosine, "elapsed", lambda: 5.0)
    assert cosine._lr_factor(0) == pytest.approx(0.1 + 0.9 * 0.5)


def test_a_fit_under_stable_decay_ends_at_the_final_learning_rate():
    trainer = Trainer(
        _model(),
        _samples(),
        TrainConfig(steps=20, lr=1e-2, schedule="stable-decay", final_lr_ratio=0.1, eval_every=20),
    )
    trainer.fit()
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(1e-3)


def test_time_limit_stops_with_a_final_evaluation():
    trainer = Trainer(
        _model(), _samples(), TrainConfig(steps=10_000, eval_every=1000, time_limit=1e-9)
    )
    result = trainer.fit()
    assert result.steps == 1 and result.stopped == "time_limit"
    assert trainer.history.steps == [1] and len(result.eval_seconds) == 1
    assert result.wall_seconds >= result.eval_seconds[0] > 0


def test_plateau_stops_after_patience_evaluations():
    # A learning rate this small cannot move the test PSNR by min_delta: the fit stops once the
    # `patience` evaluations after the first have not beaten it.
    trainer = Trainer(
        _model(),
        _samples(),
        TrainConfig(steps=100, lr=1e-12, eval_every=2, patience=3, min_delta=0.1),
    )
    result = trainer.fit()
    assert result.stopped == "plateau"
    assert trainer.history.steps == [2, 4, 6, 8]


def test_no_stop_runs_all_steps_and_eval_seconds_increase():
    trainer = Trainer(
        _model(), _samples(), TrainConfig(steps=12, lr=1e-2, eval_every=4, patience=50)
    )
    result = trainer.fit()
    assert result.stopped is None and result.steps == 12 and trainer.history.steps == [4, 8, 12]
    assert result.eval_seconds == sorted(result.eval_seconds) and len(result.eval_seconds) == 3


def test_eval_seconds_survive_resume():
    samples, config = _samples(), TrainConfig(steps=8, lr=1e-2, eval_every=4)
    first = Trainer(_model(), samples, config)
    first.config.steps = 4
    first.fit()
    state = first.state_dict()
    resumed = Trainer(_model(), samples, TrainConfig(steps=8, lr=1e-2, eval_every=4))
    resumed.load_state_dict(state)
    resumed.fit()
    assert len(resumed.eval_seconds) == 2 and resumed.eval_seconds[0] == state["eval_seconds"][0]
    assert resumed.wall_seconds > state["wall_seconds"]
    old = {
        k: v for k, v in state.items() if k not in ("wall_seconds", "eval_seconds")
    }  # older checkpoints
    resumed.load_state_dict(old)
    assert resumed.eval_seconds == [] and resumed.wall_seconds == state["seconds"]


def test_cpu_flags_and_bf16_support(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse avx512f avx512_bf16\n")
    flags = precision.cpu_flags(str(info))
    assert "avx512_bf16" in flags and "fpu" in flags
    assert precision.cpu_flags(str(tmp_path / "missing")) == frozenset()
    assert not precision.cpu_has_bf16(frozenset({"avx2"}))
    expected = torch.backends.cpu.get_cpu_capability().startswith("AVX512")
    assert precision.cpu_has_bf16(flags) == expected


def test_trainer_bf16_auto_resolves_to_a_bool():
    trainer = Trainer(_model(), _samples(), TrainConfig(steps=2, bf16="auto"))
    assert trainer.bf16 in (True, False)
    assert Trainer(_model(), _samples(), TrainConfig(steps=2, bf16=True)).bf16 is True


def test_cli_fit_default_preset_records_milestones(tmp_path):
    out = tmp_path / "fit"
    result = CliRunner().invoke(
        cli,
        [
            "fit",
            "camera",
            "--size",
            "16",
            "--steps",
            "30",
            "--quiet",
            "--no-bf16",
            "--out",
            str(out),
        ],
        prog_name="coordnet",
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["model"] == get_preset("fast").model
    assert metrics["config"]["train_config"]["lr"] == get_preset("fast").lr
    assert (
        metrics["config"]["train_config"]["schedule"]
        == "stable-decay"
        == get_preset("fast").schedule
    )
    assert metrics["config"]["train_config"]["time_limit"] is None
    assert metrics["bf16"] is False and metrics["decisions"]["precision"] == "float32"
    assert set(metrics["seconds_to_psnr"]) == {"train", "test"}
    assert set(metrics["seconds_to_psnr"]["train"]) == {"25", "30"}
    for where in ("train", "test"):
        expected = seconds_to_psnr(
            [0.0] * len(metrics["history"]["steps"]), metrics["history"][f"{where}_psnr"]
        )
        assert {k: v is None for k, v in metrics["seconds_to_psnr"][where].items()} == {
            k: v is None for k, v in expected.items()
        }


def test_cli_fit_paper_preset_and_time_flag(tmp_path):
    out = tmp_path / "paper"
    result = CliRunner().invoke(
        cli,
        [
            "fit",
            "camera",
            "--preset",
            "paper",
            "--size",
            "16",
            "--steps",
            "3",
            "--time",
            "2m",
            "--quiet",
            "--out",
            str(out),
        ],
        prog_name="coordnet",
    )
    assert result.exit_code == 0, result.output
    train_config = json.loads((out / "metrics.json").read_text())["config"]["train_config"]
    assert train_config["time_limit"] == 120.0 and train_config["patience"] is None
    assert (
        train_config["bf16"] is False
        and train_config["lr"] == 1e-3
        and train_config["eval_every"] == 3
    )
    assert train_config["schedule"] == "constant"
    bad = CliRunner().invoke(
        cli, ["fit", "camera", "--time", "soon", "--out", str(tmp_path / "x")], prog_name="coordnet"
    )
    assert bad.exit_code != 0 and "time must be" in bad.output
    assert not os.path.exists(tmp_path / "x" / "metrics.json")
