"""Run presets: what ``coordnet fit``, ``coordnet compare`` and :func:`coordnet.fit` do when a
setting is not given.

Every preset trains a fixed number of steps per model, so the same command gives the same
numbers on a busy machine as on an idle one (it only takes longer); ``time_limit`` (``--time``)
is an explicit choice for equal-time comparisons, whose numbers then depend on the machine.

- ``fast`` (the default): small models that need few FLOPs per dB, bf16 by the fixed rule of
  :func:`coordnet.training.precision.decide_bf16`, a constant learning rate that falls linearly
  over the last fifth of the steps (``stable-decay``), no early stop. Each compared model has its
  own step count (:meth:`RunPreset.steps_for`), chosen so that on an idle 2-core machine ``coordnet
  fit`` takes under a minute and ``coordnet compare`` under two.
- ``paper``: Tancik et al.'s image-regression settings as coordnet ran them before the fast
  preset existed: Gaussian Fourier features (256 frequencies, σ = 10) + ReLU MLP 3×256,
  2000 full-batch Adam steps at 1e-3, float32, no early stop.

Explicit options always win over the preset's values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple, Union

from coordnet.nets import ModelSpec, parse_spec
from coordnet.training.trainer import TrainConfig


@dataclass(frozen=True)
class RunPreset:
    """Defaults of one preset.

    Attributes:
        name: ``"fast"`` or ``"paper"``.
        model: the ``fit`` model spec.
        lr: Adam learning rate of ``model`` (other models get their family's default).
        schedule: the learning-rate schedule of every model (:data:`coordnet.training.trainer.SCHEDULES`).
        compare_models: the ``compare`` model specs.
        steps: optimiser steps of ``fit`` (and of compared models not in ``compare_steps``).
        compare_steps: optimiser steps of each of ``compare_models`` (by spec label).
        eval_every: steps between evaluations.
        patience: evaluations without a validation-PSNR gain before stopping (``None``: never).
        bf16: ``True``, ``False`` or ``"auto"`` (:func:`coordnet.training.precision.decide_bf16`).
    """

    name: str
    model: str
    lr: float
    schedule: str
    compare_models: Tuple[str, ...]
    steps: int
    eval_every: int
    patience: Optional[int]
    bf16: Union[bool, str]
    compare_steps: Dict[str, int] = field(default_factory=dict)

    def steps_for(self, spec: Union[str, ModelSpec]) -> int:
        """The step count of ``spec`` in ``compare``: its entry of ``compare_steps`` (matched by
        the spec's label), else :attr:`steps`."""
        label = (spec if isinstance(spec, ModelSpec) else parse_spec(spec)).label
        for model, steps in self.compare_steps.items():
            if parse_spec(model).label == label:
                return steps
        return self.steps


#: The fast preset's compared models and their step counts (measured: see the module docstring).
FAST_COMPARE = {
    "relu:width=128,depth=2": 180,
    "pe:num_frequencies=6,max_log2_freq=5+relu:width=128,depth=2": 160,
    "gauss:num_frequencies=128+relu:width=128,depth=2": 100,
    "siren:width=128,depth=2": 150,
    "hash:levels=16,F=2,N_min=8,b=1.26+relu:width=64,depth=2": 150,
}

PRESETS: Dict[str, RunPreset] = {
    "fast": RunPreset(
        name="fast",
        model="gauss:num_frequencies=256+relu:width=128,depth=2",
        lr=5e-3,
        schedule="stable-decay",
        compare_models=tuple(FAST_COMPARE),
        steps=230,
        eval_every=25,
        patience=None,
        bf16="auto",
        compare_steps=dict(FAST_COMPARE),
    ),
    "paper": RunPreset(
        name="paper",
        model="gauss",
        lr=1e-3,
        schedule="constant",
        compare_models=("none", "pe", "gauss", "siren"),
        steps=2000,
        eval_every=100,
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


def preset_config(
    preset: str = DEFAULT_PRESET,
    *,
    steps: Optional[int] = None,
    lr: Optional[float] = None,
    schedule: Optional[str] = None,
    batch_size: Optional[int] = None,
    seed: int = 0,
    bf16: Union[bool, str, None] = None,
    eval_every: Optional[int] = None,
    time_limit: Union[str, float, int, None] = None,
    patience: Optional[int] = None,
) -> TrainConfig:
    """A :class:`TrainConfig` from explicit settings, the ``preset``'s values for those left
    ``None`` (``lr`` ``None``: 1e-3; callers pass the model's own). ``time_limit`` takes what
    :func:`parse_duration` does (no preset sets one); ``patience`` 0 turns early stopping off.
    ``eval_every`` is capped at ``steps``."""
    defaults = get_preset(preset)
    steps = defaults.steps if steps is None else steps
    eval_every = defaults.eval_every if eval_every is None else eval_every
    return TrainConfig(
        steps=steps,
        lr=1e-3 if lr is None else lr,
        schedule=defaults.schedule if schedule is None else schedule,
        batch_size=batch_size,
        seed=seed,
        bf16=defaults.bf16 if bf16 is None else bf16,
        eval_every=min(eval_every, steps) if isinstance(eval_every, int) else eval_every,
        time_limit=parse_duration(time_limit),
        patience=defaults.patience if patience is None else (patience or None),
    )


#: Printed when a time limit is set: the numbers then depend on the machine.
TIME_LIMIT_NOTE = (
    "note: --time trains each model up to a wall-clock limit, so the step counts and every "
    "number below depend on this machine's speed and load; without it runs are fixed-step"
)
