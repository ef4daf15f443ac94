"""Real spherical harmonics of 3D directions, in tiny-cuda-nn's and nerfstudio's conventions.

Both codebases output the bands ``l = 0 .. degree-1`` (``degree`` is the number of bands, so
there are ``degree²`` features), component ``l² + l + m`` for ``m = -l .. l``, and evaluate the
polynomials in ``(x, y, z)`` without normalising the vector. They differ in three ways:

* input: tiny-cuda-nn (``convention="tcnn"``) takes ``u ∈ [0, 1]³`` — the unit cube holding
  ``(v + 1) / 2`` — and uses ``(x, y, z) = 2u - 1``; nerfstudio (``convention="nerfstudio"``)
  takes the raw direction ``(x, y, z)``;
* sign: tiny-cuda-nn's ``Y_l^m`` carry the Condon–Shortley phase ``(-1)^m``, nerfstudio's do not;
* degree: tiny-cuda-nn goes to 8; nerfstudio's ``components_from_spherical_harmonics`` to 5
  (its ``SHEncoding`` to 4).

Normalisation is orthonormal on the unit sphere in both: with the standard real harmonics
``Y_l^0 = K_l^0 P_l^0(z)``, ``Y_l^{m} = √2 K_l^m P_l^m(z) cos(mφ) sinᵐθ`` and
``Y_l^{-m} = √2 K_l^m P_l^m(z) sin(mφ) sinᵐθ`` (``m > 0``, ``K_l^m = √((2l+1)/4π · (l-m)!/(l+m)!)``,
``P_l^m`` without the Condon–Shortley phase), nerfstudio's feature ``l² + l + m`` is ``Y_l^m`` and
tiny-cuda-nn's is ``(-1)^m Y_l^m``. In terms of ``scipy.special.sph_harm_y`` (which includes the
Condon–Shortley phase in its complex ``Y_l^m``): tiny-cuda-nn's feature is ``√2 Re Y_l^m`` for
``m > 0``, ``Y_l^0`` for ``m = 0`` and ``√2 Im Y_l^{|m|}`` for ``m < 0``; nerfstudio's is that
times ``(-1)^m``.

The polynomials are evaluated by a stable recurrence (``(x + iy)^m`` for the azimuthal part,
the three-term Legendre recurrence in ``z``), so they agree with the closed forms of both
codebases within rounding, also for vectors that are not of unit length. Inputs of moderate size
give finite features (in float32 the degree-7 terms overflow beyond ``|x| ≈ 10⁵``); NaN gives NaN.
"""

from __future__ import annotations

import math
from typing import List, Tuple

import torch
from torch import Tensor

from coordnet.encoders.base import Encoder, no_autocast
from coordnet.validation import check_choice

CONVENTIONS = ("tcnn", "nerfstudio")
MAX_DEGREE = {"tcnn": 8, "nerfstudio": 5}


def _coefficients(degree: int, condon_shortley: bool) -> List[Tuple[int, int, float]]:
    """``(l, m, c)`` per feature in output order; ``c`` multiplies ``P̃_l^|m|(z) · C_|m| or S_|m|``,
    where ``P̃_l^m = P_l^m / (2m-1)!!`` is the Legendre polynomial part scaled so ``P̃_m^m = 1``."""
    table = []
    for l in range(degree):
        for m in range(-l, l + 1):
            a = abs(m)
            double_factorial = math.prod(range(2 * a - 1, 0, -2))  # (2a-1)!!, 1 for a = 0
            k = math.sqrt(
                (2 * l + 1) / (4 * math.pi) * math.factorial(l - a) / math.factorial(l + a)
            )
            c = k * double_factorial * (math.sqrt(2.0) if m else 1.0)
            if condon_shortley and a % 2:
                c = -c
            table.append((l, m, c))
    return table


def spherical_harmonics(directions: Tensor, degree: int, condon_shortley: bool = False) -> Tensor:
    """Real spherical harmonics of the bands ``0 .. degree-1``: ``(..., 3) -> (..., degree²)``.

    ``directions`` are used as given (no normalisation, no remapping); feature ``l² + l + m`` is
    ``Y_l^m`` (see the module docstring), times ``(-1)^m`` with ``condon_shortley``. Computed in
    the dtype of ``directions``; differentiable.
    """
    if not 1 <= degree <= 8:
        raise ValueError(f"degree must be an integer between 1 and 8, got {degree!r}")
    x, y, z = directions.unbind(-1)
    # Azimuthal parts C_m + i S_m = (x + i y)^m.
    cos_parts, sin_parts = [torch.ones_like(x)], [torch.zeros_like(x)]
    for _ in range(1, degree):
        c, s = cos_parts[-1], sin_parts[-1]
        cos_parts.append(x * c - y * s)
        sin_parts.append(x * s + y * c)
    # Polar parts P̃_l^m(z) for 0 <= m <= l < degree.
    legendre = {}
    for m in range(degree):
        legendre[(m, m)] = torch.ones_like(z)
        if m + 1 < degree:
            legendre[(m + 1, m)] = (2 * m + 1) * z
        for l in range(m + 2, degree):
            legendre[(l, m)] = (
                (2 * l - 1) * z * legendre[(l - 1, m)] - (l + m - 1) * legendre[(l - 2, m)]
            ) / (l - m)
    features = []
    for l, m, coefficient in _coefficients(degree, condon_shortley):
        azimuthal = cos_parts[m] if m >= 0 else sin_parts[-m]
        polar = coefficient * legendre[(l, abs(m))]
        features.append(polar if m == 0 else polar * azimuthal)
    return torch.stack(features, dim=-1)


class SphericalHarmonics(Encoder):
    """Spherical-harmonic encoding of 3D directions: ``(..., 3) -> (..., degree²)``.

    Args:
        in_dim: must be 3.
        degree: number of bands (tiny-cuda-nn's ``degree``, nerfstudio's ``levels``): 1–8 for
            ``"tcnn"``, 1–5 for ``"nerfstudio"``.
        convention: ``"tcnn"`` (tiny-cuda-nn's ``SphericalHarmonics``: inputs in ``[0, 1]³``
            mapped by ``2u - 1``, Condon–Shortley signs) or ``"nerfstudio"`` (nerfstudio's
            ``components_from_spherical_harmonics``: raw directions, no Condon–Shortley signs).
            See the module docstring.

    ``input_domain`` is ``(0, 1)`` for ``"tcnn"`` and ``(-1, 1)`` for ``"nerfstudio"``, so in a
    :class:`~coordnet.nets.CoordinateNet` both see the same direction. Inputs are not
    normalised: unit directions give the orthonormal harmonics, other vectors the same
    polynomials, evaluated in float64 for float32 inputs (finite for every finite input; values
    beyond the float32 range saturate at its largest finite value).
    """

    def __init__(self, in_dim: int = 3, degree: int = 4, *, convention: str = "tcnn") -> None:
        super().__init__(in_dim)
        if in_dim != 3:
            raise ValueError(
                f"SphericalHarmonics encodes 3D directions: in_dim must be 3, got {in_dim!r}"
            )
        self.convention = check_choice("convention", convention, CONVENTIONS)
        top = MAX_DEGREE[convention]
        if isinstance(degree, bool) or not isinstance(degree, int) or not 1 <= degree <= top:
            raise ValueError(
                f"degree must be an integer between 1 and {top} for convention {convention!r}, got {degree!r}"
            )
        self.degree = degree
        self.out_dim = degree * degree
        self.input_domain = (0.0, 1.0) if convention == "tcnn" else (-1.0, 1.0)

    def forward(self, x: Tensor) -> Tensor:
        """``x (..., 3) -> (..., degree²)``, in float32 (or float64) even under autocast."""
        x = self.check_input(x)
        with no_autocast(x.device):
            wide = (
                x if x.dtype == torch.float64 else x.double()
            )  # degree-7 polynomials overflow float32 near |x| = 1e5
            if self.convention == "tcnn":
                y = spherical_harmonics(wide * 2.0 - 1.0, self.degree, condon_shortley=True)
            else:
                y = spherical_harmonics(wide, self.degree, condon_shortley=False)
            if y.dtype == x.dtype:
                return y
            limit = torch.finfo(x.dtype).max
            return torch.clamp(y, -limit, limit).to(x.dtype)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, degree={self.degree}, convention={self.convention!r}"
