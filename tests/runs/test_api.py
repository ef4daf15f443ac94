"""coordnet.fit / coordnet.compare: the CLI's numbers from Python, no files without ``out``,
resume that extends and resume that changes nothing, bare family names, aspect-preserving sizes."""

import inspect
import json
import os

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import coordnet
from coordnet import regions
from coordnet.cli.main import cli
from coordnet.runs.api import parse_size, resolve_model
from coordnet.runs.presets import get_preset
from coordnet.runs.run import CHECKPOINT, Trainer, plan_run, restore, run_fit
from coordnet.signals import image_signal, load_signal
from coordnet.training import CheckpointError, TrainConfig, load_checkpoint
from coordnet.training.callbacks import ProgressBar

SPEC = "gauss:num_frequencies=16+relu:width=16,depth=1"
SMALL = dict(size=16, eval_every=10, progress=False)

pytestmark = pytest.mark.usefixtures("one_thread")


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], prog_name="coordnet")


def test_fit_from_python_prints_the_number_of_the_cli(tmp_path):
    """The preset's own model (no -m), its tuned lr, bf16 rule and schedule, on both sides."""
    result = invoke("fit", "camera", "--size", "8", "--steps", "3", "--quiet", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    python = coordnet.fit("camera", size=8, steps=3, progress=False)
    cli_metrics = load_checkpoint(str(tmp_path / CHECKPOINT))  # the CLI's run, as stored
    assert python.metrics["config"]["train_config"] == cli_metrics["train_config"]
    assert python.metrics["config"]["train_config"]["lr"] == get_preset("fast").lr
    printed = result.stdout.strip().splitlines()[-1]
    assert f"test {python.metrics['test_psnr']:.2f} dB" in printed
    stored = json.loads((tmp_path / "metrics.json").read_text())
    assert stored["test_psnr"] == python.metrics["test_psnr"]
    assert stored["history"] == python.history


def test_fit_without_out_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = coordnet.fit("camera", SPEC, steps=10, **SMALL)
    assert os.listdir(tmp_path) == []
    assert result.out is None and result.note is None
    assert result.model(torch.rand(5, 2)).shape == (5, 1)
    assert result.reconstruct().shape == (16, 16, 1)
    assert result.reconstruct(32).shape == (32, 32, 1)
    assert result.history["steps"] == [10]
    compared = coordnet.compare("camera", [SPEC, "siren:width=8,depth=1"], steps=5, **SMALL)
    assert os.listdir(tmp_path) == []
    assert [row["model"] for row in compared.rows][:2] == [SPEC, "siren:width=8,depth=1"]
    assert compared.table.startswith("| model |")


def test_fit_result_saves_a_model_that_load_reads(tmp_path):
    result = coordnet.fit("camera", SPEC, steps=10, **SMALL)
    path = result.save(tmp_path / "model.pt")
    x = torch.rand(7, 2)
    torch.testing.assert_close(coordnet.load(path)(x), result.model(x))
    assert type(result.plot()).__name__ == "Figure"


def test_resume_extends_to_the_fresh_fit_of_the_new_length(tmp_path):
    """Constant schedule: N steps then --steps 2N equals 2N steps at once, bit for bit."""
    options = dict(SMALL, schedule="constant", split="holdout:0.2", batch_size=40)
    out = tmp_path / "run"
    coordnet.fit("camera", SPEC, steps=20, out=out, **options)
    extended = coordnet.fit(out=out, resume=True, steps=40, progress=False)  # nothing else given
    fresh = coordnet.fit("camera", SPEC, steps=40, **options)
    assert extended.note is None and extended.metrics["steps"] == 40
    assert extended.history == fresh.history
    assert extended.metrics["test_psnr"] == fresh.metrics["test_psnr"]
    for name, tensor in fresh.model.state_dict().items():
        assert torch.equal(extended.model.state_dict()[name], tensor), name


def test_extension_follows_the_schedule_of_the_new_length(tmp_path):
    """stable-decay over 20 steps ends at lr * 0.1; extended to 40 it is back at the full rate
    at step 20 (20 < 0.8 * 40): the documented difference from a fresh 40-step fit."""
    camera = load_signal("camera", size=16)
    short = TrainConfig(steps=20, lr=1e-2, schedule="stable-decay", eval_every=10)
    out = str(tmp_path / "run")
    run_fit(camera, SPEC, short, out, progress=False, write_outputs=False)
    path = os.path.join(out, CHECKPOINT)
    stored = load_checkpoint(path)["trainer"]["optimizer"]["param_groups"][0]["lr"]
    assert stored == pytest.approx(1e-3)
    longer = TrainConfig(steps=40, lr=1e-2, schedule="stable-decay", eval_every=10)
    plan = plan_run(camera, SPEC, longer)
    trainer = Trainer(plan.model, plan.samples, longer)
    assert restore(trainer, plan, path, {"probes": "probes", "steps": "steps"}) is None
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(1e-2)


def test_resuming_a_finished_fit_changes_nothing_and_says_so(tmp_path):
    out = tmp_path / "run"
    first = coordnet.fit("camera", SPEC, steps=20, out=out, **SMALL)
    before = (out / CHECKPOINT).read_bytes()
    again = coordnet.fit(out=out, resume=True, progress=False)
    assert (out / CHECKPOINT).read_bytes() == before
    assert again.metrics["steps"] == 20 and again.history == first.history
    assert again.metrics["test_psnr"] == first.metrics["test_psnr"]
    assert again.note.endswith(
        "is finished: it trained all its steps at step 20; nothing was trained "
        "(pass steps larger than 20 to extend it)"
    )
    assert load_checkpoint(str(out / CHECKPOINT))["stop"] == {"reason": "steps", "step": 20}


def test_an_early_stopped_fit_resumed_trains_nothing(tmp_path):
    """Patience-stopped (a learning rate too small to gain 0.01 dB): the stop is stored, a
    resume with the same settings trains no step and adds no history row."""
    options = dict(SMALL, lr=1e-9, patience=1, eval_every=2)
    out = tmp_path / "run"
    first = coordnet.fit("camera", SPEC, steps=200, out=out, **options)
    assert first.metrics["stopped"] == "plateau" and first.metrics["steps"] < 200
    again = coordnet.fit(out=out, resume=True, progress=False)
    assert again.metrics["steps"] == first.metrics["steps"]
    assert again.history == first.history
    assert "stopped early (the validation PSNR stopped improving)" in again.note
    assert again.note.endswith(
        "(pass steps other than its 200 to train further; its patience still applies)"
    )
    stop = load_checkpoint(str(out / CHECKPOINT))["stop"]
    assert stop == {"reason": "plateau", "step": first.metrics["steps"]}


def test_a_fit_stopped_by_its_time_limit_resumed_trains_nothing(tmp_path):
    out = tmp_path / "run"
    first = coordnet.fit("camera", SPEC, steps=10**6, time_limit=0.3, out=out, **SMALL)
    assert first.metrics["stopped"] == "time_limit"
    again = coordnet.fit(out=out, resume=True, progress=False)
    assert again.metrics["steps"] == first.metrics["steps"]
    assert again.history == first.history
    assert "stopped at its time limit" in again.note
    assert again.note.endswith("(pass a longer time_limit, or 0 for none, to train further)")


def test_cli_resume_needs_only_out_and_names_what_differs(tmp_path):
    out = tmp_path / "run"
    made = invoke(
        "fit", "camera", "--size", "16", "-m", SPEC, "--steps", "10", "--quiet", "--out", out
    )
    assert made.exit_code == 0, made.output
    extended = invoke("fit", "--resume", "--out", out, "--steps", "20", "--quiet")
    assert extended.exit_code == 0, extended.output
    assert ", 20 steps in " in extended.stdout
    assert load_checkpoint(str(out / CHECKPOINT))["signal"]["shape"] == [16, 16, 1]
    finished = invoke("fit", "--resume", "--out", out, "--quiet")
    assert finished.exit_code == 0, finished.output
    assert "nothing was trained (pass --steps larger than 20 to extend it)" in finished.stdout
    differs = invoke("fit", "--resume", "--out", out, "--lr", "0.5", "--quiet")
    assert differs.exit_code == 1
    assert differs.stderr.strip().endswith(
        "this run differs in train_config.lr (checkpoint 0.001, this run 0.5)"
    )
    fewer = invoke("fit", "--resume", "--out", out, "--steps", "5", "--quiet")
    assert "--steps 5 is fewer than the 20 steps it has trained" in fewer.stderr


def test_resuming_a_fit_of_an_array_needs_the_array_again(tmp_path):
    image = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)
    out = tmp_path / "run"
    coordnet.fit(image, SPEC, steps=4, out=out, progress=False, eval_every=2)
    with pytest.raises(ValueError, match=r"given as an array or Signal: pass it again \(signal\)"):
        coordnet.fit(out=out, resume=True, steps=8, progress=False)
    extended = coordnet.fit(image, out=out, resume=True, steps=8, progress=False)
    assert extended.metrics["steps"] == 8
    with pytest.raises(ValueError, match="resume=True needs out"):
        coordnet.fit(image, resume=True)


def test_bare_family_names_use_the_presets_tuned_models(tmp_path):
    out = tmp_path / "run"
    fast = get_preset("fast")
    tuned_hash = next(m for m in fast.compare_models if m.startswith("hash"))
    assert resolve_model("hash", fast)[0].label == resolve_model(tuned_hash, fast)[0].label
    assert resolve_model("none", fast) == (resolve_model("relu:width=128,depth=2", fast)[0], False)
    assert resolve_model("gauss", fast) == (resolve_model(fast.model, fast)[0], True)  # its lr
    assert resolve_model("gauss", fast, for_compare=True)[0].label.startswith(
        "gauss:num_frequencies=128"
    )
    assert resolve_model("finer", fast)[0].label == "finer"  # no tuned model: the defaults
    assert resolve_model("pe", get_preset("paper"))[0].label == "pe"
    with pytest.raises(ValueError, match="^model must be a model spec, got an empty string$"):
        resolve_model(" ", fast)
    result = invoke(
        "fit", "camera", "-m", "none", "--size", "8", "--steps", "1", "--quiet", "--out", out
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("model relu:width=128,depth=2: 17,025 parameters\n")


def test_size_keeps_the_aspect_ratio_and_takes_width_x_height(tmp_path):
    photo = np.zeros((300, 451), dtype=np.float32)
    assert image_signal(photo, size=256).grid_shape == (170, 256)
    assert image_signal(photo, size=(20, 30)).grid_shape == (20, 30)
    assert parse_size("320x240") == (240, 320) and parse_size("64") == 64
    with pytest.raises(ValueError, match=r"^size must be N \(the longest side"):
        parse_size("wide")
    result = invoke(
        "fit",
        "camera",
        "--size",
        "8x4",
        "-m",
        SPEC,
        "--steps",
        "2",
        "--quiet",
        "--out",
        tmp_path / "r",
    )
    assert result.exit_code == 0, result.output
    assert load_checkpoint(str(tmp_path / "r" / CHECKPOINT))["signal"]["shape"] == [4, 8, 1]
    bad = invoke("fit", "camera", "--size", "8y4", "--quiet", "--out", tmp_path / "s")
    assert "error: --size must be N (the longest side" in bad.stderr
    assert not (tmp_path / "s").exists()


@pytest.mark.filterwarnings("ignore:.*regions among")  # an 8x8 grid: too coarse, on purpose
def test_every_probe_takes_grid_shaped_coordinates():
    signal = load_signal("camera", size=8)
    plan = plan_run(signal, SPEC, TrainConfig(steps=1))
    grid = signal.coordinates()  # (8, 8, 2), as SpectrumProbe takes them
    shaped = regions.RegionCountCallback(grid, every=1)
    flat = regions.RegionCountCallback(grid.reshape(-1, 2), every=1)
    trainer = Trainer(plan.model, plan.samples, plan.config)
    assert shaped.count(trainer) == flat.count(trainer)
    with pytest.raises(ValueError, match=r"shape \(\*grid, d\)"):
        regions.RegionCountCallback(torch.rand(5), every=1)


def test_run_fit_signature_is_its_own():
    parameters = inspect.signature(run_fit).parameters
    assert "locks" not in parameters and list(parameters)[:4] == [
        "signal",
        "spec",
        "config",
        "out_dir",
    ]
    assert "Without ``out_dir`` nothing is written" in run_fit.__doc__


class _Clock:
    def __init__(self, steps, limit, elapsed):
        self.config = TrainConfig(steps=steps, time_limit=limit)
        self.now = elapsed

    def elapsed(self):
        return self.now


def test_progress_bar_estimates_against_the_binding_limit():
    bar = ProgressBar(enabled=False)
    trainer = _Clock(steps=1000, limit=10.0, elapsed=0.0)
    bar.first_step, bar.first_elapsed = 0, 0.0
    trainer.now = 2.0  # 50 steps in 2 s: 8 s left allow 200 more
    assert bar.expected_steps(trainer, 50) == 250
    trainer.now = 0.1  # fast: the step count binds
    assert bar.expected_steps(trainer, 50) == 1000
    assert bar.expected_steps(_Clock(1000, None, 5.0), 50) == 1000


def test_duration_errors_name_the_argument_or_the_flag(tmp_path):
    with pytest.raises(ValueError, match="^time_limit must be a duration such as 60s"):
        coordnet.fit("camera", SPEC, time_limit="soon", **SMALL)
    result = invoke("fit", "camera", "--time", "soon", "--quiet", "--out", tmp_path / "o")
    assert result.stderr.startswith("error: --time must be a duration such as 60s")
    assert not (tmp_path / "o").exists()


def test_a_malformed_stop_record_is_a_checkpoint_error(tmp_path):
    from coordnet.training.checkpoint import save_checkpoint

    out = tmp_path / "run"
    coordnet.fit("camera", SPEC, steps=2, eval_every=2, size=8, progress=False, out=out)
    document = load_checkpoint(str(out / CHECKPOINT))
    document.pop("sha256")
    save_checkpoint(str(out / CHECKPOINT), {**document, "stop": {"reason": "bored", "step": 2}})
    with pytest.raises(CheckpointError, match="entry 'stop' must be null or"):
        coordnet.fit(out=out, resume=True, progress=False)
