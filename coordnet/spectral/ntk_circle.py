"""Closed-form NTK eigenvalues of the two-layer ReLU network on the circle S¹ and the sphere S².

Basri/Ronen et al. 2019, "The convergence rate of neural networks for learned functions of
different frequencies" (NeurIPS). The network and the kernel diagonalised here:

    f(x) = (1/√m) Σ_r a_r relu(w_r · x̄),   a_r ∈ {−1, +1} fixed,   w_r ~ N(0, σ² I) trained,

trained by gradient descent on ``½ Σ_i (f(x_i) − y_i)²``; only the first layer learns (the
kernel below does not depend on ``σ``: ``∂f/∂w_r = a_r 1(w_r·x̄ > 0) x̄/√m`` sees only the
direction of ``w_r``).

* **Without bias**: ``x̄ = x`` with ``x`` on the unit sphere S^(d−1) ⊂ R^d.
* **With bias**: the bias is an appended constant coordinate, ``x̄ = (x, 1)/√2`` (unit norm),
  and its weight (the bias ``b_r = w_r[d]/√2``) is trained like the others but
  **initialised at zero**, so the ReLU patterns at initialisation depend on ``w_r · x`` only.

As ``m → ∞`` the tangent kernel of the trained layer is ``H(x, z) = E_w[x̄·z̄ 1(w·x ≥ 0) 1(w·z ≥ 0)]``
and, with ``t = x·z = cos φ``, ``P(w·x ≥ 0, w·z ≥ 0) = (π − φ)/(2π)``:

    no bias:    K(t) = t (π − arccos t) / (2π)
    with bias:  K_b(t) = (1 + t)/2 · (π − arccos t) / (2π) = ½ K(t) + (π − arccos t)/(4π)

(the bias coordinate changes ``x̄·z̄`` to ``(t + 1)/2`` but not the ReLU patterns). This bias
model gives exactly the paper's ``1/(πk²)`` for odd ``k ≥ 3`` in the normalisation below; a
bias initialised at random instead would change the ReLU patterns and the constants.

**Circle.** ``K`` depends on the angle ``θ`` between the points, so the integral operator
``(T f)(θ) = ∫_{−π}^{π} K(θ − φ) f(φ) dφ`` has eigenfunctions ``cos kθ, sin kθ`` with
eigenvalues ``λ_k = ∫_{−π}^{π} K(θ) cos kθ dθ`` (the normalisation of this module). With
``∫_0^π (π − θ) cos mθ dθ = π²/2`` (``m = 0``), ``(1 − (−1)^m)/m²`` (``m ≥ 1``):

    no bias:    λ_0 = 2/π,   λ_1 = π/4,   λ_k = 2(k² + 1) / (π (k² − 1)²)  (even k ≥ 2),   λ_k = 0  (odd k ≥ 3)
    with bias:  λ_0 = π/4 + 1/π,   λ_1 = π/8 + 1/π,   λ_k = (k² + 1) / (π (k² − 1)²)  (even k ≥ 2),
                λ_k = 1/(π k²)  (odd k ≥ 3)

The bias-free two-layer net cannot learn odd ``k ≥ 3`` at all: ``relu(u) = (u + |u|)/2`` and
``|w·x|`` is even in ``x``, so the net only spans ``k = 1`` and even harmonics. With bias every
``λ_k`` decays like ``1/(π k²)``: learning ``sin kθ`` takes a time ∝ ``1/λ_k`` ∝ ``k²``.

**Sphere S².** By Funk–Hecke, spherical harmonics of degree ``k`` are eigenfunctions of
``(T f)(x) = ∫_{S²} K(x·z) f(z) dσ(z)`` (``dσ``: area measure, total 4π) with eigenvalue
``λ_k = 2π ∫_{−1}^{1} K(t) P_k(t) dt = 2π ∫_0^π K(cos φ) P_k(cos φ) sin φ dφ``. Expanding
``P_k(cos φ) = Σ_j c_j c_{k−j} cos((k − 2j) φ)`` (``c_j = C(2j, j)/4^j``) and using
``∫_0^π (π − φ) sin mφ dφ = π/m`` gives a finite sum (:func:`sphere_ntk_eigenvalues`).
Odd ``k ≥ 3`` again vanish without bias; with bias ``λ_k`` decays like ``k^{-3}``: learning
time ∝ ``k³`` (``k^d`` for data on S^(d−1)).

The overall scale is free (it only rescales the learning rate); the ratios are the paper's.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from coordnet.validation import check_count

#: Largest ``kmax`` of :func:`circle_ntk_eigenvalues` (a few float64 arrays of ``kmax + 1``
#: values: about 0.3 GiB) and of :func:`sphere_ntk_eigenvalues` (its closed form costs about
#: ``kmax³`` operations: 500 takes seconds on one core, 1000 half a minute).
MAX_CIRCLE_KMAX = 10_000_000
MAX_SPHERE_KMAX = 500


def _check_kmax(kmax: int, maximum: int = MAX_CIRCLE_KMAX) -> int:
    if isinstance(kmax, bool) or not isinstance(kmax, int):
        raise TypeError(f"kmax must be an integer, got {type(kmax).__name__} {kmax!r}")
    if kmax < 0:
        raise ValueError(f"kmax must be an integer >= 0, got {kmax}")
    if kmax > maximum:
        raise ValueError(f"kmax must be at most {maximum:,} here, got {kmax:,}")
    return kmax


def _check_bias(bias: bool) -> bool:
    if not isinstance(bias, bool):
        raise TypeError(f"bias must be True or False, got {bias!r}")
    return bias


def dot_product_ntk(t: Tensor, bias: bool) -> Tensor:
    """The two-layer ReLU NTK as a function of ``t = x·z ∈ [−1, 1]`` (see the module docstring).

    ``K(t) = t (π − arccos t)/(2π)``; with bias ``K_b(t) = (1 + t)(π − arccos t)/(4π)``.
    Shapes: ``t (...) -> (...)``, same dtype; ``t`` is clamped to ``[−1, 1]``. (``arccos`` is
    ill-conditioned at ``t = ±1``: rounding in ``t`` of 1e-16 moves ``K`` by 1e-8; from an angle,
    :func:`angle_ntk` is exact.)
    """
    _check_bias(bias)
    return angle_ntk(torch.arccos(t.clamp(-1.0, 1.0)), bias)


def angle_ntk(angle: Tensor, bias: bool) -> Tensor:
    """The kernel as a function of the angle ``φ ∈ [0, π]`` between two unit vectors:
    ``cos φ (π − φ)/(2π)``, with bias ``(1 + cos φ)(π − φ)/(4π)``. Shapes: ``(...) -> (...)``."""
    _check_bias(bias)
    t = torch.cos(angle)
    rest = math.pi - angle
    if bias:
        return (1.0 + t) * rest / (4 * math.pi)
    return t * rest / (2 * math.pi)


def circle_ntk_kernel(theta: Tensor, bias: bool) -> Tensor:
    """The kernel on S¹ as a function of the angle ``θ`` between two points: ``K(cos θ)``.

    Shapes: ``theta (...) -> (...)``; any real ``θ`` (the kernel is 2π-periodic and even).
    """
    angle = (torch.remainder(theta + math.pi, 2 * math.pi) - math.pi).abs()  # in [0, π]
    return angle_ntk(angle, bias)


def circle_ntk_eigenvalues(kmax: int, bias: bool) -> Tensor:
    """Eigenvalues ``λ_0 .. λ_kmax`` of the two-layer ReLU NTK on the circle: ``(kmax + 1,)`` float64.

    ``λ_k = ∫_{−π}^{π} K(θ) cos kθ dθ`` for the kernel of the module docstring (first layer
    trained; with ``bias`` an appended constant coordinate ``x̄ = (x, 1)/√2`` whose weight starts
    at zero). Each ``λ_k`` belongs to the two eigenfunctions ``cos kθ`` and ``sin kθ``
    (one, the constant, for ``k = 0``).

    Examples: without bias ``λ_1 = π/4``, ``λ_2 = 10/(9π)``, ``λ_3 = 0``; with bias
    ``λ_3 = 1/(9π)``.
    """
    _check_kmax(kmax)
    _check_bias(bias)
    k = torch.arange(kmax + 1, dtype=torch.float64)
    pi = math.pi
    even = 2 * (k**2 + 1) / (pi * (k**2 - 1) ** 2)  # also right for k = 0: 2/π
    plain = torch.where(k.remainder(2) == 0, even, torch.zeros_like(k))
    if kmax >= 1:
        plain[1] = pi / 4
    if not bias:
        return plain
    odd = torch.where(k.remainder(2) == 1, 1.0 / (pi * k.clamp(min=1) ** 2), torch.zeros_like(k))
    odd[0] = pi / 4  # (1/2π) ∫_0^π (π − θ) dθ
    return 0.5 * plain + odd


def circle_grid_eigenvalues(kmax: int, points: int, bias: bool) -> Tensor:
    """Eigenvalues ``μ_0 .. μ_kmax`` of the Gram matrix ``H_ij = K(θ_i − θ_j)`` on the uniform grid
    ``θ_i = 2π i / points``: ``(kmax + 1,)`` float64.

    ``H`` is circulant, so ``cos kθ_i`` and ``sin kθ_i`` are exact eigenvectors with
    ``μ_k = Σ_j K(θ_j) cos kθ_j = (points/2π) Σ_q λ_{k + q·points}`` (the aliased continuum
    eigenvalues; ``≈ points/(2π) λ_k`` for ``k ≪ points``). With an even number of points the
    odd ``k ≥ 3`` stay exactly 0 without bias. These are the rates of the linearised
    gradient-descent dynamics ``r ← (I − η H) r`` on the grid.
    """
    _check_kmax(kmax)
    check_count("points", points)
    theta = torch.arange(points, dtype=torch.float64) * (2 * math.pi / points)
    kernel = circle_ntk_kernel(theta, bias)
    k = torch.arange(kmax + 1, dtype=torch.float64)
    return (kernel[None, :] * torch.cos(k[:, None] * theta[None, :])).sum(-1)


def _legendre_cosine_coefficients(k: int) -> Tensor:
    """``c_j c_{k−j}`` (``j = 0..k``) with ``P_k(cos φ) = Σ_j c_j c_{k−j} cos((k − 2j) φ)``: ``(k + 1,)``."""
    c = torch.ones(k + 1, dtype=torch.float64)
    for j in range(1, k + 1):
        c[j] = c[j - 1] * (2 * j - 1) / (2 * j)  # C(2j, j) / 4^j
    return c * c.flip(0)


def _sine_moment(m: Tensor) -> Tensor:
    """``∫_0^π (π − φ) sin(m φ) dφ = π/m`` for integer ``m ≠ 0``, 0 for ``m = 0``."""
    safe = torch.where(m == 0, torch.ones_like(m), m)
    return torch.where(m == 0, torch.zeros_like(m), math.pi / safe)


def sphere_ntk_eigenvalues(kmax: int, bias: bool) -> Tensor:
    """Funk–Hecke eigenvalues ``λ_0 .. λ_kmax`` of the two-layer ReLU NTK on S² ⊂ R³: ``(kmax + 1,)`` float64.

    ``λ_k = 2π ∫_{−1}^{1} K(t) P_k(t) dt`` (area measure on S²; each ``λ_k`` belongs to the
    ``2k + 1`` harmonics of degree ``k``), in closed form: with ``t = cos φ``,
    ``K(cos φ) sin φ`` is ``(π − φ)`` times ``sin 2φ / (4π)`` (no bias) or
    ``(sin φ + sin 2φ / 2)/(4π)`` (bias), and each product with ``cos((k − 2j)φ)`` is a sum of
    sines whose moments ``∫ (π − φ) sin mφ dφ = π/m`` are exact.

    Without bias ``λ_0 = π/4``, ``λ_1 = π/3``; odd ``k ≥ 3`` are 0 without bias; with bias all
    ``λ_k > 0`` and ``λ_k ∝ k^{-3}`` for large ``k``.
    """
    _check_kmax(kmax, MAX_SPHERE_KMAX)
    _check_bias(bias)
    values = torch.empty(kmax + 1, dtype=torch.float64)
    for k in range(kmax + 1):
        coefficients = _legendre_cosine_coefficients(k)
        m = (k - 2 * torch.arange(k + 1)).to(torch.float64)
        # sin(2φ) cos(mφ) = ½[sin((2 + m)φ) + sin((2 − m)φ)];  sin(φ) cos(mφ) likewise with 1.
        double = (coefficients * 0.5 * (_sine_moment(2 + m) + _sine_moment(2 - m))).sum()
        single = (coefficients * 0.5 * (_sine_moment(1 + m) + _sine_moment(1 - m))).sum()
        plain = (
            2 * math.pi * double / (4 * math.pi)
        )  # 2π ∫ t (π − φ)/(2π) P_k sin φ dφ, t sin φ = ½ sin 2φ
        if bias:
            values[k] = 0.5 * plain + 2 * math.pi * single / (4 * math.pi)
        else:
            values[k] = plain
    if not bias:  # exactly 0 by parity (t·arcsin t is even); the sum leaves rounding noise
        values[3::2] = 0.0
    return values
