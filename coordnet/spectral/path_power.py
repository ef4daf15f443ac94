"""Power spectrum of a classifier along fixed-step paths: the recipe of Fridovich-Keil et al. 2022.

The recipe of the paper's own code (``google-research/google-research``,
``spectral_bias/interpolation/evaluate_interpolation.py``, ``batch_interpolation`` and
``aggregate_interp``):

* **Pairs** (:func:`consecutive_pairs`, of test images): within class ``c``, images ``2j`` and
  ``2j + 1`` of the class's list; between classes ``c < c'``, image ``j`` of each list; ``j <
  per_group`` (the authors' ``num_pairs = 200``), fewer when a list is shorter. Pairs of
  identical images (zero distance) are left out.
* **Path samples**: ``x(s) = (1 − s/d) x_a + (s/d) x_b``, ``d = ‖x_b − x_a‖₂``, at ``s = 0, step,
  2·step, …  < d`` (``np.arange(0, d, step)``, ``step = 1``: the authors' ``sampling_distance``).
* **Signal**: the distance of the class-probability vector from the path start, ``‖p(s) − p(0)‖₂``.
  The authors compute ``p`` with ``scipy.special.softmax(logits)`` *without an axis*, which
  normalises over the whole ``(n, C)`` path array, not per sample; the paper describes the
  per-sample softmax. ``softmax="rows"`` (default) is the paper's intent, ``softmax="whole"``
  what the code computes.
* **Spectrum**: ``|fftshift(fft(signal))|²`` — no mean removal, no window, no normalisation — at
  the frequencies ``fftshift(fftfreq(n, step))`` in cycles per unit input distance.
* **Summary** (ours: the authors' script stops at the spectra): the power-weighted mean
  ``|frequency|`` of each path's spectrum without the zero-frequency bin, in cycles per unit
  distance, averaged over paths. A path with fewer than 2 samples or without power off zero
  frequency scores 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from coordnet.spectral.classifiers import KINDS, logits_at, path_lengths
from coordnet.validation import check_choice, check_count, check_positive

SOFTMAX = ("rows", "whole")
DEFAULT_STEP = 1.0


def consecutive_pairs(labels: Tensor, per_group: int, kind: str) -> Tensor:
    """The authors' pairs of example indices ``(P, 2)`` int64 (module docstring), groups in order:
    classes ascending (within) or ``(c, c')``, ``c < c'``, lexicographic (between)."""
    check_count("per_group", per_group)
    check_choice("kind", kind, KINDS)
    lists = {int(c): torch.nonzero(labels == c).flatten() for c in torch.unique(labels)}
    classes = sorted(lists)
    out = []
    if kind == "within":
        for c in classes:
            count = min(per_group, len(lists[c]) // 2)
            out.append(lists[c][: 2 * count].reshape(count, 2))
    else:
        for i, c in enumerate(classes):
            for d in classes[i + 1 :]:
                count = min(per_group, len(lists[c]), len(lists[d]))
                out.append(torch.stack([lists[c][:count], lists[d][:count]], dim=1))
    return torch.cat(out) if out else torch.zeros((0, 2), dtype=torch.long)


def distinct_pairs(inputs: Tensor, pairs: Tensor) -> Tensor:
    """``pairs`` without those whose two inputs are identical (a zero-length path)."""
    return pairs[path_lengths(inputs, pairs) > 0]


def step_distances(length: float, step: float = DEFAULT_STEP) -> np.ndarray:
    """``np.arange(0, length, step)``: the distances from the start where a path is sampled."""
    return np.arange(0.0, float(length), float(step))


def distance_signal(logits: Tensor, softmax: str = "rows") -> np.ndarray:
    """``‖p(s_j) − p(s_0)‖₂`` along one path ``(n, C)`` -> ``(n,)`` float64; ``softmax`` ``"rows"``
    (per sample, the paper) or ``"whole"`` (over the whole array, the authors' code)."""
    check_choice("softmax", softmax, SOFTMAX)
    z = logits.detach().cpu().double().numpy()
    if softmax == "rows":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
    else:
        e = np.exp(z - z.max())
        p = e / e.sum()
    return np.linalg.norm(p - p[:1], axis=1)


def shifted_power(signal: np.ndarray) -> np.ndarray:
    """``|fftshift(fft(signal))|²``: ``(n,)`` -> ``(n,)``."""
    return np.abs(np.fft.fftshift(np.fft.fft(signal))) ** 2


def mean_frequency(power: np.ndarray, step: float = DEFAULT_STEP) -> float:
    """Power-weighted mean ``|f|`` without the zero bin, cycles per unit distance (0 if no power)."""
    n = len(power)
    if n < 2:
        return 0.0
    f = np.abs(np.fft.fftshift(np.fft.fftfreq(n, d=step)))
    weight = np.where(f > 0, power, 0.0)
    total = float(weight.sum())
    return float((f * weight).sum() / total) if total > 0 else 0.0


@dataclass
class PathPower:
    """Per-path results of one kind of path. ``pairs`` ``(P, 2)``; ``lengths``, ``samples`` and
    ``frequency`` ``(P,)`` (distance, samples per path, :func:`mean_frequency`)."""

    kind: str
    pairs: Tensor
    lengths: Tensor
    samples: Tensor
    frequency: Tensor
    step: float
    softmax: str

    @property
    def mean(self) -> float:
        """Mean of the per-path frequencies: the score of this kind of path."""
        return float(self.frequency.mean()) if len(self.frequency) else math.nan

    def to_dict(self) -> Dict[str, object]:
        return {
            "kind": self.kind,
            "num_paths": len(self.pairs),
            "mean": self.mean,
            "samples_per_path": _quantiles(self.samples),
            "mean_length": float(self.lengths.mean()) if len(self.lengths) else math.nan,
            "step": self.step,
            "softmax": self.softmax,
            "frequency_unit": "cycles per unit input distance",
        }


def _quantiles(samples: Tensor) -> Dict[str, float]:
    s = samples.double()
    if not len(s):
        return {"min": math.nan, "mean": math.nan, "max": math.nan}
    return {"min": float(s.min()), "mean": float(s.mean()), "max": float(s.max())}


def path_powers(
    model: nn.Module,
    inputs: Tensor,
    pairs: Tensor,
    kind: str,
    step: float = DEFAULT_STEP,
    softmaxes: Sequence[str] = ("rows",),
    chunk: int = 8192,
) -> Dict[str, PathPower]:
    """Evaluate ``model`` (``(B, ...)`` -> logits ``(B, C)``) along ``pairs`` of ``inputs (N, ...)``
    sampled every ``step`` once, and score each path (module docstring) with each softmax of
    ``softmaxes``: ``{softmax: PathPower}``. Zero-length pairs raise ``ValueError``."""
    check_choice("kind", kind, KINDS)
    check_positive("step", step)
    for softmax in softmaxes:
        check_choice("softmax", softmax, SOFTMAX)
    lengths = path_lengths(inputs, pairs)
    distances = [step_distances(float(d), step) for d in lengths]
    positions = [torch.from_numpy(s / float(d)) for s, d in zip(distances, lengths)]
    logits = logits_at(model, inputs, pairs, positions, chunk=chunk, lengths=lengths)
    samples = torch.tensor([len(s) for s in distances], dtype=torch.long)
    out = {}
    for softmax in softmaxes:
        frequency = [
            mean_frequency(shifted_power(distance_signal(z, softmax)), step) for z in logits
        ]
        out[softmax] = PathPower(
            kind,
            pairs.clone(),
            lengths,
            samples,
            torch.tensor(frequency, dtype=torch.float64),
            float(step),
            softmax,
        )
    return out


def path_power(
    model: nn.Module,
    inputs: Tensor,
    pairs: Tensor,
    kind: str,
    step: float = DEFAULT_STEP,
    softmax: str = "rows",
    chunk: int = 8192,
) -> PathPower:
    """:func:`path_powers` with one softmax."""
    return path_powers(model, inputs, pairs, kind, step, (softmax,), chunk)[softmax]
