"""The `coordnet` command: fit, render, compare, doctor, and its one-line errors.

Mostly in-process through click's CliRunner; two real subprocesses check the exit status
and stderr of `python -m coordnet` itself.
"""

import csv
import json
import os
import re
import subprocess
import sys

import imageio.v3 as iio
import numpy as np
import pytest
import torch
from click.testing import CliRunner

import coordnet
from coordnet.cli.main import cli
from coordnet.runs import run as run_module
from coordnet.signals import SignalError

SPEC = "gauss:num_frequencies=16+relu:width=16,depth=1"
TINY = ["--size", "16", "-m", SPEC, "--steps", "20", "--eval-every", "10", "--quiet"]


pytestmark = pytest.mark.usefixtures("one_thread")


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], prog_name="coordnet")


def assert_one_line_error(result, *fragments, exit_code=1):
    """Non-zero exit, stderr is exactly one `error: ...` line naming the problem, no traceback."""
    assert result.exit_code == exit_code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)
    return lines[0]


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "fit"
    result = invoke("fit", "camera", *TINY, "--out", out)
    return out, result


def test_fit_writes_all_outputs(fitted):
    out, result = fitted
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    lines = result.stdout.strip().splitlines()
    assert lines[0] == f"model {SPEC}: 545 parameters"  # the resolved spec and its size
    line = lines[-1]
    assert line.startswith(f"{SPEC}: train ") and "dB, test " in line and "SSIM" in line
    assert re.search(rf"20 steps in [0-9.]+ s -> {re.escape(str(out))}$", line), line
    for name in ("checkpoint.pt", "metrics.json", "reconstruction.png", "error.png", "curves.png"):
        assert (out / name).stat().st_size > 0, name
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["steps"] == 20
    assert metrics["model"] == SPEC
    assert isinstance(metrics["test_psnr"], float)  # default split tancik holds out the odd pixels
    assert f"train {metrics['train_psnr']:.2f} dB, test {metrics['test_psnr']:.2f} dB" in line
    config = metrics["config"]
    assert config["train_config"]["lr"] == 1e-3  # default lr of a Fourier-feature model
    assert config["train_config"]["eval_every"] == 10
    assert config["signal"] == {
        "name": "camera",
        "kind": "image",
        "shape": [16, 16, 1],
        "split": "tancik",
        "source": "camera",  # what --resume loads again without a SIGNAL argument
        "size": 16,
    }
    assert metrics["history"]["steps"] == [10, 20]
    assert iio.imread(out / "reconstruction.png").shape[:2] == (16, 16)


def test_fit_refuses_to_overwrite_and_resume_checks_the_model(fitted):
    out, _ = fitted
    before = (out / "checkpoint.pt").read_bytes()
    assert_one_line_error(invoke("fit", "camera", *TINY, "--out", out), "exists", "--resume")
    other = [a if a != SPEC else "gauss:num_frequencies=8+relu:width=16,depth=1" for a in TINY]
    assert_one_line_error(
        invoke("fit", "camera", *other, "--out", out, "--resume"), "cannot resume", "model_spec"
    )
    assert (out / "checkpoint.pt").read_bytes() == before

    resumed = invoke(
        "fit", "camera", *TINY, "--out", out, "--resume"
    )  # finished: nothing left to train
    assert resumed.exit_code == 0, resumed.output
    assert "20 steps" in resumed.stdout


def test_fit_on_an_image_file_with_full_split(tmp_path):
    image = (np.indices((12, 10)).sum(axis=0) % 4 * 60).astype(np.uint8)
    iio.imwrite(tmp_path / "stripes.png", image)
    out = tmp_path / "out"
    result = invoke(
        "fit",
        tmp_path / "stripes.png",
        "-m",
        "relu:width=8,depth=1",
        "--steps",
        "5",
        "--split",
        "full",
        "--schedule",
        "cosine",
        "--batch-size",
        "16",
        "--quiet",
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    assert "test -" in result.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test_psnr"] is None
    assert metrics["config"]["train_config"]["lr"] == 1e-2  # raw coordinates: 1e-2 by default
    assert metrics["config"]["train_config"]["batch_size"] == 16
    assert metrics["config"]["train_config"]["eval_every"] == 5  # clipped to --steps
    assert metrics["config"]["signal"]["shape"] == [12, 10, 1]


@pytest.mark.parametrize(
    "args, fragments, exit_code",
    [
        (["fit", "{tmp}/missing.png"], ["not found", "missing.png"], 1),
        (["fit", "{tmp}/corrupt.png"], ["cannot read image", "corrupt.png"], 1),
        (["fit", "camera", "-m", "gauss:sigma=abc"], ["model spec", "'sigma'", "'abc'"], 1),
        (["fit", "camera", "-m", "nosuchnet"], ["unknown encoder or net 'nosuchnet'"], 1),
        (["fit", "camera", "--split", "bad"], ["unknown split 'bad'", "tancik"], 1),
        (["fit", "camera", "--split", "holdout:2"], ["hold-out fraction"], 1),
        (["fit", "camera", "--bogus"], ["No such option '--bogus'", "coordnet fit --help"], 2),
        (["fit", "camera", "--steps", "0"], ["'--steps'", "0"], 2),
        (["fit", "camera", "--schedule", "linear"], ["'--schedule'", "'linear'"], 2),
        (["fit", "camera", "--device", "banana"], ["'--device'", "'banana' is not a device"], 2),
        (["compare", "camera", "--device", "tpu"], ["'--device'", "'tpu' is not a device"], 2),
        (
            ["fit", "camera", "--device", "meta"],
            ["'--device'", "'meta': coordnet runs on cpu or cuda"],
            2,
        ),
        (["fit", "camera", "--device", "cuda"], ["'--device'", "CUDA"], 2),
        (["nosuchcommand"], ["No such command 'nosuchcommand'"], 2),
        (
            ["render", "{tmp}/missing.pt", "--out", "{tmp}/x.png"],
            ["checkpoint", "missing.pt", "does not exist"],
            1,
        ),
        (
            ["render", "{tmp}/corrupt.png", "--out", "{tmp}/x.png"],
            ["corrupt.png", "unreadable or corrupt"],
            1,
        ),
        (["render", "{tmp}/x.pt"], ["Missing option '--out'"], 2),
        (["compare", "camera", "-m", "none", "-m", "relu"], ["listed twice"], 1),
        (["compare", "camera", "-m", "gauss:sigma=abc"], ["'sigma'"], 1),
    ],
)
def test_errors_are_one_line(tmp_path, args, fragments, exit_code):
    if "--device" in args and "CUDA" in fragments[-1] and torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    (tmp_path / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n this is not really a png")
    args = [a.format(tmp=tmp_path) for a in args]
    if args[0] in (
        "fit",
        "compare",
    ):  # tiny in case the error is missed; the case's own flags come later and win
        args = [
            args[0],
            "--size",
            "16",
            "--steps",
            "2",
            "--quiet",
            "--out",
            str(tmp_path / "out"),
            *args[1:],
        ]
    assert_one_line_error(invoke(*args), *fragments, exit_code=exit_code)
    assert not (tmp_path / "out").exists() or not any(
        (tmp_path / "out").iterdir()
    )  # nothing written
    assert not (tmp_path / "x.png").exists()


def test_debug_raises_the_original_error(tmp_path):
    result = invoke("fit", tmp_path / "missing.png", "--debug", "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert isinstance(result.exception, SignalError)
    assert "missing.png" in str(result.exception)
    assert "error:" not in result.output


def test_diverging_fit_reports_the_step(tmp_path):
    result = invoke("fit", "camera", *TINY, "--lr", "1e30", "--out", tmp_path)
    line = assert_one_line_error(result, "loss became", "at step")
    assert "checkpoint" in line


def test_interrupt_exits_130(tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(run_module, "run_fit", interrupted)
    result = invoke("fit", "camera", "--size", "16", "--out", tmp_path)
    assert result.exit_code == 130
    assert "--resume" in result.stderr and "Traceback" not in result.output


def test_render_from_the_fit_checkpoint(fitted, tmp_path):
    out, _ = fitted
    png = tmp_path / "big.png"
    result = invoke(
        "render", out / "checkpoint.pt", "--size", "40x24", "--out", png, "--chunk", "7"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"rendered 40x24 -> {png}"
    assert iio.imread(png).shape[:2] == (24, 40)

    native = tmp_path / "native.png"
    assert invoke("render", out / "checkpoint.pt", "--out", native).exit_code == 0
    np.testing.assert_array_equal(iio.imread(native), iio.imread(out / "reconstruction.png"))

    bad = invoke("render", out / "checkpoint.pt", "--size", "40by24", "--out", tmp_path / "bad.png")
    assert_one_line_error(bad, "--size", "'40by24'")
    assert not (tmp_path / "bad.png").exists()


def test_loaded_model_matches_the_reconstruction(fitted):
    out, _ = fitted
    model = coordnet.load(str(out / "checkpoint.pt"))
    ys, xs = torch.meshgrid(torch.arange(16) / 16, torch.arange(16) / 16, indexing="ij")
    with torch.no_grad():
        prediction = model(torch.stack([ys, xs], dim=-1)).clamp(0, 1).numpy()
    reconstruction = iio.imread(out / "reconstruction.png")
    assert np.abs(np.round(prediction[..., 0] * 255) - reconstruction.astype(float)).max() <= 1


def test_compare_command(tmp_path):
    result = invoke(
        "compare",
        "camera",
        "--size",
        "16",
        "-m",
        SPEC,
        "-m",
        "relu:width=8,depth=1",
        "--steps",
        "5",
        "--seeds",
        "2",
        "--quiet",
        "--out",
        tmp_path,
    )
    assert result.exit_code == 0, result.output
    with open(tmp_path / "results.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["model"] for row in rows][:2] == [SPEC, "relu:width=8,depth=1"]  # then baselines
    assert {"train_psnr", "train_psnr_std", "test_psnr", "ssim", "steps", "params"} <= set(rows[0])
    assert "| model | train_psnr |" in result.stdout
    for name in ("results.md", "comparison.png", "curves.png"):
        assert (tmp_path / name).is_file()


def test_doctor():
    result = invoke("doctor")
    assert result.exit_code == 0, result.output
    assert "backend on cpu:" in result.stdout
    assert f"coordnet: {coordnet.__version__}" in result.stdout
    assert f"torch: {torch.__version__}" in result.stdout


def test_help_and_version():
    assert invoke("--version").stdout.strip().endswith(coordnet.__version__)
    result = invoke("fit", "--help")
    assert result.exit_code == 0 and "--resume" in result.stdout
    bare = invoke()  # no command: the help, not a one-line error
    assert "Commands:" in bare.output and "fit" in bare.output


def test_real_process_exit_status_and_stderr(tmp_path):
    """`python -m coordnet`: one-line error with status 1; with --debug the traceback."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    commands = {
        "plain": [
            sys.executable,
            "-m",
            "coordnet",
            "fit",
            str(tmp_path / "missing.png"),
            "--out",
            str(tmp_path / "o"),
        ],
        "debug": [
            sys.executable,
            "-m",
            "coordnet",
            "fit",
            str(tmp_path / "missing.png"),
            "--debug",
            "--out",
            str(tmp_path / "o"),
        ],
        "flag": [sys.executable, "-m", "coordnet", "fit", "--bogus"],
    }
    processes = {
        name: subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        for name, command in commands.items()
    }
    outputs = {
        name: (process.communicate(timeout=120), process.returncode)
        for name, process in processes.items()
    }

    (stdout, stderr), code = outputs["plain"]
    assert code == 1
    assert stdout == ""
    assert stderr.count("\n") == 1 and stderr.endswith("\n")
    assert stderr.startswith("error: ") and "missing.png" in stderr and "not found" in stderr

    (stdout, stderr), code = outputs["debug"]
    assert code == 1
    assert "Traceback (most recent call last)" in stderr
    assert "SignalError" in stderr and "missing.png" in stderr

    (stdout, stderr), code = outputs["flag"]
    assert code == 2
    assert stderr.count("\n") == 1 and stderr.startswith("error: No such option '--bogus'")


def test_tensorboard_without_the_package_is_a_clear_error(tmp_path):
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("tensorboard is installed")
    result = invoke(
        "fit", "--size", 16, "--steps", 2, "--quiet", "--tensorboard", "--out", tmp_path / "tb"
    )
    assert_one_line_error(result, "--tensorboard needs the tensorboard package")


def test_tensorboard_logs_scalars_and_reconstructions(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = tmp_path / "tb"
    result = invoke(
        "fit",
        "--size",
        16,
        "--steps",
        20,
        "--eval-every",
        10,
        "--quiet",
        "--tensorboard",
        "--out",
        out,
        "-m",
        "gauss:num_frequencies=16+relu:width=16,depth=1",
    )
    assert result.exit_code == 0, result.output
    events = EventAccumulator(str(out / "tensorboard"), size_guidance={"images": 0, "scalars": 0})
    events.Reload()
    tags = events.Tags()
    assert {"loss", "lr", "train_psnr", "test_psnr"} <= set(tags["scalars"])
    assert [e.step for e in events.Scalars("train_psnr")] == [10, 20]
    assert "reconstruction" in tags["images"]
    assert len(events.Images("reconstruction")) == 2
