"""tiny-cuda-nn's ``OneBlob`` encoding (Müller et al. 2019, "Neural Importance Sampling").

Each coordinate ``x`` is spread over ``n = num_bins`` bins of width ``1/n`` on ``[0, 1]``: bin ``k``
receives the mass of a quartic kernel ``K(t) = 15/16 (1 - t²)²`` (``|t| ≤ 1``, in units of one
bin width) centred on ``x`` that falls into ``[k/n, (k+1)/n]``. With the kernel's CDF

    ``F(u) = clamp(15/16 · u (1 - 2/3 u² + 1/5 u⁴) + 1/2, 0, 1)``

and the wrapped CDF at the left edge of bin ``k``,
``L_k = F(n(k/n - x)) + F(n(k/n - x - 1)) + F(n(k/n - x + 1))``, tiny-cuda-nn outputs
``L_{k+1} - L_k`` for ``k < n - 1`` and ``L_0 + 1 - L_{n-1}`` for the last bin (the kernel wraps
around the unit interval). The ``n`` values of a coordinate therefore always sum to 1.
Outside ``[0, 1]`` the same three-copy formula applies, as in tiny-cuda-nn's kernel: values are
finite, a coordinate's bins still sum to 1 (the last bin takes what no other bin receives),
``x ± 1`` encodes like ``x`` while the kernel around ``x`` stays inside ``[0, 1]``, and more than a
unit away from the interval all the mass sits in the last bin.
"""

from __future__ import annotations

import torch
from torch import Tensor

from coordnet.encoders.base import Encoder, no_autocast
from coordnet.validation import check_count


def quartic_cdf(u: Tensor) -> Tensor:
    """CDF of the quartic kernel ``15/16 (1 - u²)²`` on ``[-1, 1]``, clamped to ``[0, 1]``."""
    u = torch.clamp(u, -1.0, 1.0)  # the CDF is 0 / 1 outside: no overflow of u⁴ for far inputs
    u2 = u * u
    return torch.clamp((15.0 / 16.0) * u * (1.0 - (2.0 / 3.0) * u2 + 0.2 * u2 * u2) + 0.5, 0.0, 1.0)


class OneBlob(Encoder):
    """tiny-cuda-nn's ``OneBlob``: ``(..., d) -> (..., d · num_bins)``, coordinate-major
    (feature ``j · num_bins + k`` is bin ``k`` of coordinate ``j``). See the module docstring.

    Args:
        in_dim: ``d``.
        num_bins: bins per coordinate; a power of two up to ``2^16``, as tiny-cuda-nn requires
            a power of two (default 16).
    """

    input_domain = (0.0, 1.0)

    def __init__(self, in_dim: int, num_bins: int = 16) -> None:
        super().__init__(in_dim)
        check_count("num_bins", num_bins, maximum=2**16, why="out_dim grows as in_dim · num_bins")
        if num_bins & (num_bins - 1):
            raise ValueError(f"num_bins must be a power of two, got {num_bins!r}")
        self.num_bins = num_bins
        self.out_dim = in_dim * num_bins

    def forward(self, x: Tensor) -> Tensor:
        """``x (..., d) -> (..., d · num_bins)`` in float32 (or float64); differentiable in ``x``."""
        x = self.check_input(x)
        n = self.num_bins
        with no_autocast(x.device):
            left = torch.arange(n, device=x.device, dtype=x.dtype) / n  # exact: n is a power of two
            t = left - x[..., None]  # (..., d, n)
            cdf = quartic_cdf(t * n) + quartic_cdf((t - 1.0) * n) + quartic_cdf((t + 1.0) * n)
            right = torch.cat((cdf[..., 1:], cdf[..., :1] + 1.0), dim=-1)
            return (right - cdf).flatten(-2)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, num_bins={self.num_bins}"
