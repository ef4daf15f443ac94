"""High-frequency fraction of a classifier along fixed-step paths: the RobustNets recipe.

The recipe of ``sarafridov/RobustNets`` (``pixel_interpolation.py``, ``InterpData``), the code of
a later paper by the same first author (Fridovich-Keil et al., "Models Out of Line: A Fourier
Lens on Distribution Shift Robustness", 2022), not of "Spectral Bias in Practice" (2022), whose
own recipe is :mod:`coordnet.spectral.path_power`. A variant beside it; coordnet's windowed
spectral centroid is :mod:`coordnet.spectral.classifiers`:

* **Pairs** (:func:`balanced_pairs`, usually of *test* examples): ``per_group`` pairs per class
  (within-class) or per unordered pair of classes ``c < c'`` (between-class, first member of
  class ``c``). Within a group the ``2 · per_group`` members are distinct when the classes have
  enough examples (drawn without replacement); otherwise each pair's two members are distinct.
* **Path samples**: ``x(s) = x_a + s (x_b - x_a) / d`` with ``d = ‖x_b - x_a‖₂`` (Euclidean, in
  the units of ``inputs``), at ``s_j = j · step`` for ``j = 0..n-1``, ``n = ceil(d / step)``:
  ``x_a`` included, ``x_b`` not. A fixed step in input space, so frequencies are **per unit
  distance**: bin ``k`` of a path with ``n`` samples is ``k / (n · step)`` cycles per unit.
* **Signal**: the softmax probabilities ``P`` ``(n, C)``, one signal per class.
* **Spectrum**: ``|rfft(P[:, c])|`` per class — raw signal, no mean removal, no window, no
  normalisation — averaged over the ``C`` classes: ``m`` ``(F,)``, ``F = n // 2 + 1``.
* **Score**: the fraction of magnitude above the lowest 10% of the bins,

  ``fraction = Σ_{k = K}^{F - 2} m_k / Σ_{k = 0}^{F - 1} m_k``,  ``K = ceil(low_fraction · F)``,

  with ``low_fraction = 0.1``; the last bin (the Nyquist bin for even ``n``) is left out of the
  numerator, as the authors' slice ``[K:-1]`` does. ``m_0 = n / C > 0`` (probabilities sum to
  one), so the fraction is always defined; paths with ``F <= K + 1`` (fewer than 4 samples at
  ``low_fraction = 0.1``) score 0. The score of a path type is the **mean of the per-path
  fractions**.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, List

import numpy as np
import torch
from torch import Tensor, nn

from coordnet.spectral.classifiers import KINDS, path_lengths, probabilities_at
from coordnet.validation import check_choice, check_count, check_positive

DEFAULT_STEP = 1.0
DEFAULT_LOW_FRACTION = 0.1


def balanced_pairs(
    inputs: Tensor, labels: Tensor, per_group: int, kind: str, seed: int = 0
) -> Tensor:
    """``per_group`` pairs per class (``"within"``) or per class pair (``"between"``): ``(G · per_group, 2)`` int64.

    Groups in order: classes ascending (within), or ``(c, c')`` with ``c < c'`` in lexicographic
    order (between); pairs whose two inputs are identical are redrawn (at most 100 times).

    Raises:
        ValueError: fewer than two classes (between), a class with fewer than two examples
        (within), ``labels`` not ``(N,)`` integers matching ``inputs``, or identical inputs only.
    """
    check_count("per_group", per_group)
    check_choice("kind", kind, KINDS)
    if labels.ndim != 1 or labels.is_floating_point() or len(labels) != len(inputs):
        raise ValueError(
            f"labels must be integers of shape ({len(inputs)},), got {labels.dtype} {tuple(labels.shape)}"
        )
    generator = torch.Generator().manual_seed(int(seed))
    flat = inputs.reshape(len(inputs), -1)
    members = {int(c): torch.nonzero(labels == c).flatten() for c in torch.unique(labels)}
    classes = sorted(members)
    if kind == "between":
        if len(classes) < 2:
            raise ValueError(
                f"between-class pairs need at least 2 classes, the labels hold only {classes}"
            )
        groups = [(members[c], members[d]) for i, c in enumerate(classes) for d in classes[i + 1 :]]
    else:
        small = [c for c in classes if len(members[c]) < 2]
        if small:
            raise ValueError(
                f"within-class pairs need 2 examples per class; class {small[0]} has one"
            )
        groups = [(members[c], members[c]) for c in classes]

    def draw(first: Tensor, second: Tensor, count: int, distinct: bool) -> Tensor:
        if distinct and first is second and len(first) >= 2 * count:
            chosen = first[torch.randperm(len(first), generator=generator)[: 2 * count]]
            return chosen.reshape(count, 2)
        a = first[torch.randint(len(first), (count,), generator=generator)]
        if first is second:  # a different member of the same class
            shift = torch.randint(1, len(first), (count,), generator=generator)
            position = torch.searchsorted(first, a)
            return torch.stack([a, first[(position + shift) % len(first)]], dim=1)
        if distinct and min(len(first), len(second)) >= count:
            a = first[torch.randperm(len(first), generator=generator)[:count]]
            return torch.stack(
                [a, second[torch.randperm(len(second), generator=generator)[:count]]], dim=1
            )
        return torch.stack(
            [a, second[torch.randint(len(second), (count,), generator=generator)]], dim=1
        )

    out = []
    for first, second in groups:
        pairs = draw(first, second, per_group, distinct=True)
        for _ in range(100):
            same = (flat[pairs[:, 0]] == flat[pairs[:, 1]]).all(dim=1)
            if not bool(same.any()):
                break
            pairs[same] = draw(first, second, int(same.sum()), distinct=False)
        else:
            raise ValueError(
                f"could not draw {kind}-class pairs of distinct inputs: too many identical examples"
            )
        out.append(pairs)
    return torch.cat(out)


def step_positions(lengths: Tensor, step: float = DEFAULT_STEP) -> List[Tensor]:
    """Path fractions ``t_j = j · step / d`` for ``j < ceil(d / step)``, one ``(n_i,)`` float64 tensor per length ``d``."""
    check_positive("step", step)
    return [
        torch.arange(max(1, math.ceil(float(d) / step)), dtype=torch.float64) * step / float(d)
        for d in lengths
    ]


def class_mean_magnitude(probabilities: Tensor) -> Tensor:
    """``|rfft|`` of each class's probability along the path, averaged over classes: ``(n, C)`` -> ``(n // 2 + 1,)``."""
    if probabilities.ndim != 2:
        raise ValueError(f"probabilities must have shape (n, C), got {tuple(probabilities.shape)}")
    magnitude = np.abs(np.fft.rfft(probabilities.detach().cpu().double().numpy(), axis=0)).mean(
        axis=1
    )
    return torch.from_numpy(magnitude)


def high_frequency_fraction(
    probabilities: Tensor, low_fraction: float = DEFAULT_LOW_FRACTION
) -> float:
    """The score of one path (module docstring): ``probabilities`` ``(n, C)`` -> fraction in ``[0, 1)``."""
    check_positive("low_fraction", low_fraction)
    if low_fraction >= 1:
        raise ValueError(
            f"low_fraction must be below 1 (a fraction of the bins), got {low_fraction!r}"
        )
    magnitude = class_mean_magnitude(probabilities)
    first = math.ceil(low_fraction * len(magnitude))
    total = float(magnitude.sum())
    return float(magnitude[first:-1].sum()) / total if total > 0 else 0.0


@dataclass
class PathFractions:
    """High-frequency fractions of ``P`` paths of one kind.

    Attributes:
        kind: ``"between"`` or ``"within"``.
        pairs: ``(P, 2)`` example indices ``(start, end)``.
        lengths: ``(P,)`` input-space distance of each path.
        samples: ``(P,)`` samples per path, ``ceil(length / step)``.
        fractions: ``(P,)`` per-path score.
        step: sampling step in input space.
        low_fraction: share of the lowest bins left out of the numerator.
    """

    kind: str
    pairs: Tensor
    lengths: Tensor
    samples: Tensor
    fractions: Tensor
    step: float
    low_fraction: float

    @property
    def mean(self) -> float:
        """Mean of the per-path fractions: the score of this path type."""
        return float(self.fractions.mean())

    def to_dict(self) -> Dict[str, object]:
        return {
            "kind": self.kind,
            "num_paths": len(self.pairs),
            "mean": self.mean,
            "std": float(self.fractions.std(unbiased=False)),
            "mean_samples": float(self.samples.double().mean()),
            "mean_length": float(self.lengths.mean()),
            "step": self.step,
            "low_fraction": self.low_fraction,
            "frequency_unit": "cycles per unit input distance",
        }


def path_fractions(
    model: nn.Module,
    inputs: Tensor,
    pairs: Tensor,
    kind: str,
    step: float = DEFAULT_STEP,
    low_fraction: float = DEFAULT_LOW_FRACTION,
    chunk: int = 8192,
) -> PathFractions:
    """Evaluate ``model`` (``(B, ...)`` -> logits ``(B, C)``) along ``pairs`` of ``inputs (N, ...)`` at a fixed ``step``
    and score each path (module docstring)."""
    check_choice("kind", kind, KINDS)
    lengths = path_lengths(inputs, pairs)
    positions = (
        step_positions(lengths, step)
        if not bool((lengths == 0).any())
        else [torch.zeros(1)] * len(pairs)
    )
    probabilities = probabilities_at(model, inputs, pairs, positions, chunk=chunk, lengths=lengths)
    fractions = torch.tensor(
        [high_frequency_fraction(p, low_fraction) for p in probabilities], dtype=torch.float64
    )
    samples = torch.tensor([len(p) for p in positions], dtype=torch.long)
    return PathFractions(
        kind, pairs.clone(), lengths, samples, fractions, float(step), float(low_fraction)
    )
