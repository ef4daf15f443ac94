"""Integrated positional encoding (mip-NeRF, Barron et al. 2021)."""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from coordnet.encoders.base import Encoder, like_input, no_autocast
from coordnet.ops.fourier import float32_phase_may_overflow
from coordnet.validation import check_int, check_positive


class IntegratedPositionalEncoding(Encoder):
    """Expected positional encoding of a Gaussian ``N(mean, cov)``.

    For frequencies ``f_l = 2**l`` (``l = min_deg .. max_deg-1``) and phase factor ``factor``,
    each coordinate gives ``exp(-var/2) sin(μ)`` and ``exp(-var/2) cos(μ)`` with phase mean
    ``μ = factor f_l mean_j`` and phase variance ``var = (factor f_l)² cov_jj`` — the expectation
    of ``sin`` and ``cos`` of a Gaussian phase. Layout as mip-NeRF:
    ``[sin of all (l, j), cos of all (l, j)]``, frequency-major. With ``cov = 0`` it equals the
    plain positional encoding; wide Gaussians damp the high frequencies towards 0.

    Args:
        in_dim: ``d``.
        min_deg, max_deg: frequency exponents (mip-NeRF uses 0 and 16 for positions).
        factor: phase factor; mip-NeRF uses 1 on its scene coordinates.

    Shapes: ``mean (..., d)``; ``cov`` either ``(..., d)`` (diagonal) or ``(..., d, d)`` (full;
    only its diagonal enters an axis-aligned encoding); output ``(..., 2 d (max_deg - min_deg))``.
    Every finite ``mean`` gives finite features: float32 means whose phases could overflow
    float32 (``|mean|`` near ``3.4e38``) are computed in float64.
    """

    input_domain = None
    frequencies: Tensor  # (L,) buffer

    def __init__(
        self, in_dim: int, min_deg: int = 0, max_deg: int = 16, factor: float = 1.0
    ) -> None:
        super().__init__(in_dim)
        why = "frequencies 2^deg beyond 2^120 overflow float32"
        check_int("min_deg", min_deg, -120, 120, why=why)
        check_int("max_deg", max_deg, -120, 121, why=why)
        if max_deg <= min_deg:
            raise ValueError(f"need integers min_deg < max_deg, got {min_deg!r} and {max_deg!r}")
        self.factor = check_positive(
            "factor", factor, maximum=2.0**8, why="factor · 2^max_deg must stay within float32"
        )
        self.register_buffer(
            "frequencies",
            2.0 ** torch.arange(min_deg, max_deg, dtype=torch.float32),
            persistent=False,
        )
        self.out_dim = 2 * in_dim * (max_deg - min_deg)
        #: The largest phase per unit of ``mean``: ``factor · 2^(max_deg - 1)``.
        self.largest_phase_factor = self.factor * 2.0 ** (max_deg - 1)

    def forward(self, mean: Tensor, cov: Optional[Tensor] = None) -> Tensor:
        """``mean (..., d)``, ``cov (..., d)`` or ``(..., d, d)`` or ``None`` -> ``(..., out_dim)``."""
        mean = self.check_input(mean, "mean")
        # |mean| near 3.4e38 in float32: compute the phases in float64, so they stay finite.
        if float32_phase_may_overflow(mean, self.largest_phase_factor):
            wide = cov.double() if isinstance(cov, Tensor) else cov
            return self(mean.double(), wide).float()
        with no_autocast(mean.device):
            scales = like_input(self.frequencies, mean).to(mean.dtype) * self.factor  # (L,)
            phase = (mean[..., None, :] * scales[:, None]).flatten(
                -2
            )  # (..., L*d), frequency-major
            if cov is None:
                damping = torch.ones_like(phase)
            else:
                variance = self._diagonal(cov, mean)
                phase_var = (variance[..., None, :] * scales[:, None] ** 2).flatten(-2)
                damping = torch.exp(-0.5 * phase_var)
            return torch.cat((damping * torch.sin(phase), damping * torch.cos(phase)), dim=-1)

    def _diagonal(self, cov: Tensor, mean: Tensor) -> Tensor:
        if not isinstance(cov, Tensor) or not cov.is_floating_point():
            raise TypeError(
                f"IntegratedPositionalEncoding: cov must be a floating-point tensor, got {cov!r:.80}"
            )
        d = self.in_dim
        if cov.shape == mean.shape:
            variance = cov
        elif cov.shape == (*mean.shape, d):
            variance = torch.diagonal(cov, dim1=-2, dim2=-1)
        else:
            raise ValueError(
                f"IntegratedPositionalEncoding: cov must have shape {tuple(mean.shape)} (diagonal) or "
                f"{(*mean.shape, d)} (full), got {tuple(cov.shape)}"
            )
        variance = variance.to(mean.dtype)
        if bool((variance < 0).any()) or not bool(torch.isfinite(variance).all()):
            raise ValueError(
                "IntegratedPositionalEncoding: cov must have finite, non-negative variances on its "
                "diagonal (a negative variance makes exp(-var·f²/2) overflow)"
            )
        return variance
