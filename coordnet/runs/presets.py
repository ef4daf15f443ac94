"""Run presets: what ``coordnet fit`` and ``coordnet compare`` do when a setting is not given.

- ``fast`` (the default): a model that needs few FLOPs per dB, bf16 where the CPU gains from
  it, a wall-time budget whose last fifth decays the learning rate (``stable-decay``) and a
  stop when the held-out PSNR stops improving; results depend on
  the machine's speed (the number of steps trained is in ``metrics.json``).
- ``paper``: Tancik et al.'s image-regression settings as coordnet ran them before the fast
  preset existed: Gaussian Fourier features (256 frequencies, σ = 10) + ReLU MLP 3×256,
  2000 full-batch Adam steps at 1e-3, float32, no time limit, no early stop.

Explicit options always win over the preset's values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Tuple, Union


@dataclass(frozen=True)
class RunPreset:
    """Defaults of one preset.

    Attributes:
        name: ``"fast"`` or ``"paper"``.
        model: the ``fit`` model spec.
        lr: Adam learning rate of ``model`` (other models get their family's default).
        schedule: the learning-rate schedule of every model (:data:`coordnet.training.trainer.SCHEDULES`).
        compare_models: the ``compare`` model specs.
        steps: optimiser steps (an upper bound when ``time_limit`` is set).
        eval_every: steps between evaluations.
        time_limit: wall seconds of training per fit (``None``: none).
        compare_time_limit: wall seconds of training per model in ``compare``.
        patience: evaluations without held-out PSNR gain before stopping (``None``: never).
        bf16: ``True``, ``False`` or ``"auto"`` (see :func:`coordnet.training.precision.choose_bf16`).
    """

    name: str
    model: str
    lr: float
    schedule: str
    compare_models: Tuple[str, ...]
    steps: int
    eval_every: int
    time_limit: Optional[float]
    compare_time_limit: Optional[float]
    patience: Optional[int]
    bf16: Union[bool, str]


PRESETS: Dict[str, RunPreset] = {
    "fast": RunPreset(
        name="fast",
        model="gauss:num_frequencies=256+relu:width=128,depth=2",
        lr=5e-3,
        schedule="stable-decay",
        compare_models=(
            "relu:width=128,depth=2",
            "pe:num_frequencies=6,max_log2_freq=5+relu:width=128,depth=2",
            "gauss:num_frequencies=128+relu:width=128,depth=2",
            "siren:width=128,depth=2",
            "hash:levels=16,F=2,N_min=8,b=1.26+relu:width=64,depth=2",
        ),
        steps=2000,
        eval_every=25,
        time_limit=50.0,
        compare_time_limit=20.0,
        patience=4,
        bf16="auto",
    ),
    "paper": RunPreset(
        name="paper",
        model="gauss",
        lr=1e-3,
        schedule="constant",
        compare_models=("none", "pe", "gauss", "siren"),
        steps=2000,
        eval_every=100,
        time_limit=None,
        compare_time_limit=None,
        patience=None,
        bf16=False,
    ),
}
DEFAULT_PRESET = "fast"


def get_preset(name: str) -> RunPreset:
    """The preset called ``name``; a ``ValueError`` names the valid ones otherwise."""
    if name not in PRESETS:
        raise ValueError(f"preset must be one of {', '.join(PRESETS)}, got {name!r}")
    return PRESETS[name]


def parse_duration(text: Union[str, float, int, None]) -> Optional[float]:
    """Seconds from ``"60"``, ``"60s"``, ``"2m"``, ``"1.5min"``, ``"1h"``; ``"0"``/``"none"``/``None``:
    no limit. A ``ValueError`` names a malformed or negative value."""
    if text is None:
        return None
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
    else:
        word = str(text).strip().lower()
        if word in ("none", "off", ""):
            return None
        units = (("min", 60.0), ("s", 1.0), ("m", 60.0), ("h", 3600.0))
        factor = 1.0
        for suffix, scale in units:
            if word.endswith(suffix):
                word, factor = word[: -len(suffix)].strip(), scale
                break
        try:
            value = float(word) * factor
        except ValueError:
            raise ValueError(
                f"time must be a duration such as 60s, 2m or 1h, got {text!r}"
            ) from None
    if not value >= 0 or value == float("inf"):
        raise ValueError(f"time must be a non-negative, finite duration, got {text!r}")
    return None if value == 0 else value
