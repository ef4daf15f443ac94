"""Resume that changes nothing it should not (issue: a patience-stopped fit killed after its last
checkpoint resumed to more steps than uninterrupted; each --resume of a finished fit trained more)."""

import json

import pytest
from click.testing import CliRunner

from coordnet.cli.main import cli
from coordnet.runs import run as run_module
from coordnet.runs.run import CHECKPOINT, run_fit
from coordnet.signals import load_signal
from coordnet.training import TrainConfig, load_checkpoint

SPEC = "gauss:num_frequencies=16+relu:width=16,depth=1"

pytestmark = pytest.mark.usefixtures("one_thread")


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], prog_name="coordnet")


def test_patience_stop_killed_after_its_last_checkpoint_resumes_to_the_same_fit(
    tmp_path, monkeypatch
):
    camera = load_signal("camera", size=16)
    config = TrainConfig(steps=200, lr=1e-9, eval_every=2, patience=1)
    kwargs = dict(split="tancik", progress=False, checkpoint_every=2, write_outputs=False)
    straight = run_fit(camera, SPEC, config, str(tmp_path / "straight"), **kwargs)
    assert straight.metrics["stopped"] == "plateau" and straight.metrics["steps"] < 200

    def killed(self, trainer, result):  # dies between the evaluation's checkpoint and the final one
        raise KeyboardInterrupt

    out = str(tmp_path / "killed")
    monkeypatch.setattr(run_module.CheckpointCallback, "on_end", killed)
    with pytest.raises(KeyboardInterrupt):
        run_fit(camera, SPEC, config, out, **kwargs)
    monkeypatch.undo()
    saved = load_checkpoint(f"{out}/{CHECKPOINT}")
    assert saved["stop"] is None and saved["trainer"]["step"] == straight.metrics["steps"]

    resumed = run_fit(camera, SPEC, config, out, resume=True, **kwargs)
    assert resumed.metrics["steps"] == straight.metrics["steps"]
    assert resumed.metrics["stopped"] == "plateau"
    assert resumed.history == straight.history
    assert resumed.metrics["test_psnr"] == straight.metrics["test_psnr"]
    assert "stopped early" in resumed.note


def test_repeated_resumes_of_a_time_limited_fit_train_nothing(tmp_path):
    out = tmp_path / "run"
    first = invoke(
        "fit",
        "camera",
        "--size",
        "16",
        "-m",
        SPEC,
        "--steps",
        "1000000",
        "--time",
        "0.5s",
        "--eval-every",
        "5",
        "--quiet",
        "--out",
        out,
    )
    assert first.exit_code == 0, first.output
    before = json.loads((out / "metrics.json").read_text())
    assert before["stopped"] == "time_limit"
    for _ in range(2):
        again = invoke("fit", "--resume", "--out", out, "--quiet")
        assert again.exit_code == 0, again.output
        assert "nothing was trained (pass a longer --time, or 0 for none" in again.stdout
        after = json.loads((out / "metrics.json").read_text())
        assert after["steps"] == before["steps"]
        assert after["history"] == before["history"]  # no extra row
