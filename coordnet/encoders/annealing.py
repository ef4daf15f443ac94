"""Coarse-to-fine frequency annealing (Nerfies, Park et al. 2021; BARF, Lin et al. 2021)."""

from __future__ import annotations

import math

import torch
from torch import Tensor


def cosine_window(num_frequencies: int, alpha: float, dtype: torch.dtype = torch.float32) -> Tensor:
    """Weights ``w_l = (1 - cos(pi * clamp(alpha - l, 0, 1))) / 2`` for ``l = 0..L-1`` -> ``(L,)``.

    ``alpha = 0`` switches every band off, ``alpha >= L`` switches every band fully on;
    band ``l`` fades in while ``alpha`` goes from ``l`` to ``l + 1``.
    """
    if num_frequencies < 0:
        raise ValueError(f"num_frequencies must be non-negative, got {num_frequencies}")
    if not math.isfinite(alpha):
        raise ValueError(f"alpha must be finite, got {alpha}")
    bands = torch.arange(num_frequencies, dtype=torch.float64)
    ramp = torch.clamp(alpha - bands, 0.0, 1.0)
    return ((1.0 - torch.cos(math.pi * ramp)) / 2.0).to(dtype)


def annealing_alpha(
    step: int, num_frequencies: int, anneal_steps: int, start_step: int = 0
) -> float:
    """Window position for a training step: grows linearly from 0 at ``start_step`` to
    ``num_frequencies`` at ``start_step + anneal_steps`` (Nerfies' schedule)."""
    if anneal_steps <= 0:
        raise ValueError(f"anneal_steps must be positive, got {anneal_steps}")
    progress = min(max((step - start_step) / anneal_steps, 0.0), 1.0)
    return progress * num_frequencies
