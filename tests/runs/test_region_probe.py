"""`coordnet fit --probe regions`: region counts over training, written and resumable."""

import json

import imageio.v3 as iio
import pytest
import torch
from click.testing import CliRunner

import coordnet
import coordnet.regions as regions
from coordnet.cli.main import cli
from coordnet.signals import load_signal
from coordnet.training import TrainConfig

SPEC = "relu:width=16,depth=2"


pytestmark = pytest.mark.usefixtures("one_thread")


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], prog_name="coordnet")


def test_fit_with_the_region_probe_writes_counts_that_match_the_saved_model(tmp_path):
    out = tmp_path / "fit"
    result = invoke(
        "fit",
        "camera",
        "--size",
        24,
        "-m",
        SPEC,
        "--steps",
        12,
        "--eval-every",
        6,
        "--quiet",
        "--probe",
        "regions",
        "--probe-every",
        4,
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    record = json.loads((out / "region_counts.json").read_text())
    assert (
        record["steps"] == [0, 4, 8, 12]
        and record["grid_shape"] == [24, 24]
        and record["every"] == 4
    )
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["regions"] == record["counts"][-1]
    model = coordnet.load(str(out / "checkpoint.pt"))
    signal = load_signal("camera", size=24)
    assert regions.count_regions(model, signal.coordinates().reshape(-1, 2)) == record["counts"][-1]
    region_map = iio.imread(out / "region_map.png")
    assert region_map.shape[0] > 24 and region_map.shape[1] > 24  # the 24x24 map on axes
    assert (out / "region_counts.png").stat().st_size > 0
    assert f"activation regions {record['counts'][-1]}" in result.stdout


def test_region_probe_refuses_a_model_without_relu_structure_before_writing(tmp_path):
    out = tmp_path / "fit"
    result = invoke(
        "fit",
        "camera",
        "--size",
        16,
        "-m",
        "siren:width=8",
        "--steps",
        2,
        "--quiet",
        "--probe",
        "regions",
        "--out",
        out,
    )
    assert result.exit_code == 1
    assert "is not nn.ReLU" in result.stderr and "Traceback" not in result.output
    assert not out.exists()


def test_interrupted_fit_resumes_with_its_region_counts(tmp_path, monkeypatch):
    from coordnet.runs import run as run_module
    from coordnet.training.callbacks import ProgressBar
    from coordnet.training.checkpoint import CheckpointError

    camera = load_signal("camera", size=16)
    config = TrainConfig(steps=12, lr=1e-2, seed=1, eval_every=6)
    kwargs = dict(
        split="tancik", progress=False, checkpoint_every=6, probes=("regions",), probe_every=3
    )
    run_module.run_fit(camera, SPEC, config, str(tmp_path / "straight"), **kwargs)

    class InterruptedBar(ProgressBar):
        def on_step(self, trainer, step, loss):
            if step == 8:  # after the checkpoint of step 6
                raise KeyboardInterrupt
            super().on_step(trainer, step, loss)

    out = tmp_path / "resumed"
    monkeypatch.setattr(run_module, "ProgressBar", InterruptedBar)
    with pytest.raises(KeyboardInterrupt):
        run_module.run_fit(camera, SPEC, config, str(out), **kwargs)
    monkeypatch.undo()
    run_module.run_fit(camera, SPEC, config, str(out), resume=True, **kwargs)
    expected = json.loads((tmp_path / "straight" / "region_counts.json").read_text())
    resumed = json.loads((out / "region_counts.json").read_text())
    assert resumed["steps"] == expected["steps"] == [0, 3, 6, 9, 12]
    assert resumed["counts"] == expected["counts"]

    run_module.run_fit(
        camera,
        SPEC,
        config,
        str(tmp_path / "plain"),
        split="tancik",
        progress=False,
        checkpoint_every=6,
    )
    with pytest.raises(CheckpointError, match="written without the probe"):
        run_module.run_fit(camera, SPEC, config, str(tmp_path / "plain"), resume=True, **kwargs)


def test_region_counts_and_the_regions_command_share_a_folder_without_overwriting(tmp_path):
    out = tmp_path / "fit"
    assert (
        invoke(
            "fit",
            "camera",
            "--size",
            16,
            "-m",
            SPEC,
            "--steps",
            4,
            "--quiet",
            "--probe",
            "regions",
            "--probe-every",
            2,
            "--out",
            out,
        ).exit_code
        == 0
    )
    counts_before = (out / "region_counts.json").read_text()
    result = invoke("regions", out / "checkpoint.pt")
    assert result.exit_code == 0, result.output
    assert (out / "regions.json").exists() and (
        out / "region_counts.json"
    ).read_text() == counts_before


def test_region_callback_state_round_trips_and_checks_its_interval():
    callback = regions.RegionCountCallback(torch.rand(5, 2), every=3)
    callback.steps, callback.counts = [0, 3], [4, 5]
    restored = regions.RegionCountCallback(torch.rand(5, 2), every=3)
    restored.load_state_dict(callback.state_dict())
    assert restored.to_dict() == {"steps": [0, 3], "counts": [4, 5]}
    with pytest.raises(ValueError, match="every 3 steps, not every 4"):
        regions.RegionCountCallback(torch.rand(5, 2), every=4).load_state_dict(
            callback.state_dict()
        )
    with pytest.raises(ValueError, match="2 steps but 1 counts"):
        restored.load_state_dict({"every": 3, "steps": [0, 3], "counts": [4]})
