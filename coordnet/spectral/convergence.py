"""Measured time-to-learn of ``sin kθ`` against the frequency ``k`` (Basri/Ronen et al. 2019).

Each frequency is a separate regression problem: ``n`` points on the circle (uniform grid
``θ_i = 2π i/n``), target ``y_i = sin kθ_i``, a freshly initialised network (the *same*
initial network for every ``k``, so only the frequency differs), plain full-batch gradient
descent on ``½ Σ_i (f(x_i) − y_i)²``. The *time to learn* ``k`` is the first iteration at which
the relative loss ``Σ (f − y)² / Σ y²`` falls below ``threshold``; a run that has not got there
after ``max_iterations`` updates is *not learned* (its time is reported as the cap). All
frequencies train at once as one batched model (a leading ``K`` dimension on every weight,
``matmul``/``baddbmm`` over it); a frequency leaves the batch once learned.

**Shallow** (:func:`shallow_time_to_learn`): the network of :mod:`coordnet.spectral.ntk_circle`,
``f(x) = (1/√m) Σ_r a_r relu(w_r·x̄)``, ``a_r = ±1`` fixed, only ``W`` trained, bias as an appended
coordinate ``x̄ = (x, 1)/√2`` with its weight starting at 0. The initialisation is *paired*
(``w_{r+m/2} = w_r``, ``a_{r+m/2} = −a_r``), so ``f ≡ 0`` at the start and the residual is exactly
the target (the relative loss starts at 1). The gradient is written out by hand
(``∂f/∂w_r = a_r 1(w_r·x̄ > 0) x̄/√m``), no autograd.
Linearised around the initialisation, ``r ← (I − η H) r`` with the NTK Gram matrix
``H_ij = K(x_i·x_j)``; ``sin kθ`` is an eigenvector with eigenvalue ``μ_k ≈ n λ_k/(2π)``, so
``(1 − η μ_k)^{2t} < ε`` gives the prediction ``t_k = ln ε / (2 ln(1 − η μ_k)) ≈ ln(1/ε)/(2 η μ_k)``,
i.e. time ∝ ``1/λ_k`` ∝ ``k²`` with bias; without bias ``λ_k = 0`` for odd ``k ≥ 3`` and the net
can never represent them (the loss stays ``>= Σ y²``).

**Deep** (:func:`deep_time_to_learn`): a ReLU MLP (``depth`` hidden layers of ``width``, PyTorch's
``nn.Linear`` initialisation, all layers trained), on the raw coordinates ``(cos θ, sin θ)`` or on
an encoding of the circle coordinate ``t = θ/(2π) ∈ [0, 1)`` (coordnet's domain convention; a
positional encoding with integer frequencies is periodic on the circle). The network's output at
initialisation is subtracted (``f = g_p − g_{p_0}``), so it also starts at exactly 0.

Practical subtleties:

* **Learning rate.** Gradient descent on ``½‖r‖²`` is stable only for ``η < 2/μ_max`` (the largest
  NTK eigenvalue: the constant mode ``λ_0`` with bias, ``λ_1`` without). The default is
  ``η = lr_factor / μ_max``: the shallow net uses the infinite-width kernel's ``μ_max`` on the
  points (finite width moves it by ``O(1/√m)``, ``lr_factor = 1`` leaves a factor-2 margin); the
  deep net uses its empirical NTK at initialisation and, by default, ``lr_factor = 0.125``: its
  kernel grows while it trains (the README's Basri section gives the measurements behind
  ``0.125``). Far above ``2/μ_max`` the loss diverges (``FloatingPointError``); the two-layer net may instead
  stall with dead units. Below the limit a smaller ``η`` only rescales the times.
* **Kernel regime.** The prediction assumes the ReLU patterns stay as initialised. Fitting
  ``sin kθ`` moves the weights by ``‖ΔW‖² ≈ yᵀH⁻¹y ≈ π/λ_k`` ∝ ``k²`` (independent of the width
  ``m`` and of ``n``) while ``‖W_0‖² ≈ σ² m d``. With ``w ~ N(0, I)`` (``init_scale σ = 1``) and
  ``m = 2048`` the weights move by a sizeable fraction of their size from ``k ≈ 5`` on; the
  patterns change and high ``k`` take far longer than ``1/λ_k``. ``init_scale = 100`` keeps the
  net linearised (the NTK itself does not depend on ``σ``: ReLU is positively homogeneous and
  the bias weight starts at 0); it is equivalent to a target of amplitude ``1/σ``.
* **Which k.** ``k = 1`` is special (the linear part of ``relu``, ``λ_1`` comparable to ``λ_0``)
  and so is ``k = 2`` (the even eigenvalues ``(k² + 1)/(π(k² − 1)²)`` exceed ``1/(πk²)`` by
  2.2x at ``k = 2``, 1.2x at ``k = 4``), so the log-log slope is fitted from ``k = 3``
  (:func:`fit_power_law` ``k_min``); from ``k = 2`` the kernel itself predicts 2.2 instead of 2.
  ``k`` must stay well below the ``n/2`` of the grid (aliasing: ``μ_k`` includes
  ``λ_{n−k}``, ``λ_{n+k}``, ...). At finite width the empirical NTK fluctuates around ``H``
  (at ``m = 2048``, ``n = 128`` the Rayleigh quotients of ``sin kθ``, ``k ≤ 16``, are within 4%
  of ``μ_k``).
* **Threshold.** For a target that is one eigenvector the linearised time is
  ``ln(1/ε)/(2ημ_k)`` for every ``ε``: the threshold sets the overall scale, not the exponent.
  ``ε`` must be well below 1 (at ``ε`` near 1 every ``k`` "learns" in a few steps) and above the
  finite-width floor; 0.05 (5% of the target's energy left) is the default.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

from coordnet.spectral.ntk_circle import angle_ntk
from coordnet.validation import check_choice, check_count, check_positive

DOMAINS = ("circle", "sphere")


@dataclass
class TimeToLearn:
    """Time to learn each frequency (one training run per frequency, all batched).

    Attributes:
        frequencies: ``(K,)`` int64, the ``k`` of each target.
        iterations: ``(K,)`` int64, first iteration with relative loss ``< threshold``; the cap
            where not learned.
        learned: ``(K,)`` bool.
        final_loss: ``(K,)`` float64 relative loss when its run stopped.
        threshold, cap, learning_rate: the settings that define the time.
        kernel_eigenvalues: ``(K,)`` float64 ``μ_k = yᵀ H y / yᵀ y`` of the NTK Gram matrix the
            prediction uses (the exact eigenvalue when ``y`` is an eigenvector), or ``None``.
        predicted: ``(K,)`` float64 iterations the linearised dynamics need
            (``ln ε / (2 ln|1 − η μ_k|)``; ``inf`` where ``μ_k = 0``), or ``None``.
        history_steps: ``(R,)`` int64 iterations at which the loss was recorded.
        history: ``(R, K)`` float64 relative loss (NaN after a run stopped).
        settings: everything else that defines the run (JSON-friendly).
        seconds: wall time of the training loop.
    """

    frequencies: Tensor
    iterations: Tensor
    learned: Tensor
    final_loss: Tensor
    threshold: float
    cap: int
    learning_rate: float
    kernel_eigenvalues: Optional[Tensor]
    predicted: Optional[Tensor]
    history_steps: Tensor
    history: Tensor
    settings: Dict[str, object] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> Dict[str, object]:
        """JSON-friendly record (no history)."""
        return {
            "frequencies": [int(k) for k in self.frequencies],
            "iterations": [int(t) for t in self.iterations],
            "learned": [bool(v) for v in self.learned],
            "final_loss": [float(v) for v in self.final_loss],
            "predicted_iterations": None
            if self.predicted is None
            else [None if not math.isfinite(float(v)) else float(v) for v in self.predicted],
            "kernel_eigenvalues": None
            if self.kernel_eigenvalues is None
            else [float(v) for v in self.kernel_eigenvalues],
            "threshold": self.threshold,
            "cap": self.cap,
            "learning_rate": self.learning_rate,
            "settings": self.settings,
            "seconds": self.seconds,
        }

    @classmethod
    def from_dict(cls, record: Dict[str, Any]) -> "TimeToLearn":
        """Inverse of :meth:`to_dict` (the history is not stored: empty)."""
        predicted = record.get("predicted_iterations")
        eigenvalues = record.get("kernel_eigenvalues")
        count = len(record["frequencies"])
        return cls(
            frequencies=torch.tensor(record["frequencies"], dtype=torch.int64),
            iterations=torch.tensor(record["iterations"], dtype=torch.int64),
            learned=torch.tensor(record["learned"], dtype=torch.bool),
            final_loss=torch.tensor(record["final_loss"], dtype=torch.float64),
            threshold=float(record["threshold"]),
            cap=int(record["cap"]),
            learning_rate=float(record["learning_rate"]),
            kernel_eigenvalues=None
            if eigenvalues is None
            else torch.tensor(eigenvalues, dtype=torch.float64),
            predicted=None
            if predicted is None
            else torch.tensor(
                [math.inf if v is None else v for v in predicted], dtype=torch.float64
            ),
            history_steps=torch.zeros(0, dtype=torch.int64),
            history=torch.zeros(0, count, dtype=torch.float64),
            settings=dict(record.get("settings", {})),
            seconds=float(record.get("seconds", 0.0)),
        )


@dataclass
class PowerLawFit:
    """Least-squares fit ``log t = exponent · log k + log prefactor``.

    Attributes:
        exponent, prefactor: ``t ≈ prefactor · k^exponent``.
        r_squared: coefficient of determination of the log-log fit.
        frequencies: ``(J,)`` the ``k`` used; ``times``: ``(J,)`` the ``t`` used.
    """

    exponent: float
    prefactor: float
    r_squared: float
    frequencies: Tensor
    times: Tensor

    def to_dict(self) -> Dict[str, object]:
        return {
            "exponent": self.exponent,
            "prefactor": self.prefactor,
            "r_squared": self.r_squared,
            "frequencies": [int(k) for k in self.frequencies],
        }


def fit_power_law(
    frequencies: Tensor,
    times: Tensor,
    *,
    k_min: Optional[int] = None,
    k_max: Optional[int] = None,
    mask: Optional[Tensor] = None,
) -> PowerLawFit:
    """Fit ``t ∝ k^exponent`` by least squares on ``(log k, log t)``.

    Args:
        frequencies: ``(K,)`` positive ``k``; ``times``: ``(K,)`` positive finite times.
        k_min, k_max: keep ``k_min <= k <= k_max`` only.
        mask: ``(K,)`` bool, keep only these (e.g. ``TimeToLearn.learned``).

    Raises ``ValueError`` when fewer than 2 distinct ``k`` remain or a kept time is not positive.
    """
    k = torch.as_tensor(frequencies, dtype=torch.float64).reshape(-1)
    t = torch.as_tensor(times, dtype=torch.float64).reshape(-1)
    if k.shape != t.shape:
        raise ValueError(
            f"frequencies and times must have the same length, got {k.numel()} and {t.numel()}"
        )
    keep = torch.ones_like(k, dtype=torch.bool)
    if mask is not None:
        mask = torch.as_tensor(mask, dtype=torch.bool).reshape(-1)
        if mask.shape != k.shape:
            raise ValueError(f"mask must have {k.numel()} entries, got {mask.numel()}")
        keep &= mask
    if k_min is not None:
        keep &= k >= k_min
    if k_max is not None:
        keep &= k <= k_max
    k, t = k[keep], t[keep]
    if torch.unique(k).numel() < 2:
        raise ValueError(
            f"need at least 2 distinct frequencies to fit a power law, got {k.tolist()}"
        )
    if (k <= 0).any():
        raise ValueError(f"frequencies must be positive for a log-log fit, got {k.tolist()}")
    if not (torch.isfinite(t).all() and (t > 0).all()):
        raise ValueError(f"times must be positive and finite for a log-log fit, got {t.tolist()}")
    x, y = k.log(), t.log()
    design = torch.stack([x, torch.ones_like(x)], 1)
    solution = torch.linalg.lstsq(design, y[:, None]).solution[:, 0]
    residual = y - design @ solution
    total = ((y - y.mean()) ** 2).sum()
    r2 = 1.0 - float((residual**2).sum() / total) if float(total) > 0 else 1.0
    return PowerLawFit(float(solution[0]), float(solution[1].exp()), r2, k.to(torch.int64), t)


def predicted_iterations(eigenvalues: Tensor, learning_rate: float, threshold: float) -> Tensor:
    """Iterations the linearised dynamics ``r ← (1 − η μ) r`` need to bring ``r²`` below ``threshold``.

    ``(K,)`` float64: ``ceil(ln ε / (2 ln|1 − η μ|))``, ``0`` if ``ε >= 1``, ``inf`` where ``μ = 0``
    (or where ``|1 − η μ| >= 1``: divergence).
    """
    check_positive("learning_rate", learning_rate)
    check_positive("threshold", threshold)
    mu = torch.as_tensor(eigenvalues, dtype=torch.float64)
    if threshold >= 1:
        return torch.zeros_like(mu)
    factor = (1.0 - learning_rate * mu).abs()
    steps = math.log(threshold) / (2.0 * torch.log(factor.clamp(min=1e-300)))
    steps = torch.where(factor >= 1.0, torch.full_like(mu, math.inf), steps)
    return torch.where(factor == 0, torch.ones_like(mu), torch.ceil(steps))


# --- data -----------------------------------------------------------------------------------


def circle_points(points: int) -> Tuple[Tensor, Tensor]:
    """Uniform grid on S¹: ``θ (n,)`` = ``2π i/n`` and ``x (n, 2)`` = ``(cos θ, sin θ)``, float64."""
    check_count("points", points)
    theta = torch.arange(points, dtype=torch.float64) * (2 * math.pi / points)
    return theta, torch.stack([theta.cos(), theta.sin()], 1)


def sphere_points(points: int) -> Tensor:
    """Fibonacci lattice on S²: ``(n, 3)`` float64, ``z_i = 1 − (2i + 1)/n`` (equal-area rings)."""
    check_count("points", points)
    i = torch.arange(points, dtype=torch.float64)
    z = 1.0 - (2.0 * i + 1.0) / points
    phi = i * math.pi * (3.0 - math.sqrt(5.0))
    r = (1.0 - z**2).clamp(min=0).sqrt()
    return torch.stack([r * phi.cos(), r * phi.sin(), z], 1)


def _legendre(k: int, z: Tensor) -> Tensor:
    previous, current = torch.ones_like(z), z
    if k == 0:
        return previous
    for n in range(1, k):
        previous, current = current, ((2 * n + 1) * z * current - n * previous) / (n + 1)
    return current


def _check_frequencies(frequencies: Sequence[int], points: int, domain: str) -> Tensor:
    if isinstance(frequencies, Tensor):
        frequencies = frequencies.tolist()
    values = list(frequencies)
    if not values:
        raise ValueError("frequencies is empty: give at least one k")
    for k in values:
        check_count("frequencies", k)
    if domain == "circle" and max(values) >= points / 2:
        raise ValueError(
            f"frequencies must stay below the Nyquist limit points/2 = {points / 2:g} of the grid, got k = {max(values)}"
        )
    return torch.tensor(values, dtype=torch.int64)


def targets(domain: str, frequencies: Tensor, points: int) -> Tuple[Tensor, Tensor]:
    """Inputs ``(n, d)`` and targets ``(K, n)``, float64.

    Circle: ``sin kθ`` on the uniform grid. Sphere: the zonal harmonic ``√(2k+1) P_k(z)`` on the
    Fibonacci lattice (unit mean square; every degree-``k`` harmonic has the same eigenvalue).
    """
    check_choice("domain", domain, DOMAINS)
    if domain == "circle":
        theta, x = circle_points(points)
        return x, torch.sin(frequencies.to(torch.float64)[:, None] * theta[None, :])
    x = sphere_points(points)
    y = torch.stack([math.sqrt(2 * int(k) + 1) * _legendre(int(k), x[:, 2]) for k in frequencies])
    return x, y


def _rayleigh(gram: Tensor, y: Tensor, top: float) -> Tensor:
    """``yᵀ H y / yᵀ y`` per row of ``y (K, n)``: ``(K,)``; values below ``1e-9 top`` (rounding noise
    of an exact zero, e.g. odd ``k ≥ 3`` without bias) are set to 0."""
    mu = ((y @ gram) * y).sum(1) / (y * y).sum(1)
    return torch.where(mu.abs() <= 1e-9 * top, torch.zeros_like(mu), mu)


# --- training loop shared by both nets ------------------------------------------------------


def _history_stride(cap: int, records: int = 200) -> int:
    return max(1, cap // records)


class _Recorder:
    def __init__(self, count: int, cap: int) -> None:
        self.stride = _history_stride(cap)
        self.steps: List[int] = []
        self.rows: List[Tensor] = []
        self.count = count

    def record(self, step: int, active: Tensor, loss: Tensor) -> None:
        if step % self.stride:
            return
        row = torch.full((self.count,), math.nan, dtype=torch.float64)
        row[active] = loss.detach().to(torch.float64)
        self.steps.append(step)
        self.rows.append(row)

    def tensors(self) -> Tuple[Tensor, Tensor]:
        if not self.rows:
            return torch.zeros(0, dtype=torch.int64), torch.zeros(
                0, self.count, dtype=torch.float64
            )
        return torch.tensor(self.steps, dtype=torch.int64), torch.stack(self.rows)


def _train(
    state: List[Tensor],
    loss_of: Callable[[List[Tensor], Tensor], Tuple[Tensor, Any]],
    update: Callable[[List[Tensor], Tensor, Any], List[Tensor]],
    y: Tensor,
    threshold: float,
    cap: int,
) -> Tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """Gradient descent on all frequencies at once, dropping each from the batch once learned.

    ``loss_of(state, y_active) -> (residual (A, n), anything the update needs)``; ``update(state,
    residual, extra) -> new state``; every tensor in ``state`` has the active batch as dim 0.
    Returns iterations, learned, final relative loss, history steps, history.
    """
    count = y.shape[0]
    energy = (y.to(torch.float64) ** 2).sum(1)
    iterations = torch.full((count,), cap, dtype=torch.int64)
    learned = torch.zeros(count, dtype=torch.bool)
    final = torch.full((count,), math.nan, dtype=torch.float64)
    active = torch.arange(count)
    recorder = _Recorder(count, cap)
    for step in range(cap + 1):
        residual, extra = loss_of(state, y[active])
        relative = (residual.detach().to(torch.float64) ** 2).sum(1) / energy[active]
        if not torch.isfinite(relative).all():
            bad = active[~torch.isfinite(relative)].tolist()
            raise FloatingPointError(
                f"gradient descent diverged at iteration {step} for target(s) {bad}: lower the learning rate"
            )
        recorder.record(step, active, relative)
        done = relative < threshold
        if done.any():
            iterations[active[done]] = step
            learned[active[done]] = True
        final[active] = relative
        if step == cap:
            break
        if done.any():
            keep = ~done
            active = active[keep]
            if active.numel() == 0:
                break
            state = [s[keep] for s in state]
            residual, extra = loss_of(state, y[active])
        state = update(state, residual, extra)
    steps, history = recorder.tensors()
    return iterations, learned, final, steps, history


# --- shallow: two-layer ReLU, first layer trained -------------------------------------------


def _augment(x: Tensor, bias: bool) -> Tensor:
    """``x̄ = (x, 1)/√2`` with bias, ``x`` without: ``(n, d) -> (n, d + bias)``."""
    if not bias:
        return x
    return torch.cat([x, torch.ones_like(x[:, :1])], 1) / math.sqrt(2.0)


def kernel_gram(x: Tensor, bias: bool) -> Tensor:
    """Infinite-width NTK Gram matrix ``H_ij = K(x_i·x_j)`` of the shallow net on unit vectors
    ``x (n, d)``: ``(n, n)`` float64. The angle comes from ``2 asin(|x_i − x_j|/2)`` (accurate
    near 0, where ``arccos(x_i·x_j)`` loses half the digits)."""
    x = x.to(torch.float64)
    distance = torch.cdist(x, x, compute_mode="donot_use_mm_for_euclid_dist")
    return angle_ntk(2.0 * torch.asin((distance / 2).clamp(max=1.0)), bias)


Step = Tuple[
    Callable[[List[Tensor], Tensor], Tuple[Tensor, Any]],
    Callable[[List[Tensor], Tensor, Any], List[Tensor]],
]


def _time_to_learn(
    k: Tensor,
    y: Tensor,
    gram: Tensor,
    state: List[Tensor],
    make_step: Callable[[float], Step],
    *,
    threshold: float,
    cap: int,
    learning_rate: Optional[float],
    lr_factor: float,
    settings: Dict[str, object],
    dtype: torch.dtype,
) -> TimeToLearn:
    """The part both nets share: ``η`` (``lr_factor / μ_max`` of ``gram`` unless given), the
    kernel's ``μ_k`` and predicted times, batched training from ``state`` with the
    ``(loss_of, update)`` pair that ``make_step(η)`` returns, and the :class:`TimeToLearn`."""
    top = float(torch.linalg.eigvalsh(gram)[-1])
    lr = (
        lr_factor / top if learning_rate is None else check_positive("learning_rate", learning_rate)
    )
    mu = _rayleigh(gram, y, top)
    loss_of, update = make_step(lr)
    started = time.perf_counter()
    iterations, learned, final, steps, history = _train(
        state, loss_of, update, y.to(dtype), threshold, cap
    )
    settings = {
        **settings,
        "lr_factor": lr_factor if learning_rate is None else None,
        "kernel_top_eigenvalue": top,
        "dtype": str(dtype).replace("torch.", ""),
    }
    return TimeToLearn(
        frequencies=k,
        iterations=iterations,
        learned=learned,
        final_loss=final,
        threshold=float(threshold),
        cap=cap,
        learning_rate=lr,
        kernel_eigenvalues=mu,
        predicted=predicted_iterations(mu, lr, threshold),
        history_steps=steps,
        history=history,
        settings=settings,
        seconds=time.perf_counter() - started,
    )


def _check_settings(points: int, width: int, threshold: float, lr_factor: float) -> None:
    check_count("points", points, minimum=2)
    check_count("width", width, minimum=1)
    check_positive("threshold", threshold)
    check_positive("lr_factor", lr_factor)


def _paired_first_layer(
    width: int, d: int, bias: bool, init_scale: float, seed: int, dtype: torch.dtype
) -> Tuple[Tensor, Tensor]:
    """``W_0 (m, d̄)``: ``N(0, σ²)`` rows, bias weight 0, paired (``w_{r+m/2} = w_r``), and
    ``a (m,)``: ``+1/√m`` then ``−1/√m``, so that ``f_0 ≡ 0``."""
    generator = torch.Generator().manual_seed(seed)
    half = torch.randn(width // 2, d, generator=generator, dtype=torch.float64) * init_scale
    if bias:
        half = torch.cat([half, torch.zeros(width // 2, 1, dtype=torch.float64)], 1)
    a = torch.cat([torch.ones(width // 2), -torch.ones(width // 2)]) / math.sqrt(width)
    return torch.cat([half, half]).to(dtype), a.to(dtype)


def _shallow_step(xb: Tensor, a: Tensor) -> Callable[[float], Step]:
    """Hand-written gradient descent of the two-layer net on inputs ``xb (n, d̄)``, ``a (m,)``."""
    xt = xb.T.contiguous()

    def make_step(lr: float) -> Step:
        def loss_of(state: List[Tensor], y_active: Tensor):
            pre = torch.bmm(state[0], xt.expand(state[0].shape[0], *xt.shape))  # (A, m, n)
            active = torch.sign(pre).clamp_(min=0)  # ReLU pattern 1(w_r·x̄_i > 0), as floats
            return torch.matmul(a, pre.clamp_(min=0)) - y_active, active

        def update(state: List[Tensor], residual: Tensor, active) -> List[Tensor]:
            # ∂L/∂w_r = a_r Σ_i r_i 1(w_r·x̄_i > 0) x̄_i
            grad = torch.matmul(active, residual[:, :, None] * xb) * a[None, :, None]
            return [state[0] - lr * grad]

        return loss_of, update

    return make_step


def shallow_time_to_learn(
    frequencies: Sequence[int],
    *,
    domain: str = "circle",
    points: int = 128,
    width: int = 2048,
    bias: bool = True,
    threshold: float = 0.05,
    max_iterations: int = 5000,
    learning_rate: Optional[float] = None,
    lr_factor: float = 1.0,
    init_scale: float = 1.0,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
) -> TimeToLearn:
    """Time to learn each ``k`` with the two-layer ReLU net of Basri et al. (first layer trained).

    ``domain``: ``"circle"`` (``sin kθ``, ``k < points/2``) or ``"sphere"`` (zonal harmonic of
    degree ``k``); ``width`` ``m`` even (paired initialisation, ``f_0 ≡ 0``); ``bias``: the
    appended coordinate, its weight starting at 0; ``init_scale``: ``σ`` of ``W_0 ~ N(0, σ²)``
    (large ``σ`` keeps the kernel regime, module docstring); ``learning_rate``: default
    ``lr_factor / μ_max`` of the infinite-width Gram matrix; ``seed``: ``W_0``, the same for every
    ``k``. ``predicted`` uses that Gram matrix's ``μ_k`` (exact eigenvalues on the circle grid).
    """
    check_choice("domain", domain, DOMAINS)
    _check_settings(points, width, threshold, lr_factor)
    if width % 2:
        raise ValueError(f"width must be even (paired initialisation), got {width}")
    check_positive("init_scale", init_scale)
    k = _check_frequencies(frequencies, points, domain)
    x, y = targets(domain, k, points)
    w0, a = _paired_first_layer(width, x.shape[1], bias, init_scale, seed, dtype)

    settings = {
        "net": "two-layer ReLU, f = Σ a_r relu(w_r·x̄)/√m, a_r = ±1 fixed, first layer trained, paired init (f_0 = 0)",
        "domain": domain,
        "points": points,
        "width": width,
        "bias": bias,
        "bias_input": "x̄ = (x, 1)/√2, bias weight initialised at 0" if bias else None,
        "init_scale": init_scale,
        "seed": seed,
    }
    with torch.no_grad():
        return _time_to_learn(
            k,
            y,
            kernel_gram(x, bias),
            [w0.expand(len(k), *w0.shape).clone()],
            _shallow_step(_augment(x, bias).to(dtype), a),
            threshold=threshold,
            cap=check_count("max_iterations", max_iterations, minimum=0),
            learning_rate=learning_rate,
            lr_factor=lr_factor,
            settings=settings,
            dtype=dtype,
        )


# --- deep: ReLU MLP, all layers trained -----------------------------------------------------


def _init_mlp(
    in_dim: int, width: int, depth: int, bias: bool, generator: torch.Generator
) -> List[Tuple[Tensor, Optional[Tensor]]]:
    """PyTorch's ``nn.Linear`` default: weight and bias ``U(−1/√fan_in, 1/√fan_in)``; weights as ``(in, out)``."""
    layers = []
    sizes = [in_dim] + [width] * depth + [1]
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1.0 / math.sqrt(fan_in)
        weight = (
            torch.rand(fan_in, fan_out, generator=generator, dtype=torch.float64) * 2 - 1
        ) * bound
        b = (
            (torch.rand(fan_out, generator=generator, dtype=torch.float64) * 2 - 1) * bound
            if bias
            else None
        )
        layers.append((weight, b))
    return layers


def _mlp_forward(params: List[Tensor], features: Tensor, bias: bool) -> Tensor:
    """Batched MLP: ``params`` = per layer ``W (A, in, out)`` [and ``b (A, out)``]; ``features (n, F)`` -> ``(A, n)``."""
    step = 2 if bias else 1
    count = len(params) // step
    h = features
    for index in range(count):
        weight = params[index * step]
        if h.dim() == 2:
            h = torch.matmul(h, weight)  # (A, n, out) by broadcasting
            if bias:
                h = h + params[index * step + 1][:, None, :]
        elif bias:
            h = torch.baddbmm(params[index * step + 1][:, None, :], h, weight)
        else:
            h = torch.bmm(h, weight)
        if index < count - 1:
            h = torch.relu(h)
    return h[..., 0]


def mlp_ntk_gram(layers: Sequence[Tuple[Tensor, Optional[Tensor]]], features: Tensor) -> Tensor:
    """Exact empirical NTK of a ReLU MLP with scalar output: ``(n, n)``.

    ``layers``: per layer ``(W (in, out), b (out,) or None)``, ReLU after every layer but the
    last; ``features (n, in)``. With ``z_l = h_{l−1} W_l + b_l`` and ``δ_l = ∂f/∂z_l`` per point,
    ``∂f(x_i)/∂W_l = h_{l−1,i} ⊗ δ_{l,i}`` and ``∂f(x_i)/∂b_l = δ_{l,i}``, so
    ``Θ = Σ_l (h_{l−1} h_{l−1}ᵀ + [bias]) ⊙ (δ_l δ_lᵀ)``: one forward and one backward pass
    instead of a Jacobian with a row per point (equal to :func:`~coordnet.spectral.empirical_ntk.ntk_gram`).
    """
    h = features
    inputs: List[Tensor] = []
    pre: List[Tensor] = []
    for index, (weight, b) in enumerate(layers):
        inputs.append(h)
        z = h @ weight + (b if b is not None else 0.0)
        if index == 0:  # the graph starts here; later z_l are non-leaf tensors of the same graph
            z = z.detach().requires_grad_(True)
        pre.append(z)
        h = torch.relu(z) if index < len(layers) - 1 else z
    deltas = torch.autograd.grad(h.sum(), pre)
    gram = torch.zeros(features.shape[0], features.shape[0], dtype=features.dtype)
    for (_weight, b), h_in, delta in zip(layers, inputs, deltas):
        h_in = h_in.detach()
        left = h_in @ h_in.T
        if b is not None:
            left = left + 1.0
        gram = gram + left * (delta @ delta.T)
    return gram.detach()


def circle_features(points: int, encoding: Optional[nn.Module] = None) -> Tensor:
    """Inputs of the deep net on the circle grid: ``(cos θ, sin θ)`` ``(n, 2)``, or ``encoding(t)`` with
    ``t = θ/(2π) = i/n`` as ``(n, 1)`` (``(n, encoding.out_dim)``), float64."""
    theta, x = circle_points(points)
    if encoding is None:
        return x
    with torch.no_grad():
        return encoding.to(torch.float64)((theta / (2 * math.pi))[:, None]).to(torch.float64)


def _deep_step(feats: Tensor, initial: Tensor, bias: bool) -> Callable[[float], Step]:
    """Autograd gradient descent on ``½ Σ r²`` of the batched MLP, its initial output subtracted."""

    def make_step(lr: float) -> Step:
        def loss_of(state: List[Tensor], y_active: Tensor):
            params = [s.detach().requires_grad_(True) for s in state]
            residual = _mlp_forward(params, feats, bias) - initial - y_active
            return residual.detach(), torch.autograd.grad(0.5 * (residual**2).sum(), params)

        def update(state: List[Tensor], residual: Tensor, grads) -> List[Tensor]:
            return [s - lr * g for s, g in zip(state, grads)]

        return loss_of, update

    return make_step


def deep_time_to_learn(
    frequencies: Sequence[int],
    *,
    points: int = 128,
    width: int = 256,
    depth: int = 3,
    bias: bool = True,
    encoding: Optional[nn.Module] = None,
    threshold: float = 0.05,
    max_iterations: int = 5000,
    learning_rate: Optional[float] = None,
    lr_factor: float = 0.125,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
) -> TimeToLearn:
    """Time to learn ``sin kθ`` on the circle with a deep ReLU MLP, all layers trained.

    ``depth`` hidden layers of ``width``, biases everywhere or nowhere (``bias``); ``encoding``:
    ``None`` (raw ``(cos θ, sin θ)``) or a fixed encoder of ``t = θ/2π ∈ [0, 1)``; other
    arguments as :func:`shallow_time_to_learn`, the default ``η`` from the empirical NTK at
    initialisation, whose ``μ_k`` give ``predicted`` (a reference: a finite deep net leaves the
    linear regime).
    """
    _check_settings(points, width, threshold, lr_factor)
    check_count("depth", depth)
    if encoding is not None and not isinstance(encoding, nn.Module):
        raise TypeError(f"encoding must be an nn.Module or None, got {type(encoding).__name__}")
    k = _check_frequencies(frequencies, points, "circle")
    _, y = targets("circle", k, points)
    features = circle_features(points, encoding)
    layers = _init_mlp(features.shape[1], width, depth, bias, torch.Generator().manual_seed(seed))
    flat = [t for layer in layers for t in layer if t is not None]
    with torch.no_grad():  # (n,) output at initialisation, subtracted
        initial = _mlp_forward([t[None] for t in flat], features, bias)[0].to(dtype)

    settings = {
        "net": f"ReLU MLP, {depth} hidden layers of {width}, nn.Linear init, all layers trained, output at init subtracted",
        "domain": "circle",
        "points": points,
        "width": width,
        "depth": depth,
        "bias": bias,
        "encoding": None if encoding is None else repr(encoding),
        "input": "(cos θ, sin θ)" if encoding is None else "encoding(θ/2π)",
        "seed": seed,
    }
    return _time_to_learn(
        k,
        y,
        mlp_ntk_gram(layers, features),
        [t.to(dtype).expand(len(k), *t.shape).clone() for t in flat],
        _deep_step(features.to(dtype), initial, bias),
        threshold=threshold,
        cap=check_count("max_iterations", max_iterations, minimum=0),
        learning_rate=learning_rate,
        lr_factor=lr_factor,
        settings=settings,
        dtype=dtype,
    )
