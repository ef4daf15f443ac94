"""How far a compiled kernel may be from its pure-PyTorch reference: one definition, used by the
op tests and by ``coordnet doctor --verify`` (:mod:`coordnet.ops.verify`).

Every bound is an absolute error (``torch.testing.assert_close(..., rtol=0, atol=...)`` unless a
relative part is named), derived from the roundings the two float implementations may differ by.
"""

from __future__ import annotations

import math
from typing import Optional, Tuple

import torch
from torch import Tensor

#: Gradients of the hash grid in float64 (``rtol`` and ``atol``: both sides sum the same terms).
HASHGRID_FLOAT64_GRAD = 1e-10
#: Gradients of the hash grid in float32: ``rtol``, and ``atol`` relative to the largest entry.
HASHGRID_FLOAT32_GRAD = 1e-4
#: Table gradients of float16 tables, compared after rounding both to float16: ``(rtol, atol)``.
HASHGRID_HALF_TABLE_GRAD = (2e-3, 1e-3)


def phase_tolerance(max_abs_phase: float, dtype: torch.dtype) -> float:
    """|Δ| allowed between two float implementations of sin/cos of phases up to max_abs_phase:
    eight roundings of the largest argument, plus a few ulps of the unit-size results."""
    eps = torch.finfo(dtype).eps
    return 8 * eps * max(max_abs_phase, 1.0) + 4 * eps


def max_phase(x: Tensor, B: Tensor, factor: float = 2 * math.pi) -> float:
    """Largest ``|factor · x Bᵀ|`` (radians) of ``x (N, d)`` against ``B (M, d)``, in float64."""
    if x.numel() == 0 or B.numel() == 0:
        return 0.0
    return float((x.double() @ B.double().T).abs().max() * abs(factor))


def fourier_gradient_tolerance(
    grad_out: Tensor,
    x: Tensor,
    B: Tensor,
    dtype: torch.dtype,
    factor: float = 2 * math.pi,
    features_at: int = 0,
) -> Tuple[float, float]:
    """``(atol of grad_x, atol of grad_B)`` of the Fourier backward for ``grad_out (N, 2M [+ d])``
    whose features start at column ``features_at``: each entry is a sum of terms whose phases are
    rounded by about ``eps · max_phase``, so the bound scales with the sum of ``|terms|``."""
    n, m = x.shape[0], B.shape[0]
    features = grad_out.double().abs()[:, features_at : features_at + 2 * m]
    term_sum = (
        abs(factor)
        * float(features.sum())
        * float(B.double().abs().max())
        * max(float(x.double().abs().max()), 1.0)
    )
    atol = phase_tolerance(max_phase(x, B, factor), dtype) * term_sum / max(n, 1) + 1e-12
    return atol, atol * n


def hashgrid_tolerance(
    dtype: torch.dtype,
    table: Tensor,
    scales: Optional[Tuple[float, ...]] = None,
    x: Optional[Tensor] = None,
) -> float:
    """A few roundings of the largest feature (the weights sum to 1), plus the effect of a rounding
    of the grid position ``scale * x + shift`` (one fused rounding in the kernel, two in float64
    torch), which moves the weights by up to an ulp of the position."""
    position = 1.0
    if scales and x is not None and x.numel():
        position = max(1.0, max(scales) * float(x.abs().max()) + 1.0)
    return 16 * torch.finfo(dtype).eps * max(1.0, float(table.abs().max())) * position
