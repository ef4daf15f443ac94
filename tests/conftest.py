import math

import pytest
import torch

import coordnet.ops as ops
import coordnet.ops.fourier as fourier_op


def phase_tolerance(max_abs_phase: float, dtype: torch.dtype) -> float:
    """|Δ| allowed between two float implementations of sin/cos of phases up to max_abs_phase:
    eight roundings of the largest argument, plus a few ulps of the unit-size results."""
    eps = torch.finfo(dtype).eps
    return 8 * eps * max(max_abs_phase, 1.0) + 4 * eps


requires_extension = pytest.mark.skipif(
    not ops.extension_available(), reason=f"compiled extension unavailable: {ops.extension_load_error}"
)


@pytest.fixture
def compiled_path(monkeypatch):
    """Route every problem size through the compiled kernel (no small-problem shortcut)."""
    if not ops.extension_available():
        pytest.skip(f"compiled extension unavailable: {ops.extension_load_error}")
    monkeypatch.setattr(fourier_op, "SMALL_PROBLEM_PAIRS", 0)
    previous = ops.get_backend_mode()
    ops.set_backend("compiled")
    yield
    ops.set_backend(previous)


@pytest.fixture
def reference_path():
    previous = ops.get_backend_mode()
    ops.set_backend("reference")
    yield
    ops.set_backend(previous)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


TWO_PI = 2 * math.pi
