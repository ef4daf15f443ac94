"""`coordnet doctor --verify`: every compiled op against its reference, one line per op and device,
non-zero exit on a mismatch; and `make gpu-check` runs it before the tests and benchmarks."""

import importlib
import re
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from helpers import requires_extension

from coordnet.cli.main import cli
from coordnet.ops import _extension, verify

ROOT = Path(__file__).resolve().parents[2]
LINE = re.compile(r"^verify (\S+(?: \S+)?)\s+(cpu|cuda:\d+)\s+(ok|MISMATCH|not built|ERROR)")


def doctor_verify():
    return CliRunner().invoke(cli, ["doctor", "--verify"], prog_name="coordnet")


def verify_lines(output):
    return [LINE.match(line) for line in output.splitlines() if line.startswith("verify ")]


@requires_extension
def test_every_op_is_ok_on_the_cpu():
    result = doctor_verify()
    assert result.exit_code == 0, result.output
    lines = verify_lines(result.stdout)
    assert all(lines), result.stdout
    assert [(m.group(1), m.group(2), m.group(3)) for m in lines] == [
        (op, "cpu", "ok") for op in verify.OPS
    ]
    assert set(verify.OPS) == {
        "fourier_features",
        "hashgrid[float32]",
        "hashgrid[float16]",
        "region counting",
    }


def _off_by(name, delta):
    """A kernel lookup whose ``name`` kernel returns results off by ``delta`` (every output)."""
    real = verify._kernel

    def lookup(kernel_name):
        kernel = real(kernel_name)
        if kernel_name != name:
            return kernel

        def wrong(*args):
            out = kernel(*args)
            if isinstance(out, tuple):
                return tuple(o + delta for o in out)
            return out + delta

        return wrong

    return lookup


@requires_extension
@pytest.mark.parametrize(
    "kernel,ops",
    [
        ("fourier_features", {"fourier_features"}),
        ("fourier_features_backward", {"fourier_features"}),
        ("hashgrid_forward", {"hashgrid[float32]", "hashgrid[float16]"}),
        ("hashgrid_backward", {"hashgrid[float32]", "hashgrid[float16]"}),
        ("hash_patterns", {"region counting"}),
    ],
)
def test_a_wrong_kernel_result_is_a_mismatch_and_a_failure(monkeypatch, kernel, ops):
    delta = 1 if kernel == "hash_patterns" else 1e-3
    if kernel == "hashgrid_backward":
        delta = 0.05  # the float16 table gradient is compared relative to its size
    monkeypatch.setattr(verify, "_kernel", _off_by(kernel, delta))
    result = doctor_verify()
    assert result.exit_code == 1, result.output
    bad = [line for line in result.stdout.splitlines() if "MISMATCH" in line]
    assert {LINE.match(line).group(1) for line in bad} == ops
    assert all(re.search(r"MISMATCH max err \S+ > tolerance", line) for line in bad)
    others = [m for m in verify_lines(result.stdout) if m.group(1) not in ops]
    assert {m.group(3) for m in others} == {"ok"}
    assert result.stderr.startswith("error: verify ") and "MISMATCH" in result.stderr


@requires_extension
def test_a_nan_result_or_a_kernel_that_raises_fails(monkeypatch):
    monkeypatch.setattr(verify, "_kernel", _off_by("hashgrid_forward", float("nan")))
    check = verify.check_op("hashgrid[float16]", "cpu")
    assert check.status == "mismatch" and check.failed

    def raising(name):
        def kernel(*args):
            raise RuntimeError("hashgrid: boom\nsecond line")

        return kernel

    monkeypatch.setattr(verify, "_kernel", raising)
    check = verify.check_op("hashgrid[float32]", "cpu")
    assert check.failed and check.line().endswith("ERROR RuntimeError: hashgrid: boom")


def test_without_the_extension_every_op_is_not_built_and_the_exit_is_0(monkeypatch):
    monkeypatch.setattr(_extension, "available", lambda: False)
    monkeypatch.setattr(_extension, "load_error", "ImportError: no _C")
    result = doctor_verify()
    assert result.exit_code == 0, result.output
    lines = verify_lines(result.stdout)
    assert [m.group(3) for m in lines] == ["not built"] * len(verify.OPS)


def test_cuda_devices_are_listed_and_cuda_without_kernels_is_not_built(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert verify.available_devices() == ["cpu", "cuda:0", "cuda:1"]
    monkeypatch.setattr(_extension, "available", lambda: True)
    monkeypatch.setattr(_extension, "has_cuda_kernels", lambda: False)
    check = verify.check_op("fourier_features", "cuda:1")
    assert check.status == "not built" and not check.failed
    assert "without its CUDA kernels" in check.line()


def test_gpu_check_runs_the_verification_before_tests_and_benchmarks():
    script = (ROOT / "scripts" / "gpu_check.sh").read_text()
    gpu_part = script[script.index('if [[ "$MODE" == check ]]; then\n  ARCH') :]
    verify_at = gpu_part.index("coordnet doctor --verify")
    assert verify_at < gpu_part.index("part tests") < gpu_part.index("part bench-encoders")
    for path in re.findall(r"tests/\S+\.py", script):
        assert (ROOT / path).is_file(), f"gpu_check.sh names a missing test file {path}"


def test_the_unverified_cuda_warning_lasts_while_the_docs_record_no_gpu_run():
    backend_module = importlib.import_module("coordnet.ops.backend")
    page = ROOT / "docs" / "gpu.md"
    text = page.read_text() if page.is_file() else (ROOT / "README.md").read_text()
    recorded = "No GPU run has been recorded yet" not in text
    assert backend_module.CUDA_KERNELS_VERIFIED == recorded
    assert "coordnet doctor --verify" in text  # GPU users are told to verify their install
