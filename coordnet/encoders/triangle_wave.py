"""tiny-cuda-nn's ``TriangleWave`` encoding (Müller et al. 2021, "Real-time Neural Radiance Caching").

Like the ``Frequency`` encoding with a triangle wave instead of ``sin``/``cos`` and no cosine:
for coordinate ``x_j`` and ``l = 0 .. L-1``, with ``v = 2^(l-1) x_j + l/4`` (the ``l/4`` phase
shift is tiny-cuda-nn's, to tell the bands apart), feature ``j · L + l`` is

    ``4 |v - floor(v) - 1/2| - 1``  ∈ ``[-1, 1]``,

a triangle wave of period ``2^(1-l)`` in ``x_j``. Periodic, so every finite input is valid
and gives finite features: ``2^(l-1) x_j`` is reduced modulo 1 exactly before the shift is
added, and where it overflows (``|x_j|`` near ``3.4e38`` in float32) it is an integer, whose
fractional part is 0. NaN or infinite inputs give NaN. The derivative is ``±2^(l+1)``
(undefined at the kinks, where autograd uses 0).
"""

from __future__ import annotations

import torch
from torch import Tensor

from coordnet.encoders.base import Encoder, no_autocast
from coordnet.validation import check_count


class TriangleWave(Encoder):
    """tiny-cuda-nn's ``TriangleWave``: ``(..., d) -> (..., d · num_frequencies)``, coordinate-major.

    Args:
        in_dim: ``d``.
        num_frequencies: bands ``L`` per coordinate, 1 to 121 (default 12, tiny-cuda-nn's).
    """

    input_domain = (0.0, 1.0)

    def __init__(self, in_dim: int, num_frequencies: int = 12) -> None:
        super().__init__(in_dim)
        self.num_frequencies = check_count(
            "num_frequencies",
            num_frequencies,
            maximum=121,
            why="level l scales x by 2^(l-1): beyond 2^120 float32 overflows",
        )
        self.out_dim = in_dim * num_frequencies

    def forward(self, x: Tensor) -> Tensor:
        """``x (..., d) -> (..., d · num_frequencies)`` in float32 (or float64); differentiable in ``x``."""
        x = self.check_input(x)
        levels = torch.arange(self.num_frequencies, device=x.device, dtype=x.dtype)
        with no_autocast(x.device):
            w = x[..., None] * torch.exp2(levels - 1.0)  # (..., d, L); exact scaling
            # The fractional part of w, exact (0 where a finite x overflowed: w is an integer).
            overflowed = torch.isinf(w) & torch.isfinite(x)[..., None]
            fraction = torch.where(overflowed, torch.zeros_like(w), w - torch.floor(w).detach())
            v = fraction + 0.25 * levels
            return (4.0 * torch.abs(v - torch.floor(v) - 0.5) - 1.0).flatten(-2)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, num_frequencies={self.num_frequencies}"
