"""The GPU side of the benchmark scripts, as far as a machine without a GPU can check it."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def load(name):
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(
    torch.cuda.is_available(), reason="checks the answer of a machine without a GPU"
)
@pytest.mark.parametrize("script", ["bench_encoders", "bench_regions"])
def test_cuda_without_a_gpu_is_a_one_line_error(script):
    result = subprocess.run(
        [sys.executable, str(SCRIPTS / f"{script}.py"), "--device", "cuda"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"{script}.py: error: --device cuda but no CUDA device is available (torch.cuda.is_available() is False)"
    ]
    assert result.stdout == ""


def test_encoder_targets_are_judged_in_both_directions():
    bench = load("bench_encoders")
    row = {
        "reference_fwdbwd": 6.0,
        "compiled_fwdbwd": 1.2,
        "coordnet_fwdbwd": 1.0,
        "floor_mem_fwdbwd": 0.4,
    }
    lines = bench.check_targets("fourier", row)
    assert len(lines) == 3
    assert row["target reference_fwdbwd/coordnet_fwdbwd >= 5"] is True
    assert row["target compiled_fwdbwd/coordnet_fwdbwd >= 1.5"] is False
    assert row["target coordnet_fwdbwd/floor_mem_fwdbwd <= 2"] is False  # 2.5x the floor
    assert "NOT met" in lines[1] and "NOT met" in lines[2] and lines[0].endswith("met")
    assert (
        bench.check_targets("hashgrid", {"coordnet_fwdbwd": 1.0}) == []
    )  # nothing measured, nothing judged


def test_ratio_figure(tmp_path):
    plot = load("plot_gpu_bench")
    encoders = [
        {"n": 8, "reference_fwdbwd": 10.0, "coordnet_fwdbwd": 2.0, "floor_mem_fwdbwd": 0.5},
        {
            "section": "hashgrid",
            "n": 8,
            "param_dtype": "float16",
            "reference_fwdbwd": 30.0,
            "compiled_fwdbwd": 3.0,
            "coordnet_fwdbwd": 2.0,
        },
    ]
    regions = [{"section": "pattern_ops"}, {"width": 256, "coordnet_over_floor": 1.1}]
    items = plot.bars(encoders, regions)
    assert [(label, value, target, higher) for label, value, target, higher in items] == [
        ("fourier N=8 reference/coordnet", 5.0, 5.0, True),
        ("fourier N=8 coordnet/floor", 4.0, 2.0, False),
        ("hash float16 N=8 reference/coordnet", 15.0, 10.0, True),
        ("hash float16 N=8 compiled/coordnet", 1.5, 3.0, True),
        ("regions w=256 coordnet/forward", 1.1, 1.3, False),
    ]
    out = tmp_path / "ratios.png"
    plot.draw(items, str(out), "test")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
