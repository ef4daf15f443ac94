"""Helpers shared by the op and encoder tests (fixtures live in conftest.py)."""

import math

import pytest
import torch

import coordnet.ops as ops

TWO_PI = 2 * math.pi


def phase_tolerance(max_abs_phase: float, dtype: torch.dtype) -> float:
    """|Δ| allowed between two float implementations of sin/cos of phases up to max_abs_phase:
    eight roundings of the largest argument, plus a few ulps of the unit-size results."""
    eps = torch.finfo(dtype).eps
    return 8 * eps * max(max_abs_phase, 1.0) + 4 * eps


requires_extension = pytest.mark.skipif(
    not ops.extension_available(),
    reason=f"compiled extension unavailable: {ops.extension_load_error}",
)
