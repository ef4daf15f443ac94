"""Frequency-resolved learning curves, the step each frequency is learned, the spectral-bias index.

1D (Rahaman et al. 2019): the network's amplitude at chosen integer frequencies divided by the
target's, ``|f̂_θ(k)| / |f̂(k)|`` (:mod:`coordnet.spectral.spectrum` conventions), over
training. Frequency ``k`` is **learned** at the first recorded step at which this normalised
amplitude reaches ``threshold`` (default 0.9: 90% of the target amplitude).

2D (any image): the energy of the error ``prediction - target`` in radial bands of the 2D FFT
over training, and each band's share of the total error energy. Band ``b`` is **learned** at
the first recorded step at which its error energy falls to ``fraction`` (default 0.1) of a
reference: the target's energy in that band (default, ``reference="target"``: 90% of the
band's energy is matched) or the band's error energy at the first record
(``reference="initial"``).

The **spectral-bias index** of a run is Spearman's rank correlation between frequency and
learning step (average ranks for ties; a frequency never learned takes the cap, the last
step of the run, as its step): near 1 when frequencies are learned in increasing order,
near 0 or below when the order does not follow frequency.
"""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from torch import Tensor

from coordnet.spectral.spectrum import (
    ArrayLike,
    RadialBands,
    _as_float64,
    amplitudes,
    check_frequencies,
)
from coordnet.validation import check_choice, check_count

REFERENCES = ("target", "initial")
# Amplitudes below this fraction of the largest |value| count as absent (float32 rounding is ~1e-7).
NEGLIGIBLE = 1e-6


def negligible(amplitude: Tensor, values: Tensor) -> Tensor:
    """Mask of the entries of ``amplitude`` too small, relative to ``max |values|``, to divide by."""
    return amplitude <= NEGLIGIBLE * max(float(values.abs().max()), 1e-300)


def _steps(name: str, steps: Union[Sequence[int], Tensor, np.ndarray], length: int) -> Tensor:
    values = torch.as_tensor(np.asarray(steps, dtype=np.int64)).reshape(-1)
    if values.numel() != length:
        raise ValueError(f"{name} has {values.numel()} entries, the curves have {length} records")
    if length and bool((values[1:] <= values[:-1]).any()):
        raise ValueError(f"{name} must be strictly increasing, got {values.tolist()}")
    if length and int(values[0]) < 0:
        raise ValueError(f"{name} must be >= 0, got {int(values[0])}")
    return values


def first_steps(
    values: ArrayLike, steps: Sequence[int], threshold: float, above: bool = True
) -> List[Optional[int]]:
    """Per column of ``values (T, K)``: the first of ``steps (T,)`` at which the value is
    ``>= threshold`` (``above``) or ``<= threshold`` (not ``above``), ``None`` if never."""
    table = _as_float64("values", values)
    if table.dim() != 2:
        raise ValueError(f"values must have shape (records, frequencies), got {tuple(table.shape)}")
    step_list = _steps("steps", steps, table.shape[0]).tolist()
    if not math.isfinite(threshold):
        raise ValueError(f"threshold must be finite, got {threshold!r}")
    hit = table >= threshold if above else table <= threshold
    result: List[Optional[int]] = []
    for column in range(table.shape[1]):
        rows = torch.nonzero(hit[:, column])
        result.append(int(step_list[int(rows[0])]) if rows.numel() else None)
    return result


@dataclass
class FrequencyCurves:
    """1D learning curves at ``K`` frequencies over ``T`` records.

    Attributes:
        steps: int64 ``(T,)``, training steps of the records (increasing).
        frequencies: int64 ``(K,)``, cycles per period.
        amplitude: float64 ``(T, K)``, the network's amplitude at each frequency.
        target_amplitude: float64 ``(K,)``, the target's (all positive).
    """

    steps: Tensor
    frequencies: Tensor
    amplitude: Tensor
    target_amplitude: Tensor

    @property
    def normalised(self) -> Tensor:
        """``|f̂_θ(k)| / |f̂(k)|``: float64 ``(T, K)`` (1 = the target amplitude)."""
        return self.amplitude / self.target_amplitude

    @property
    def cap(self) -> int:
        """The last recorded step: the step a never-learned frequency counts as."""
        return int(self.steps[-1])

    def learned_steps(self, threshold: float = 0.9) -> List[Optional[int]]:
        """First recorded step at which each frequency's normalised amplitude is ``>= threshold``."""
        return first_steps(self.normalised, self.steps.tolist(), threshold, above=True)

    def order(self, threshold: float = 0.9) -> "LearningOrder":
        return learning_order(self.frequencies.tolist(), self.learned_steps(threshold), self.cap)

    def to_dict(self, threshold: float = 0.9) -> Dict[str, Any]:
        """JSON-ready: curves as lists, the learned steps, order and index at ``threshold``."""
        order = self.order(threshold)
        return {
            "kind": "1d",
            "steps": self.steps.tolist(),
            "frequencies": self.frequencies.tolist(),
            "target_amplitude": self.target_amplitude.tolist(),
            "normalised_amplitude": self.normalised.tolist(),
            "criterion": f"normalised amplitude >= {threshold:g}",
            **order.to_dict(),
        }


def frequency_curves(
    steps: Sequence[int],
    predictions: ArrayLike,
    target: ArrayLike,
    frequencies: Union[Sequence[int], ArrayLike],
) -> FrequencyCurves:
    """Curves from ``predictions (T, n)`` (or ``(T, n, C)``) of a network on the grid of ``target (n,)``
    (or ``(n, C)``) at ``steps (T,)``.

    With channels, amplitudes are the root-sum-square over channels. Raises ``ValueError``
    when the target has no amplitude at a requested frequency (the ratio is undefined).
    """
    prediction = _as_float64("predictions", predictions)
    reference = _as_float64("target", target)
    if reference.dim() == 1:
        reference = reference[:, None]
    if prediction.dim() == 2:
        prediction = prediction[..., None]
    if reference.dim() != 2 or prediction.dim() != 3 or prediction.shape[1:] != reference.shape:
        raise ValueError(
            f"predictions must have shape (T, n[, C]) matching target (n[, C]); got {tuple(prediction.shape)} "
            f"and {tuple(reference.shape)}"
        )
    ks = check_frequencies(frequencies, reference.shape[0])
    target_amp = amplitudes(reference.T, ks).square().sum(0).sqrt()  # (K,)
    absent = negligible(target_amp, reference)
    if bool(absent.any()):
        k = int(ks[absent][0])
        raise ValueError(
            f"the target has no amplitude at frequency {k}: its normalised amplitude is undefined"
        )
    amp = amplitudes(prediction.transpose(1, 2), ks).square().sum(1).sqrt()  # (T, K)
    return FrequencyCurves(_steps("steps", steps, amp.shape[0]), ks, amp, target_amp)


@dataclass
class BandCurves:
    """2D learning curves: error energy in ``B`` radial bands over ``T`` records.

    Attributes:
        steps: int64 ``(T,)``.
        edges: float64 ``(B + 1,)``, band edges in normalised radius (1 = Nyquist; the last band
            also holds the corners beyond 1; the DC term is in no band).
        error_energy: float64 ``(T, B)``, energy of ``prediction - target`` per band (each row
            sums to the MSE over the grid minus the squared mean error).
        target_energy: float64 ``(B,)``, the target's energy per band.
    """

    steps: Tensor
    edges: Tensor
    error_energy: Tensor
    target_energy: Tensor

    @property
    def centres(self) -> Tensor:
        """Band midpoints ``(B,)`` (normalised radius)."""
        return 0.5 * (self.edges[:-1] + self.edges[1:])

    @property
    def share(self) -> Tensor:
        """Each band's share of the error energy: float64 ``(T, B)``, rows summing to 1."""
        total = self.error_energy.sum(dim=1, keepdim=True)
        return torch.where(
            total > 0,
            self.error_energy / total.clamp_min(1e-300),
            torch.zeros_like(self.error_energy),
        )

    def relative_error(self, reference: str = "target") -> Tensor:
        """Error energy over the reference energy of each band: float64 ``(T, B)``."""
        check_choice("reference", reference, REFERENCES)
        base = self.target_energy if reference == "target" else self.error_energy[0]
        return self.error_energy / base.clamp_min(1e-300)

    @property
    def cap(self) -> int:
        return int(self.steps[-1])

    def learned_steps(
        self, fraction: float = 0.1, reference: str = "target"
    ) -> List[Optional[int]]:
        """First recorded step at which each band's error energy is ``<= fraction`` of its reference."""
        if not (isinstance(fraction, (int, float)) and 0 < fraction < 1):
            raise ValueError(f"fraction must lie strictly between 0 and 1, got {fraction!r}")
        return first_steps(
            self.relative_error(reference), self.steps.tolist(), fraction, above=False
        )

    def order(self, fraction: float = 0.1, reference: str = "target") -> "LearningOrder":
        return learning_order(
            self.centres.tolist(), self.learned_steps(fraction, reference), self.cap
        )

    def to_dict(self, fraction: float = 0.1, reference: str = "target") -> Dict[str, Any]:
        order = self.order(fraction, reference)
        return {
            "kind": "2d",
            "steps": self.steps.tolist(),
            "band_edges": self.edges.tolist(),
            "band_centres": self.centres.tolist(),
            "target_energy": self.target_energy.tolist(),
            "error_energy": self.error_energy.tolist(),
            "error_share": self.share.tolist(),
            "criterion": f"band error energy <= {fraction:g} x {reference} energy of the band",
            **order.to_dict(),
        }


def band_curves(
    steps: Sequence[int],
    predictions: ArrayLike,
    target: ArrayLike,
    num_bands: int = 8,
) -> BandCurves:
    """Curves from ``predictions (T, H, W[, C])`` against ``target (H, W[, C])`` at ``steps (T,)``."""
    prediction = _as_float64("predictions", predictions)
    reference = _as_float64("target", target)
    if reference.dim() == 2:
        reference = reference[..., None]
    if (
        prediction.dim() == 3
        and reference.shape[-1] == 1
        and prediction.shape[1:] == reference.shape[:2]
    ):
        prediction = prediction[..., None]
    if reference.dim() != 3 or prediction.dim() != 4 or prediction.shape[1:] != reference.shape:
        raise ValueError(
            f"predictions must have shape (T, H, W[, C]) matching target (H, W[, C]); got {tuple(prediction.shape)} "
            f"and {tuple(reference.shape)}"
        )
    bands = RadialBands.for_grid(tuple(reference.shape[:2]), num_bands)
    if prediction.shape[0]:
        errors = torch.stack([bands(p - reference) for p in prediction])
    else:
        errors = torch.zeros(0, num_bands, dtype=torch.float64)
    return BandCurves(
        _steps("steps", steps, errors.shape[0]), bands.edges, errors, bands(reference)
    )


@dataclass
class LearningOrder:
    """When each frequency (or band) was learned, and the spectral-bias index.

    Attributes:
        frequencies: the frequencies (band centres in 2D), as given.
        steps: learning step of each, ``None`` if never learned.
        cap: the step never-learned frequencies count as (the run's last recorded step).
        index: :func:`spectral_bias_index` of ``(frequencies, steps, cap)``.
        order: the learned frequencies by learning step (ties by frequency).
        unlearned: the frequencies never learned, in increasing order.
    """

    frequencies: List[Union[int, float]]
    steps: List[Optional[int]]
    cap: int
    index: float
    order: List[Union[int, float]]
    unlearned: List[Union[int, float]]

    def to_dict(self) -> Dict[str, Any]:
        return {
            "learned_steps": self.steps,
            "cap": self.cap,
            "spectral_bias_index": None if math.isnan(self.index) else self.index,
            "order": self.order,
            "unlearned": self.unlearned,
        }


def _number(value: Any) -> Union[int, float]:
    """A Python int for integer types (numpy and torch included), else a float."""
    if isinstance(value, Tensor):
        value = value.item()
    return (
        int(value)
        if isinstance(value, numbers.Integral) and not isinstance(value, bool)
        else float(value)
    )


def _checked(frequencies: Sequence[float], steps: Sequence[Optional[int]], cap: int):
    freqs = [_number(f) for f in frequencies]
    steps = list(steps)
    if len(freqs) != len(steps):
        raise ValueError(
            f"frequencies ({len(freqs)}) and steps ({len(steps)}) must have the same length"
        )
    if len(freqs) < 2:
        raise ValueError(f"need at least 2 frequencies for a rank correlation, got {len(freqs)}")
    if len(set(freqs)) != len(freqs) or not all(math.isfinite(f) for f in freqs):
        raise ValueError(f"frequencies must be distinct finite numbers, got {freqs}")
    if isinstance(cap, numbers.Integral) and not isinstance(cap, bool):
        cap = int(cap)
    check_count("cap", cap, minimum=0)
    for step in steps:
        integral = isinstance(step, numbers.Integral) and not isinstance(step, bool)
        if step is not None and (not integral or not 0 <= step <= cap):
            raise ValueError(
                f"learning steps must be integers in [0, cap={cap}] or None, got {step!r}"
            )
    return freqs, [cap if s is None else int(s) for s in steps]


def spectral_bias_index(
    frequencies: Sequence[float], steps: Sequence[Optional[int]], cap: int
) -> float:
    """Spearman rank correlation of learning step with frequency (``scipy.stats.spearmanr``).

    ``steps[i]`` is the step at which ``frequencies[i]`` was learned, ``None`` if never: it then
    counts as ``cap``. Ties get average ranks. If every frequency has the same step the
    correlation is undefined; the index is then 0.0 when they were all learned (no frequency
    came first) and NaN when none was (nothing was measured).
    """
    from scipy.stats import spearmanr

    freqs, filled = _checked(frequencies, steps, cap)
    steps = list(steps)
    if len(set(filled)) == 1:
        return math.nan if all(s is None for s in steps) else 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(spearmanr(freqs, filled).statistic)


def learning_order(
    frequencies: Sequence[float], steps: Sequence[Optional[int]], cap: int
) -> LearningOrder:
    """The :class:`LearningOrder` of frequencies learned at ``steps`` (``None``: never) with ``cap``."""
    freqs, _ = _checked(frequencies, steps, cap)
    steps = list(steps)
    learned = sorted((int(s), f) for f, s in zip(freqs, steps) if s is not None)
    unlearned = sorted(f for f, s in zip(freqs, steps) if s is None)
    return LearningOrder(
        frequencies=freqs,
        steps=[None if s is None else int(s) for s in steps],
        cap=int(cap),
        index=spectral_bias_index(freqs, steps, cap),
        order=[f for _, f in learned],
        unlearned=unlearned,
    )


__all__ = [
    "BandCurves",
    "FrequencyCurves",
    "LearningOrder",
    "band_curves",
    "first_steps",
    "frequency_curves",
    "learning_order",
    "spectral_bias_index",
]
