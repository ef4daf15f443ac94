"""Basri/Ronen et al. (2019)'s own training runs (``ykasten/Convergence-Rate-NN-Different-Frequencies``),
ported: many independent runs per frequency, the time to learn averaged over them.

**Shallow** (:func:`authors_shallow`; ``Shallow/WithBias_1D``, ``NoBias_1D``, ``WithBias_2D``):
``n`` random points (S¹: ``θ ~ U(−π, π)``, ``x = (cos θ, sin θ)``; S²: normalised Gaussian vectors),
target ``sin kθ`` (S²: the zonal harmonic ``P_k(z)``) scaled to unit norm,
``f(x) = Σ_r a_r relu(w_r·x + b_r)/√m`` with ``W ~ N(0, σ²)``, ``b = 0`` (trained; absent without
bias), ``a_r = ±1`` random and fixed; plain gradient descent on ``½ Σ (f − y)²``; learned when
that loss is below 0.05 (relative residual ``Σ(f − y)²/Σy² < 0.1``). The authors' step
``η = 0.01`` is ``η·λ_max ≈ 3.5`` of the network's NTK at initialisation, above the stability
limit 2: the loss first grows by orders of magnitude, then the ReLU patterns rearrange and it
recovers. ``lr_factor`` runs the same protocol with the stable step ``η = lr_factor/λ_max``.

**Deep** (:func:`authors_deep`; ``Deep/deep5_1D``): ``depth`` hidden ReLU layers of ``width``
(``kaiming_normal_(a=√5)`` weights, PyTorch's default biases, an output layer without bias),
``n`` random points, target ``sin k(θ + φ)`` with a random phase ``φ ~ U(−π, π)``, full-batch SGD
on the mean squared error; learned when it is below 5% of ``mean(y²)``.

Each run draws its own points, phases and weights (the authors seed every ``(k, run)`` apart).
Time = number of updates until learned, the cap when not; :meth:`RunsToLearn.mean` averages the
runs as the authors' ``readAndPlot.m`` (not-learned runs count at the cap).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import torch
from torch import Tensor

from coordnet.spectral.convergence import _legendre, _train
from coordnet.validation import check_choice, check_count, check_positive

DOMAINS = ("circle", "sphere")


def _finite_or_none(values: list) -> list:
    """Nested lists of floats with NaN as ``None`` (JSON has no NaN)."""
    if isinstance(values, list):
        return [_finite_or_none(v) for v in values]
    return None if math.isnan(values) else values


def _nan_for_none(values: object) -> Tensor:
    def fill(v: object) -> object:
        return [fill(item) for item in v] if isinstance(v, list) else (math.nan if v is None else v)

    return torch.tensor(fill(values), dtype=torch.float64)


@dataclass
class RunsToLearn:
    """Times to learn of ``R`` runs per frequency.

    ``iterations (K, R)`` int64 (the cap where not learned), ``learned (K, R)`` bool,
    ``peak_loss (K, R)`` float64 the largest relative residual ``Σ(f − y)²/Σy²`` seen during the
    run, ``initial_loss (K, R)`` the one at initialisation (a peak far above it: the loss grew
    before it fell), ``eta_lambda_max (R,)`` the step times the
    largest NTK eigenvalue at initialisation of each run's first frequency."""

    frequencies: Tensor
    iterations: Tensor
    learned: Tensor
    peak_loss: Tensor
    initial_loss: Tensor
    eta_lambda_max: Tensor
    threshold: float
    cap: int
    settings: Dict[str, object] = field(default_factory=dict)

    def mean(self) -> Tensor:
        """``(K,)`` float64 mean time over the runs (not-learned runs at the cap)."""
        return self.iterations.double().mean(1)

    def to_dict(self) -> Dict[str, object]:
        return {
            "frequencies": self.frequencies.tolist(),
            "iterations": self.iterations.tolist(),
            "learned": self.learned.tolist(),
            "peak_loss": _finite_or_none(self.peak_loss.tolist()),
            "initial_loss": _finite_or_none(self.initial_loss.tolist()),
            "eta_lambda_max": _finite_or_none(self.eta_lambda_max.tolist()),
            "threshold": self.threshold,
            "cap": self.cap,
            "settings": self.settings,
        }

    @classmethod
    def from_dict(cls, record: Dict[str, object]) -> "RunsToLearn":
        return cls(
            frequencies=torch.tensor(record["frequencies"], dtype=torch.int64),
            iterations=torch.tensor(record["iterations"], dtype=torch.int64),
            learned=torch.tensor(record["learned"], dtype=torch.bool),
            peak_loss=_nan_for_none(record["peak_loss"]),
            initial_loss=_nan_for_none(record["initial_loss"]),
            eta_lambda_max=_nan_for_none(record["eta_lambda_max"]),
            threshold=float(record["threshold"]),  # type: ignore[arg-type]
            cap=int(record["cap"]),  # type: ignore[call-overload]
            settings=dict(record.get("settings", {})),  # type: ignore[call-overload]
        )


def random_data(
    domain: str,
    k: Sequence[int],
    points: int,
    generator: torch.Generator,
    phase: bool = False,
    unit_norm: bool = True,
) -> tuple[Tensor, Tensor]:
    """Inputs ``(K, n, d)`` and targets ``(K, n)``, float64, fresh points per ``k``.

    Circle: ``θ ~ U(−π, π)``, target ``sin k(θ + φ)`` (``φ ~ U(−π, π)`` with ``phase``, else 0).
    Sphere: normalised Gaussian vectors, target ``P_k(z)``. ``unit_norm``: each target scaled
    to unit norm (the shallow runs), else as drawn (the deep runs)."""
    count = len(k)
    kk = torch.tensor(list(k), dtype=torch.float64)[:, None]
    if domain == "circle":
        theta = (
            torch.rand(count, points, generator=generator, dtype=torch.float64) * 2 - 1
        ) * math.pi
        shift = (torch.rand(count, 1, generator=generator, dtype=torch.float64) * 2 - 1) * math.pi
        y = torch.sin(kk * (theta + (shift if phase else 0.0)))
        x = torch.stack([theta.cos(), theta.sin()], -1)
    else:
        x = torch.randn(count, points, 3, generator=generator, dtype=torch.float64)
        x = x / x.norm(dim=-1, keepdim=True)
        y = torch.stack([_legendre(int(kv), x[i, :, 2]) for i, kv in enumerate(k)])
    return x, y / y.norm(dim=1, keepdim=True) if unit_norm else y


def _shallow_lambda_max(x: Tensor, w: Tensor, b: Optional[Tensor]) -> float:
    """Largest eigenvalue of the shallow net's NTK (first layer) at initialisation on ``x (n, d)``:
    ``H = (x xᵀ [+ 1]) ⊙ (P Pᵀ)/m`` with ``P`` the ReLU patterns."""
    pre = x @ w + (0.0 if b is None else b)
    pattern = (pre >= 0).double()
    inner = x @ x.T + (0.0 if b is None else 1.0)
    gram = inner * (pattern @ pattern.T) / w.shape[1]
    return float(torch.linalg.eigvalsh(gram)[-1])


def _shallow_run(
    k: Sequence[int],
    domain: str,
    points: int,
    width: int,
    sigma: float,
    bias: bool,
    lr: Optional[float],
    lr_factor: float,
    threshold: float,
    cap: int,
    generator: torch.Generator,
) -> tuple[Tensor, Tensor, Tensor, Tensor, float]:
    """One run of every ``k`` (batched): iterations, learned, peak and initial relative loss,
    η·λ_max."""
    x, y = random_data(domain, k, points, generator)
    count, d = len(k), x.shape[-1]
    w = torch.randn(count, d, width, generator=generator, dtype=torch.float64) * sigma
    signs = torch.where(torch.randn(count, width, generator=generator) > 0, 1.0, -1.0).double()
    b = torch.zeros(count, width, dtype=torch.float64)
    top = _shallow_lambda_max(x[0], w[0], b[0] if bias else None)
    eta = lr if lr is not None else lr_factor / top
    peak = torch.zeros(count, dtype=torch.float64)
    initial = torch.full((count,), math.nan, dtype=torch.float64)
    scale = 1.0 / math.sqrt(width)

    def loss_of(state: List[Tensor], y_active: Tensor):
        w_, b_, x_, a_, ids = state
        pre = torch.baddbmm(b_[:, None, :] * bias, x_, w_)  # (A, n, m)
        on = (pre >= 0).to(pre.dtype)
        residual = torch.einsum("anm,am->an", pre.clamp(min=0), a_) * scale - y_active
        loss = (residual.double() ** 2).sum(1)
        peak[ids] = torch.maximum(peak[ids], loss)
        initial[ids] = torch.where(initial[ids].isnan(), loss, initial[ids])
        return residual, on

    def update(state: List[Tensor], residual: Tensor, on: Tensor) -> List[Tensor]:
        w_, b_, x_, a_, ids = state
        g = on * residual[:, :, None] * a_[:, None, :] * scale  # ∂L/∂pre, (A, n, m)
        return [
            w_ - eta * torch.bmm(x_.transpose(1, 2), g),
            b_ - eta * g.sum(1) * bias,
            x_,
            a_,
            ids,
        ]

    state = [w.float(), b.float(), x.float(), signs.float(), torch.arange(count)]
    with torch.no_grad():
        iterations, learned, _, _, _ = _train(state, loss_of, update, y.float(), threshold, cap)
    return iterations, learned, peak, initial, eta * top


def authors_shallow(
    frequencies: Sequence[int],
    *,
    runs: int,
    domain: str = "circle",
    points: int = 1001,
    width: int = 4000,
    init_scale: float = 2.5,
    bias: bool = True,
    learning_rate: Optional[float] = 0.01,
    lr_factor: float = 1.0,
    threshold: float = 0.1,
    max_iterations: int = 50000,
    seed: int = 0,
) -> RunsToLearn:
    """``runs`` runs of the authors' shallow experiment for every ``k`` (module docstring).

    ``learning_rate``: the authors' ``η`` (0.01); ``None`` takes ``lr_factor/λ_max`` of each
    run's NTK at initialisation (a stable step). ``seed``: run ``r`` draws from ``seed + r``."""
    check_choice("domain", domain, DOMAINS)
    check_count("runs", runs)
    check_count("points", points, minimum=2)
    check_count("width", width)
    check_positive("init_scale", init_scale)
    check_positive("threshold", threshold)
    cap = check_count("max_iterations", max_iterations, minimum=0)
    k = [check_count("frequencies", int(v)) for v in frequencies]
    results = [
        _shallow_run(
            k,
            domain,
            points,
            width,
            init_scale,
            bias,
            learning_rate,
            lr_factor,
            threshold,
            cap,
            torch.Generator().manual_seed(seed + r),
        )
        for r in range(runs)
    ]
    return RunsToLearn(
        frequencies=torch.tensor(k, dtype=torch.int64),
        iterations=torch.stack([r[0] for r in results], 1),
        learned=torch.stack([r[1] for r in results], 1),
        peak_loss=torch.stack([r[2] for r in results], 1),
        initial_loss=torch.stack([r[3] for r in results], 1),
        eta_lambda_max=torch.tensor([r[4] for r in results], dtype=torch.float64),
        threshold=threshold,
        cap=cap,
        settings={
            "net": "f = Σ a_r relu(w_r·x + b_r)/√m, a_r = ±1 random, b trained from 0"
            if bias
            else "f = Σ a_r relu(w_r·x)/√m, a_r = ±1 random",
            "domain": domain,
            "points": points,
            "width": width,
            "init_scale": init_scale,
            "bias": bias,
            "runs": runs,
            "seed": seed,
            "learning_rate": learning_rate,
            "lr_factor": None if learning_rate else lr_factor,
            "points_drawn": "uniform θ per (k, run)"
            if domain == "circle"
            else "uniform on S² per (k, run)",
        },
    )


def _kaiming_layers(
    count: int, width: int, depth: int, generator: torch.Generator
) -> tuple[List[Tensor], List[Tensor]]:
    """``count`` nets: weights ``(count, in, out)`` ``N(0, 1/(3 fan_in))`` (``kaiming_normal_``
    with ``a = √5``), hidden biases ``U(±1/√fan_in)``, no output bias."""
    sizes = [2] + [width] * depth + [1]
    weights, biases = [], []
    for index, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        std = 1.0 / math.sqrt(3.0 * fan_in)
        weights.append(torch.randn(count, fan_in, fan_out, generator=generator) * std)
        if index < depth:
            bound = 1.0 / math.sqrt(fan_in)
            biases.append((torch.rand(count, fan_out, generator=generator) * 2 - 1) * bound)
    return weights, biases


def _deep_run(
    k: Sequence[int],
    points: int,
    width: int,
    depth: int,
    lr: float,
    threshold: float,
    cap: int,
    generator: torch.Generator,
) -> tuple[Tensor, Tensor]:
    x, y = random_data("circle", k, points, generator, phase=True, unit_norm=False)
    weights, biases = _kaiming_layers(len(k), width, depth, generator)

    def loss_of(state: List[Tensor], y_active: Tensor):
        params = [s.detach().requires_grad_(True) for s in state[:-1]]
        h = state[-1]
        for w_, b_ in zip(params[:depth], params[depth + 1 :]):
            h = torch.relu(torch.baddbmm(b_[:, None, :], h, w_))
        residual = torch.bmm(h, params[depth])[..., 0] - y_active
        grads = torch.autograd.grad((residual**2).mean(1).sum(), params)
        return residual.detach(), grads

    def update(state: List[Tensor], residual: Tensor, grads) -> List[Tensor]:
        return [s - lr * g for s, g in zip(state[:-1], grads)] + [state[-1]]

    state = weights + biases + [x.float()]
    iterations, learned, _, _, _ = _train(state, loss_of, update, y.float(), threshold, cap)
    return iterations, learned


def authors_deep(
    frequencies: Sequence[int],
    *,
    runs: int,
    points: int = 1001,
    width: int = 256,
    depth: int = 5,
    learning_rate: float = 0.05,
    threshold: float = 0.05,
    max_iterations: int = 100000,
    seed: int = 0,
) -> RunsToLearn:
    """``runs`` runs of the authors' deep experiment (``config.py``) for every ``k``."""
    check_count("runs", runs)
    check_count("points", points, minimum=2)
    check_count("width", width)
    check_count("depth", depth)
    check_positive("learning_rate", learning_rate)
    check_positive("threshold", threshold)
    cap = check_count("max_iterations", max_iterations, minimum=0)
    k = [check_count("frequencies", int(v)) for v in frequencies]
    results = [
        _deep_run(
            k,
            points,
            width,
            depth,
            learning_rate,
            threshold,
            cap,
            torch.Generator().manual_seed(seed + r),
        )
        for r in range(runs)
    ]
    iterations = torch.stack([r[0] for r in results], 1)
    return RunsToLearn(
        frequencies=torch.tensor(k, dtype=torch.int64),
        iterations=iterations,
        learned=torch.stack([r[1] for r in results], 1),
        peak_loss=torch.full(iterations.shape, math.nan, dtype=torch.float64),
        initial_loss=torch.full(iterations.shape, math.nan, dtype=torch.float64),
        eta_lambda_max=torch.full((runs,), math.nan, dtype=torch.float64),
        threshold=threshold,
        cap=cap,
        settings={
            "net": f"{depth} hidden ReLU layers of {width}, kaiming_normal_(a=√5), no output bias",
            "points": points,
            "optimizer": f"full-batch SGD lr {learning_rate} on the MSE",
            "target": "sin k(θ + φ), φ ~ U(−π, π) per run",
            "runs": runs,
            "seed": seed,
        },
    )
