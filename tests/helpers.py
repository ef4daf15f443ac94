"""Helpers shared by the op and encoder tests (fixtures live in conftest.py)."""

import math

import pytest

import coordnet.ops as ops
from coordnet.ops.tolerances import phase_tolerance  # noqa: F401  (one definition, doctor's too)

TWO_PI = 2 * math.pi


requires_extension = pytest.mark.skipif(
    not ops.extension_available(),
    reason=f"compiled extension unavailable: {ops.extension_load_error}",
)
