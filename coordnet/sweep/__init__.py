"""Sweeps: a TOML file of images x model grids x seeds, run locally or on Ray, resumable.

:func:`load_sweep` (:mod:`~coordnet.sweep.config`) -> :func:`expand` (runs, each named by the
hash of its config) -> :func:`run_sweep` (:mod:`~coordnet.sweep.driver`: the local process
pool of :mod:`~coordnet.sweep.local` or the Ray tasks of :mod:`~coordnet.sweep.ray_backend`,
each run by :func:`~coordnet.sweep.run.execute`) -> :func:`write_results`
(:mod:`~coordnet.sweep.aggregate`). :func:`calibrate` estimates the cost beforehand.
"""

from coordnet.sweep.aggregate import SweepResults, collect, write_results
from coordnet.sweep.calibrate import Calibration, calibrate, estimate
from coordnet.sweep.config import ModelGrid, SweepConfig, SweepFileError, load_sweep, parse_sweep
from coordnet.sweep.driver import SweepOutcome, run_sweep, statuses
from coordnet.sweep.expand import Run, config_hash, expand

__all__ = [
    "Calibration",
    "ModelGrid",
    "Run",
    "SweepConfig",
    "SweepFileError",
    "SweepOutcome",
    "SweepResults",
    "calibrate",
    "collect",
    "config_hash",
    "estimate",
    "expand",
    "load_sweep",
    "parse_sweep",
    "run_sweep",
    "statuses",
    "write_results",
]
