"""Probes of a fit (``coordnet fit --probe NAME``): a registry of probe kinds.

A probe is a training callback from one of the analyses (:class:`coordnet.spectral.probe.SpectrumProbe`,
:class:`coordnet.regions.RegionCountCallback`) that records on its own schedule and restores
through ``state_dict``/``load_state_dict``, plus what its records add to ``metrics.json`` and which
files it writes. The fit runner knows probes only through :data:`PROBES`; a new probe is one
more :func:`register_probe` call.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional

import numpy as np
from torch import Tensor, nn

from coordnet.atomic import write_json
from coordnet.plots.regions import save_count_curves, save_region_map
from coordnet.plots.spectral import save_spectrum
from coordnet.regions import (
    RegionCountCallback,
    RegionCountWarning,
    region_map,
    relu_network,
    saturation,
)
from coordnet.signals import Signal
from coordnet.spectral.probe import SpectrumProbe
from coordnet.training import Callback

SPECTRUM = "spectrum.json"
REGION_COUNTS = "region_counts.json"


@dataclass(frozen=True)
class ProbeContext:
    """What a probe may look at when it is built, before anything is written.

    ``parts``: the split signal (``coordnet.signals.split_signal``); ``model``: the network to
    train; ``grid_coords (*grid_shape, d)``: the signal's full grid, grid-shaped (the coordinate
    convention of every probe); ``every``: the record interval in steps."""

    parts: Any
    model: nn.Module
    grid_coords: Tensor
    every: int


class FitProbe:
    """One probe of one fit: ``callback`` (added to the trainer before the checkpoint callback,
    so that a checkpoint holds the newest record), stored in checkpoints under ``checkpoint_key``."""

    checkpoint_key: str = ""

    def __init__(self, callback: Callback) -> None:
        self.callback: Any = callback  # a Callback with state_dict/load_state_dict

    def metrics(self) -> Dict[str, Any]:
        """Entries added to ``metrics.json`` after training."""
        return {}

    def write(self, out_dir: str, model: nn.Module, signal: Signal, label: str) -> None:
        """Write the probe's files into ``out_dir`` after training."""


class SpectrumFitProbe(FitProbe):
    """``--probe spectrum``: the spectrum of the prediction every ``every`` steps on the training
    points when they form a regular grid (splits ``full`` and ``tancik``), else on the full grid;
    writes ``spectrum.json`` (curves, learning steps, order, spectral-bias index) and ``spectrum.png``
    and adds ``spectral_bias_index`` and ``spectral_learned`` to the metrics. 1D and 2D signals only
    (``ValueError`` otherwise)."""

    checkpoint_key = "spectrum_probe"

    def __init__(self, context: ProbeContext) -> None:
        parts = context.parts
        signal = parts.signal
        if signal.dim not in (1, 2):
            raise ValueError(
                f"--probe spectrum measures 1D and 2D signals; {signal.name!r} is a {signal.kind} "
                f"with grid {signal.grid_shape}"
            )
        if parts.train_grid_shape is not None:
            grid, where = parts.train_grid_shape, "train"
            coords = parts.train_coords.reshape(*grid, signal.dim)
            values = parts.train_values.reshape(*grid, signal.channels)
        else:
            grid, where = signal.grid_shape, "full"
            coords, values = signal.coordinates(), signal.values
        super().__init__(SpectrumProbe(coords, values, context.every))
        self.grid = {"grid": where, "grid_shape": list(grid)}
        self._summary: Optional[Dict[str, Any]] = None

    def summary(self) -> Dict[str, Any]:
        """The curves (:mod:`coordnet.spectral.curves`) with the grid and the record interval."""
        if self._summary is None:
            self._summary = {
                **self.callback.curves().to_dict(),
                **self.grid,
                "every": self.callback.every,
            }
        return self._summary

    def metrics(self) -> Dict[str, Any]:
        spectrum = self.summary()
        return {
            "spectral_bias_index": spectrum["spectral_bias_index"],
            "spectral_learned": sum(step is not None for step in spectrum["learned_steps"]),
        }

    def write(self, out_dir: str, model: nn.Module, signal: Signal, label: str) -> None:
        spectrum = self.summary()
        write_json(os.path.join(out_dir, SPECTRUM), {"model": label, **spectrum})
        save_spectrum(os.path.join(out_dir, "spectrum.png"), spectrum, f"{signal.name}: {label}")


class RegionFitProbe(FitProbe):
    """``--probe regions``: the number of activation regions of a ReLU model among the signal's
    grid samples every ``every`` steps (a model that is not a ReLU network raises a ``TypeError``
    naming the layer); writes ``region_counts.json``, ``region_counts.png`` and, for 1D and 2D
    signals, ``region_map.png`` (names apart from ``coordnet regions``'s ``regions.json``), and
    adds ``regions`` (the last count) to the metrics. ``region_counts.json`` says whether the last
    count is saturated (at least 90% of the grid samples: the grid is too coarse to count)."""

    checkpoint_key = "region_probe"

    def __init__(self, context: ProbeContext) -> None:
        relu_network(context.model)
        super().__init__(RegionCountCallback(context.grid_coords, context.every))

    def metrics(self) -> Dict[str, Any]:
        counts = self.callback.counts
        return {"regions": counts[-1] if counts else None}

    def write(self, out_dir: str, model: nn.Module, signal: Signal, label: str) -> None:
        grid = list(signal.grid_shape)
        counts = self.callback.counts
        # the last count against the grid's samples: saturated when nearly one region per sample
        last = saturation(counts[-1] if counts else 0, int(np.prod(grid)), signal.dim)
        write_json(
            os.path.join(out_dir, REGION_COUNTS),
            {
                "model": label,
                "grid_shape": grid,
                **self.callback.state_dict(),
                "saturated": last.saturated,
                "saturation_advice": last.advice or None,
            },
        )
        save_count_curves(
            os.path.join(out_dir, "region_counts.png"),
            {label: (self.callback.steps, self.callback.counts)},
            title=f"{signal.name}: activation regions on the {'x'.join(map(str, grid))} grid",
            limit=int(np.prod(grid)),
        )
        if signal.dim in (1, 2):
            with warnings.catch_warnings():  # the callback has warned of a saturated count
                warnings.simplefilter("ignore", RegionCountWarning)
                ids = region_map(model, tuple(grid)).ids.numpy()
            note = "nearly one region per sample: the grid is too coarse" if last.saturated else ""
            save_region_map(os.path.join(out_dir, "region_map.png"), ids, title=label, note=note)


PROBES: Dict[str, Callable[[ProbeContext], FitProbe]] = {}


def register_probe(name: str, build: Callable[[ProbeContext], FitProbe]) -> None:
    """Make ``--probe name`` build its probe with ``build(context)``."""
    PROBES[name] = build


def build_probe(name: str, context: ProbeContext) -> FitProbe:
    """The probe ``name`` for one fit; ``ValueError`` naming the known probes for an unknown name."""
    if name not in PROBES:
        raise ValueError(f"probe must be one of {', '.join(PROBES)}, got {name!r}")
    return PROBES[name](context)


def default_probe_every(steps: int) -> int:
    """Records every ``steps / 100`` steps (at least every step): about 100 records a run."""
    return max(1, steps // 100)


register_probe("spectrum", SpectrumFitProbe)
register_probe("regions", RegionFitProbe)
