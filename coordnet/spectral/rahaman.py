"""The experiments of Rahaman et al. 2019, "On the Spectral Bias of Neural Networks" (arXiv 1806.08734).

* Exp. 1, frequency-resolved learning: fit ``Σ_i A_i sin(2π k_i t + 2π φ_i)`` sampled at
  ``t_j = j / n`` (``n = 200`` points of ``[0, 1)``; ``k = 5, 10, ..., 50``; ``φ_i ~ U(0, 1)``;
  ``A_i = 1`` or ``A_i = 0.1 i``) with full-batch Adam and record ``|f̂_θ(k_i)| / A_i`` over
  training (:func:`sinusoid_target`, :func:`train_spectral_run`): the heat map of Fig. 1.
* Exp. 2, parameter perturbation: the spectrum of ``f_{θ + δ u}`` for random unit-norm
  directions ``u`` in parameter space, relative to the trained ``f_θ`` (:func:`perturbation_spectrum`).
* The manifold experiment: data on the closed curve
  ``γ_L(φ) = (1 + 0.5 sin Lφ)(cos φ, sin φ)`` in R², target ``sin(k φ)``; how well a net
  ``R² -> R`` learns frequency ``k`` along the curve, as a function of ``L``
  (:func:`flower_curve`, :func:`manifold_experiment`).

Nothing here draws: the results are dataclasses of tensors (figures: :mod:`coordnet.plots.spectral`).
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Union

import torch
from torch import Tensor, nn

from coordnet.spectral.curves import FrequencyCurves, LearningOrder
from coordnet.spectral.probe import SpectrumProbe
from coordnet.spectral.spectrum import (
    amplitudes,
    check_frequencies,
    fourier_coefficients,
    unit_grid,
)
from coordnet.training.trainer import Samples, TrainConfig, Trainer, predict
from coordnet.validation import check_choice, check_count, check_positive

PAPER_FREQUENCIES = tuple(range(5, 55, 5))
PAPER_POINTS = 200
AMPLITUDE_CASES = ("equal", "increasing")


@dataclass
class SinusoidTarget:
    """``f(t) = Σ_i A_i sin(2π k_i t + 2π φ_i)``.

    Attributes:
        frequencies: int64 ``(K,)``, ``k_i`` (cycles per unit).
        amplitudes: float64 ``(K,)``, ``A_i > 0``.
        phases: float64 ``(K,)``, ``φ_i`` in turns (``[0, 1)``).
    """

    frequencies: Tensor
    amplitudes: Tensor
    phases: Tensor

    def __call__(self, t: Tensor) -> Tensor:
        """``f(t)`` for ``t (...)``: float64 ``(...)``."""
        t = t.to(torch.float64)[..., None]
        waves = torch.sin(2 * math.pi * (self.frequencies.to(torch.float64) * t + self.phases))
        return (self.amplitudes * waves).sum(-1)

    def to_dict(self) -> Dict[str, list]:
        return {
            "frequencies": self.frequencies.tolist(),
            "amplitudes": self.amplitudes.tolist(),
            "phases": self.phases.tolist(),
        }


def sinusoid_target(
    frequencies: Sequence[int] = PAPER_FREQUENCIES,
    amplitudes: Union[str, Sequence[float]] = "equal",
    seed: int = 0,
) -> SinusoidTarget:
    """Rahaman's exp.-1 target: ``amplitudes`` ``"equal"`` (``A_i = 1``), ``"increasing"``
    (``A_i = 0.1 i``, ``i = 1..K``) or explicit; phases ``φ_i ~ U(0, 1)`` drawn from ``seed``."""
    ks = torch.as_tensor(list(frequencies), dtype=torch.int64)
    if (
        ks.dim() != 1
        or ks.numel() == 0
        or bool((ks <= 0).any())
        or torch.unique(ks).numel() != ks.numel()
    ):
        raise ValueError(f"frequencies must be distinct positive integers, got {list(frequencies)}")
    if isinstance(amplitudes, str):
        check_choice("amplitudes", amplitudes, AMPLITUDE_CASES)
        if amplitudes == "equal":
            amp = torch.ones(ks.numel(), dtype=torch.float64)
        else:
            amp = 0.1 * torch.arange(1, ks.numel() + 1, dtype=torch.float64)
    else:
        amp = torch.as_tensor(list(amplitudes), dtype=torch.float64)
        if amp.shape != ks.shape or not bool(torch.isfinite(amp).all()) or bool((amp <= 0).any()):
            raise ValueError(
                f"amplitudes must be {ks.numel()} positive numbers, got {list(amplitudes)}"
            )
    generator = torch.Generator().manual_seed(int(seed))
    phases = torch.rand(ks.numel(), generator=generator, dtype=torch.float64)
    return SinusoidTarget(ks, amp, phases)


@dataclass
class SpectralRun:
    """One exp.-1 training run: the heat-map data and its summary.

    Attributes:
        label: what was trained (e.g. a model spec).
        curves: :class:`FrequencyCurves`; ``curves.normalised`` ``(T, K)`` is the heat map
            (rows: recorded steps, columns: frequencies).
        threshold: normalised amplitude at which a frequency counts as learned.
        order: learning steps, order and spectral-bias index (:class:`LearningOrder`).
        final_loss: training MSE at the last step.
        seconds: training time.
        model: the trained model.
    """

    label: str
    curves: FrequencyCurves
    threshold: float
    order: LearningOrder
    final_loss: float
    seconds: float
    model: nn.Module

    def to_dict(self) -> Dict[str, object]:
        return {
            "label": self.label,
            "final_loss": self.final_loss,
            "seconds": self.seconds,
            **self.curves.to_dict(self.threshold),
        }


def train_spectral_run(
    model: nn.Module,
    target: SinusoidTarget,
    *,
    steps: int,
    lr: float,
    record_every: int,
    n_points: int = PAPER_POINTS,
    threshold: float = 0.9,
    seed: int = 0,
    label: str = "",
) -> SpectralRun:
    """Fit ``model`` (``(n, 1) -> (n, 1)``) to ``target`` on ``unit_grid(n_points)`` with
    full-batch Adam (constant ``lr``) for ``steps`` steps, recording the spectrum every
    ``record_every`` steps (and at step 0) with a :class:`SpectrumProbe`."""
    check_count("steps", steps)
    check_count("record_every", record_every)
    check_positive("lr", lr)
    t = unit_grid(n_points)
    check_frequencies(target.frequencies, n_points, "target frequencies")
    values = target(t)[:, None]
    coords = t.to(torch.float32)[:, None]
    probe = SpectrumProbe(coords, values, record_every, frequencies=target.frequencies)
    config = TrainConfig(steps=steps, lr=lr, seed=seed, eval_every=steps)
    trainer = Trainer(model, Samples(coords, values.to(torch.float32)), config, [probe])
    started = time.perf_counter()
    result = trainer.fit()
    seconds = time.perf_counter() - started
    curves = probe.curves()
    assert isinstance(curves, FrequencyCurves)
    return SpectralRun(
        label,
        curves,
        threshold,
        curves.order(threshold),
        float(result.final_loss),
        seconds,
        trainer.model,
    )


def _flat_parameters(model: nn.Module) -> "tuple[List[str], List[torch.Size], Tensor]":
    named = [(name, p) for name, p in model.named_parameters()]
    if not named:
        raise ValueError("the model has no parameters to perturb")
    flat = torch.cat([p.detach().reshape(-1).to(torch.float64) for _, p in named])
    return [n for n, _ in named], [p.shape for _, p in named], flat


@dataclass
class PerturbationResult:
    """Spectrum of ``f_{θ + δ u}`` relative to ``f_θ``, ``u`` random unit-norm directions.

    Attributes:
        deltas: float64 ``(D,)``, perturbation sizes ``δ`` (parameter-space norm).
        frequencies: int64 ``(K,)``.
        normalised: float64 ``(D, K)``, mean over directions of ``|f̂_{θ+δu}(k)| / |f̂_θ(k)|``
            (Rahaman's Fig. 2 heat map).
        deviation: float64 ``(D, K)``, mean over directions of ``|f̂_{θ+δu}(k) - f̂_θ(k)| / |f̂_θ(k)|``
            (complex coefficients: the relative change of the component, phase included).
        directions: number of random directions.
        parameter_norm: ``‖θ‖``.
    """

    deltas: Tensor
    frequencies: Tensor
    normalised: Tensor
    deviation: Tensor
    directions: int
    parameter_norm: float

    def half_deltas(self, level: float = 0.5) -> List[Optional[float]]:
        """Per frequency, the smallest ``δ`` at which the mean normalised amplitude is below ``level``."""
        result: List[Optional[float]] = []
        for column in range(self.normalised.shape[1]):
            below = torch.nonzero(self.normalised[:, column] < level)
            result.append(float(self.deltas[int(below[0])]) if below.numel() else None)
        return result

    def rank_correlation(self, level: float = 0.5) -> float:
        """Spearman correlation of frequency with :meth:`half_deltas` (never below: the largest ``δ``).
        Negative when high frequencies are the less robust ones; NaN if no frequency drops."""
        from scipy.stats import spearmanr

        halves = self.half_deltas(level)
        if all(h is None for h in halves):
            return math.nan
        filled = [float(self.deltas[-1]) if h is None else h for h in halves]
        if len(set(filled)) == 1:
            return 0.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return float(spearmanr(self.frequencies.tolist(), filled).statistic)

    def to_dict(self) -> Dict[str, object]:
        correlation = self.rank_correlation()
        return {
            "deltas": self.deltas.tolist(),
            "frequencies": self.frequencies.tolist(),
            "normalised_amplitude": self.normalised.tolist(),
            "relative_deviation": self.deviation.tolist(),
            "directions": self.directions,
            "parameter_norm": self.parameter_norm,
            "half_deltas": self.half_deltas(),
            "rank_correlation": None if math.isnan(correlation) else correlation,
        }


@torch.no_grad()
def perturbation_spectrum(
    model: nn.Module,
    coords: Tensor,
    frequencies: Sequence[int],
    deltas: Sequence[float],
    *,
    directions: int = 10,
    seed: int = 0,
) -> PerturbationResult:
    """Rahaman's exp. 2: evaluate ``model`` with parameters ``θ + δ u`` on ``coords (n, d)``
    (one period of a 1D grid, or any closed curve sampled uniformly) for every ``δ`` in
    ``deltas`` and ``directions`` random directions ``u`` (``u ~ N(0, I)`` normalised to unit
    norm over all parameters, drawn from ``seed``), and compare the spectra with the
    unperturbed model's. The model itself is left unchanged.
    """
    from torch.func import functional_call

    check_count("directions", directions)
    delta = torch.as_tensor(list(deltas), dtype=torch.float64)
    if (
        delta.dim() != 1
        or delta.numel() == 0
        or not bool(torch.isfinite(delta).all())
        or bool((delta < 0).any())
    ):
        raise ValueError(
            f"deltas must be a non-empty list of finite numbers >= 0, got {list(deltas)}"
        )
    names, shapes, theta = _flat_parameters(model)
    dtype = next(model.parameters()).dtype
    ks = check_frequencies(frequencies, coords.shape[0])
    buffers = dict(model.named_buffers())

    def evaluate(flat: Tensor) -> Tensor:
        pieces = torch.split(flat.to(dtype), [math.prod(s) for s in shapes])
        params = {name: piece.reshape(shape) for name, piece, shape in zip(names, pieces, shapes)}
        return functional_call(model, {**params, **buffers}, (coords,)).reshape(coords.shape[0], -1)

    base = fourier_coefficients(evaluate(theta).to(torch.float64).T, ks)  # (C, K)
    base_amp = base.abs().square().sum(0).sqrt()
    if bool((base_amp <= 1e-12).any()):
        k = int(ks[base_amp <= 1e-12][0])
        raise ValueError(f"the unperturbed model has no amplitude at frequency {k}: train it first")
    generator = torch.Generator().manual_seed(int(seed))
    ratio = torch.zeros(delta.numel(), ks.numel(), dtype=torch.float64)
    change = torch.zeros_like(ratio)
    for _ in range(directions):
        u = torch.randn(theta.numel(), generator=generator, dtype=torch.float64)
        u /= u.norm()
        for i, d in enumerate(delta.tolist()):
            coefficients = fourier_coefficients(evaluate(theta + d * u).to(torch.float64).T, ks)
            ratio[i] += coefficients.abs().square().sum(0).sqrt() / base_amp
            change[i] += (coefficients - base).abs().square().sum(0).sqrt() / base_amp
    return PerturbationResult(
        delta, ks, ratio / directions, change / directions, directions, float(theta.norm())
    )


def flower_curve(phi: Tensor, L: int) -> Tensor:
    """``γ_L(φ) = (1 + 0.5 sin(L φ)) (cos φ, sin φ)``: ``phi (...)`` -> ``(..., 2)`` (dtype of ``phi``).

    ``L = 0`` is the unit circle; ``L`` petals otherwise (radius between 0.5 and 1.5).
    """
    check_count("L", L, minimum=0)
    radius = 1 + 0.5 * torch.sin(L * phi)
    return torch.stack([radius * torch.cos(phi), radius * torch.sin(phi)], dim=-1)


@dataclass
class ManifoldResult:
    """Learnability of ``sin(k φ)`` along ``γ_L`` after a fixed budget.

    Attributes:
        ls: the ``L`` values (rows).
        ks: the frequencies ``k`` along the curve (columns).
        amplitude: float64 ``(len(ls), len(ks))``, the trained network's amplitude at ``k``
            along the curve, normalised by the target's (1: learned).
        loss: float64 ``(len(ls), len(ks))``, final training MSE over the target's mean square (0.5).
        steps: training steps of every run.
        n_points: points on the curve.
    """

    ls: List[int]
    ks: List[int]
    amplitude: Tensor
    loss: Tensor
    steps: int
    n_points: int

    def learnability(self) -> Tensor:
        """``1 - normalised loss`` clipped to ``[0, 1]``: float64 ``(len(ls), len(ks))``."""
        return (1 - self.loss).clamp(0, 1)

    def rank_correlation(self) -> float:
        """Spearman correlation of ``L`` with the learnability averaged over ``k`` (positive: the
        curvier the manifold, the better the frequencies along it are learned)."""
        from scipy.stats import spearmanr

        mean = self.learnability().mean(dim=1).tolist()
        if len(self.ls) < 2 or len(set(mean)) == 1:
            return math.nan
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return float(spearmanr(self.ls, mean).statistic)

    def to_dict(self) -> Dict[str, object]:
        correlation = self.rank_correlation()
        return {
            "L": self.ls,
            "k": self.ks,
            "normalised_amplitude": self.amplitude.tolist(),
            "normalised_loss": self.loss.tolist(),
            "learnability": self.learnability().tolist(),
            "mean_learnability_per_L": self.learnability().mean(dim=1).tolist(),
            "rank_correlation_L_learnability": None if math.isnan(correlation) else correlation,
            "steps": self.steps,
            "n_points": self.n_points,
        }


def manifold_experiment(
    ls: Sequence[int],
    ks: Sequence[int],
    make_model: Callable[[], nn.Module],
    *,
    steps: int,
    lr: float,
    n_points: int = 256,
    seed: int = 0,
    progress: Optional[Callable[[str], None]] = None,
) -> ManifoldResult:
    """Fit ``sin(k φ)`` on ``n_points`` points ``γ_L(2π j / n)`` for every ``(L, k)``.

    Each run seeds torch with ``seed`` before ``make_model()`` (a fresh ``R² -> R`` model), then
    trains it with full-batch Adam for ``steps`` steps. ``progress`` receives one line per run.
    """
    check_count("steps", steps)
    check_positive("lr", lr)
    check_count("n_points", n_points, minimum=4)
    ls, ks = [int(v) for v in ls], [int(v) for v in ks]
    if not ls or not ks:
        raise ValueError("ls and ks must not be empty")
    check_frequencies(ks, n_points, "ks")
    phi = 2 * math.pi * torch.arange(n_points, dtype=torch.float64) / n_points
    amplitude = torch.zeros(len(ls), len(ks), dtype=torch.float64)
    loss = torch.zeros_like(amplitude)
    for row, L in enumerate(ls):
        coords = flower_curve(phi, L).to(torch.float32)
        for column, k in enumerate(ks):
            values = torch.sin(k * phi)[:, None]
            torch.manual_seed(seed)
            model = make_model()
            config = TrainConfig(steps=steps, lr=lr, seed=seed, eval_every=steps)
            trainer = Trainer(model, Samples(coords, values.to(torch.float32)), config)
            trainer.fit()
            prediction = predict(trainer.model, coords).to(torch.float64)
            amplitude[row, column] = float(
                amplitudes(prediction[:, 0], [k])[0]
            )  # the target's amplitude is 1
            loss[row, column] = float(torch.mean((prediction - values) ** 2)) / 0.5
            if progress is not None:
                progress(
                    f"L={L:>2} k={k:>2}: amplitude {amplitude[row, column]:.2f}, "
                    f"loss {loss[row, column]:.3f} of the target's"
                )
    return ManifoldResult(ls, ks, amplitude, loss, steps, n_points)


__all__ = [
    "AMPLITUDE_CASES",
    "PAPER_FREQUENCIES",
    "PAPER_POINTS",
    "ManifoldResult",
    "PerturbationResult",
    "SinusoidTarget",
    "SpectralRun",
    "flower_curve",
    "manifold_experiment",
    "perturbation_spectrum",
    "sinusoid_target",
    "train_spectral_run",
    "unit_grid",
]
