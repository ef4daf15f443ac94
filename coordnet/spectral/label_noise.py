"""Label noise at a chosen input-space frequency, and how much of it a classifier fits.

Formulation (in the spirit of Fridovich-Keil et al. 2022's label-noise experiment): the clean
training targets are one-hot vectors ``e_y`` and the model is trained by **mean-squared error on
its outputs** (logits treated as regression outputs) against

    T_i = e_{y_i} + amplitude · n(x_i) · v,

where ``v`` is a fixed unit vector of the output space (seeded, orthogonal to the all-ones
vector so the noise does not shift every class alike) and ``n(x)`` a noise pattern of frequency
``f`` in input space:

* ``"planar"``: ``n(x) = sin(2π f ⟨x - c, d⟩)`` with ``d`` a random unit direction (seeded);
* ``"radial"``: ``n(x) = sin(2π f ‖x - c‖)``;

``x`` flattened, ``c`` a centre (default: the mean training input), ``f`` in cycles per unit of
input distance. The **fitted fraction** of the noise is the least-squares coefficient of the
pattern in the model's residual along ``v``:

    β = Σ_i ⟨o_i - b_i, v⟩ n(x_i) / (amplitude · Σ_i n(x_i)²),

with ``o_i`` the model's outputs on the training points and ``b_i`` a baseline (by default the
clean targets ``e_{y_i}``; a model trained on clean targets is a sharper baseline). ``β = 1``: the
noise is reproduced in full; ``β = 0``: none of it. (The paper scores noise fitting by the gap
between validation losses on noisy and clean targets during training; β instead reads the
fitted noise directly off the training points, one number per trained model.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, Optional

import torch
from torch import Tensor

from coordnet.validation import check_choice, check_count, check_positive

PATTERNS = ("planar", "radial")


@dataclass
class LabelNoise:
    """A noise pattern on ``N`` inputs.

    Attributes:
        kind: ``"planar"`` or ``"radial"``.
        frequency: ``f`` in cycles per unit of input distance.
        amplitude: scale of the noise added to the targets.
        pattern: ``(N,)`` float64 ``n(x_i)`` in ``[-1, 1]``.
        output_direction: ``(C,)`` unit vector ``v``.
        direction: ``(D,)`` unit input direction ``d`` (planar) or ``None``.
        center: ``(D,)`` centre ``c`` (flattened input).
    """

    kind: str
    frequency: float
    amplitude: float
    pattern: Tensor
    output_direction: Tensor
    direction: Optional[Tensor]
    center: Tensor

    def targets(self, labels: Tensor, num_classes: int) -> Tensor:
        """Noisy targets ``e_y + amplitude · n · v``: ``(N, C)`` float32."""
        onehot = torch.nn.functional.one_hot(labels.long(), num_classes).double()
        return (
            onehot + self.amplitude * self.pattern[:, None] * self.output_direction[None]
        ).float()

    def to_dict(self) -> Dict[str, object]:
        return {
            "kind": self.kind,
            "frequency": self.frequency,
            "amplitude": self.amplitude,
            "pattern_rms": float(self.pattern.pow(2).mean().sqrt()),
        }


def noise_pattern(
    inputs: Tensor,
    frequency: float,
    kind: str = "planar",
    *,
    num_classes: int,
    amplitude: float = 0.5,
    seed: int = 0,
    center: Optional[Tensor] = None,
) -> LabelNoise:
    """Draw ``d`` and ``v`` from ``seed`` and evaluate the noise pattern on ``inputs (N, ...)``."""
    check_choice("kind", kind, PATTERNS)
    frequency = float(frequency)
    if not math.isfinite(frequency) or frequency < 0:
        raise ValueError(f"frequency must be a finite number >= 0, got {frequency!r}")
    check_positive("amplitude", amplitude)
    check_count("num_classes", num_classes, minimum=2)
    flat = inputs.reshape(inputs.shape[0], -1).double()
    generator = torch.Generator().manual_seed(int(seed))
    c = flat.mean(dim=0) if center is None else center.reshape(-1).double()
    if c.shape[0] != flat.shape[1]:
        raise ValueError(f"center has {c.shape[0]} values, inputs have {flat.shape[1]} per example")
    v = torch.randn(num_classes, generator=generator, dtype=torch.float64)
    v = v - v.mean()
    v = v / v.norm()
    d = None
    if kind == "planar":
        d = torch.randn(flat.shape[1], generator=generator, dtype=torch.float64)
        d = d / d.norm()
        coordinate = (flat - c) @ d
    else:
        coordinate = (flat - c).norm(dim=1)
    pattern = torch.sin(2 * math.pi * frequency * coordinate)
    return LabelNoise(kind, frequency, float(amplitude), pattern, v, d, c)


def fitted_fraction(outputs: Tensor, noise: LabelNoise, baseline: Tensor) -> float:
    """β of the module docstring: ``outputs (N, C)``, ``baseline (N, C)`` (e.g. clean one-hot targets)."""
    if (
        outputs.shape != baseline.shape
        or outputs.ndim != 2
        or outputs.shape[1] != noise.output_direction.shape[0]
    ):
        raise ValueError(
            f"outputs {tuple(outputs.shape)} and baseline {tuple(baseline.shape)} must both be "
            f"(N, {noise.output_direction.shape[0]})"
        )
    if outputs.shape[0] != noise.pattern.shape[0]:
        raise ValueError(
            f"outputs has {outputs.shape[0]} rows, the noise pattern {noise.pattern.shape[0]}"
        )
    energy = float(noise.pattern.pow(2).sum())
    if energy == 0:
        raise ValueError(
            "the noise pattern is zero on every input (frequency 0?); the fitted fraction is undefined"
        )
    residual = (outputs.double() - baseline.double()) @ noise.output_direction
    return float((residual * noise.pattern).sum() / (noise.amplitude * energy))
