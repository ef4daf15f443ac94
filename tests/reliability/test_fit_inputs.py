"""Bounded inputs and one-line failures of fit, compare, render and doctor: memory estimates
before allocation, decompression bombs, specs that would overflow float32, odd errors."""

import os
import subprocess
import sys

import numpy as np
import pytest

from coordnet.memory_limit import MemoryLimitError, check_memory, format_bytes

from .cli_helpers import TINY, invoke, one_line_error


def test_check_budget_states_the_estimate_and_the_limit():
    check_memory("small", 10, limit=10)
    with pytest.raises(
        MemoryLimitError, match=r"big needs about 1\.0 GiB \(parts\), more than .*1\.0 MiB"
    ):
        check_memory("big", 2**30, "parts", limit=2**20)
    assert format_bytes(1536) == "1.5 KiB"


@pytest.mark.parametrize("command", ["fit", "compare"])
def test_absurd_size_is_refused_with_an_estimate_before_allocating(tmp_path, command):
    line = one_line_error(
        invoke(command, "camera", *TINY, "--size", "1000000", "--out", tmp_path / "o"),
        "1000000x1000000",
        "needs about",
        "TiB",
    )
    assert "--size" in line
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("command", ["fit", "compare"])
@pytest.mark.parametrize("volume", ["sphere", "gyroid"])
def test_absurd_volume_size_is_refused_with_an_estimate_before_allocating(
    tmp_path, command, volume
):
    line = one_line_error(
        invoke(command, volume, *TINY, "--size", "3000", "--out", tmp_path / "o"),
        f"the {volume} volume at 3000^3 samples (--size)",
        "needs about",
        "TiB",
    )
    assert "27,000,000,000 samples" in line
    assert not (tmp_path / "o").exists()


def test_volume_estimate_follows_the_environment_limit(tmp_path):
    limit = {"COORDNET_MAX_MEMORY": str(88 * 20**3 - 1)}
    one_line_error(
        invoke("fit", "torus", *TINY, "--size", "20", "--out", tmp_path / "o", env=limit),
        "the torus volume at 20^3 samples",
        "COORDNET_MAX_MEMORY",
    )


def test_the_limit_follows_the_environment(tmp_path):
    limit = {"COORDNET_MAX_MEMORY": str(2**20)}
    one_line_error(
        invoke("fit", "camera", *TINY, "--size", "300", "--out", tmp_path / "o", env=limit),
        "needs about",
        "COORDNET_MAX_MEMORY",
    )
    one_line_error(
        invoke(
            "fit",
            "camera",
            *TINY,
            "--size",
            "12",
            "-m",
            "relu:width=2000,depth=2",
            "--out",
            tmp_path / "o",
            env=limit,
        ),
        "relu:width=2000,depth=2",
        "parameters",
        "needs about",
    )
    assert not (tmp_path / "o").exists()


def test_render_size_is_checked_before_allocating(tmp_path):
    out = tmp_path / "fit"
    assert invoke("fit", "camera", *TINY, "--size", "12", "--out", out).exit_code == 0
    one_line_error(
        invoke(
            "render",
            out / "checkpoint.pt",
            "--size",
            "10000000x10000000",
            "--out",
            tmp_path / "x.png",
        ),
        "10000000x10000000",
        "needs about",
    )
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("in_dim, size", [(1, "99999999999"), (3, "100000")])
def test_regions_grid_is_checked_before_its_axes_are_allocated(tmp_path, in_dim, size):
    one_line_error(
        invoke(
            "regions",
            "--init",
            "relu:width=8,depth=1",
            "--in-dim",
            in_dim,
            "--size",
            size,
            "--out",
            tmp_path / "r",
        ),
        "needs about",
        "max_memory",
    )


@pytest.mark.parametrize(
    "spec, key",
    [
        ("gauss:sigma=1e38", "'sigma'"),
        ("gauss:sigma=1e40", "'sigma'"),
        ("pe:num_frequencies=200", "'num_frequencies'"),
        ("pe:max_log2_freq=500", "'max_log2_freq'"),
        ("triwave:num_frequencies=300", "'num_frequencies'"),
        ("hash:b=1e30", "'b'"),
        ("relu:width=99999999999999999999", "'width'"),
        ("relu:depth=100000", "'depth'"),
        ("relu:width=1000000", "parameters"),
    ],
)
def test_specs_that_overflow_are_refused_naming_the_key(tmp_path, spec, key):
    one_line_error(
        invoke(
            "fit",
            "camera",
            "--steps",
            "2",
            "--size",
            "12",
            "--quiet",
            "-m",
            spec,
            "--out",
            tmp_path / "o",
        ),
        key,
    )
    assert not (tmp_path / "o").exists()


def test_largest_accepted_values_train_finitely(tmp_path):
    for spec in ("gauss:sigma=1e34", "pe:num_frequencies=117"):
        result = invoke(
            "fit",
            "camera",
            "--steps",
            "2",
            "--size",
            "8",
            "--quiet",
            "-m",
            spec,
            "--out",
            tmp_path / spec,
        )
        assert result.exit_code == 0, result.output


def test_decompression_bomb_is_named(tmp_path, monkeypatch):
    from PIL import Image

    path = tmp_path / "bomb.png"
    Image.fromarray(np.zeros((40, 30), dtype=np.uint8)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    one_line_error(
        invoke("fit", path, *TINY, "--out", tmp_path / "o"),
        "decompression bomb",
        "bomb.png",
        "30x40",
    )


def test_unexpected_exceptions_are_one_line(tmp_path, monkeypatch):
    from coordnet.runs import run as run_module

    def broken(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(run_module, "run_fit", broken)
    one_line_error(
        invoke("fit", "camera", *TINY, "--size", "8", "--out", tmp_path / "o"),
        "ZeroDivisionError",
        "--debug",
    )

    def out_of_memory(*args, **kwargs):
        raise MemoryError()

    monkeypatch.setattr(run_module, "run_fit", out_of_memory)
    one_line_error(
        invoke("fit", "camera", *TINY, "--size", "8", "--out", tmp_path / "o"), "out of memory"
    )


def test_doctor_with_a_bad_backend_is_one_line_and_fails():
    env = {**os.environ, "COORDNET_BACKEND": "bogus"}
    result = subprocess.run(
        [sys.executable, "-m", "coordnet", "doctor"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "COORDNET_BACKEND" in lines[0] and "bogus" in lines[0], result.stderr


@pytest.mark.parametrize(
    "args", [("fit", "camera"), ("compare", "camera"), ("regions", "--init", "relu")]
)
def test_seeds_beyond_64_bits_name_the_option(tmp_path, args):
    result = invoke(*args, "--seed", "99999999999999999999", "--out", tmp_path / "o")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--seed" in lines[0] and "Traceback" not in result.output
