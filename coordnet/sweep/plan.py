"""What a sweep will do before it runs: the status of each run and, for ``--dry-run``, a table of
the runs with their estimated cost (from a short calibration, :mod:`coordnet.sweep.calibrate`)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

from coordnet.sweep.aggregate import image_name
from coordnet.sweep.calibrate import Calibration, calibrate, estimate
from coordnet.sweep.driver import statuses, to_do
from coordnet.sweep.expand import Run
from coordnet.sweep.local import threads_per_worker
from coordnet.sweep.run import RUNS

STATUSES = ("done", "failed", "unreadable", "pending")


def format_duration(seconds: float) -> str:
    """``90 -> '90 s'``, ``600 -> '10.0 min'``, ``9000 -> '2.5 h'``."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


@dataclass
class SweepState:
    """The status of each run of a sweep in its output folder.

    Attributes:
        status: ``run hash -> "done" | "failed" | "pending"`` (an unreadable result counts as pending).
        counts: runs per status.
        unreadable: how many runs had a ``result.json`` that cannot be read (fitted again).
        unreadable_example: the path of one such file, or ``None``.
    """

    status: Dict[str, str]
    counts: Dict[str, int]
    unreadable: int
    unreadable_example: Optional[str]

    def summary(self) -> str:
        """``"3 done, 1 failed, 4 pending"``."""
        c = self.counts
        return f"{c['done']} done, {c['failed']} failed, {c['pending']} pending"


def sweep_state(runs: Sequence[Run], out_dir: str) -> SweepState:
    """The :class:`SweepState` of ``runs`` in ``out_dir`` (read from the run folders)."""
    status = statuses(runs, out_dir)
    counts = {s: sum(1 for v in status.values() if v == s) for s in STATUSES}
    unreadable = counts.pop("unreadable")
    example = next((h for h, v in status.items() if v == "unreadable"), None)
    counts["pending"] += unreadable
    return SweepState(
        status,
        counts,
        unreadable,
        None if example is None else os.path.join(out_dir, RUNS, example, "result.json"),
    )


def _row(run: Run, status: str, cost: str) -> str:
    params = ",".join(f"{k}={v}" for k, v in run.params.items())
    image = image_name(run.image)
    return (
        f"{run.hash:<16}  {status:<7}  {image[:14]:<14}  {run.model[:22]:<22}  "
        f"{params[:18]:<18}  {run.seed:>4}  {cost}"
    )


def dry_run_lines(
    runs: Sequence[Run],
    state: SweepState,
    out_dir: str,
    steps: int,
    *,
    workers: int = 1,
    threads: Optional[int] = None,
    ray_address: Optional[str] = None,
    retry_failed: bool = False,
) -> List[str]:
    """The lines ``coordnet sweep --dry-run`` prints: a header, one row per run (hash, status,
    image, model, grid values, seed, estimated time of the runs still to do), and a summary with
    the estimated total and wall time on ``workers`` local processes or on Ray. Calibrates on the
    runs to do (a few timed steps each); fits nothing."""
    lanes = workers if ray_address is None else 1
    per_run = threads or (threads_per_worker(workers) if ray_address is None else 1)
    todo = to_do(runs, out_dir, retry_failed)
    todo_hashes = {run.hash for run in todo}
    calibration: Optional[Calibration] = calibrate(todo, threads=per_run) if todo else None
    lines = [f"{'hash':<16}  {'status':<7}  {'image':<14}  {'model':<22}  {'grid':<18}  seed  est."]
    for run in runs:
        cell = "-"
        if calibration is not None and run.hash in todo_hashes:
            cell = format_duration(calibration.run_seconds(run))
        lines.append(_row(run, state.status[run.hash], cell))
    summary = f"{len(runs)} runs ({state.summary()}); {len(todo)} to run"
    if calibration is None:
        return lines + [summary]
    cost = estimate(todo, calibration, workers=lanes)
    where = (
        f"{lanes} local worker(s) x {per_run} thread(s)"
        if ray_address is None
        else "Ray (sum over tasks)"
    )
    return lines + [
        f"{summary} x {steps} steps: estimated {format_duration(cost['total_seconds'])} of runs, "
        f"about {format_duration(cost['wall_seconds'])} wall time on {where} "
        f"(calibrated in {calibration.seconds:.1f} s)"
    ]
