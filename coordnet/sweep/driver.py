"""``run_sweep``: the runs still to do, on the local pool or on Ray, with one progress bar."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

from coordnet.atomic import write_json
from coordnet.outdir_lock import output_folder_lock
from coordnet.sweep.expand import Run
from coordnet.sweep.run import DONE, FAILED, PENDING, UNREADABLE, run_status, settle

SWEEP_FILE = "sweep.json"


@dataclass
class SweepOutcome:
    """What a call of :func:`run_sweep` did: run hashes by what happened to them."""

    done: List[str] = field(default_factory=list)  # finished in this call
    failed: List[str] = field(default_factory=list)  # failed in this call
    skipped: List[str] = field(default_factory=list)  # finished (or failed) before this call
    seconds: float = 0.0


class SweepProgress:
    """One tqdm bar over the runs to do: ``done``, ``failed``, ``running`` in its postfix, ETA."""

    def __init__(self, total: int, enabled: bool = True, initial_done: int = 0) -> None:
        from tqdm.auto import tqdm

        self.done, self.failed, self.running = 0, 0, 0
        self.bar = tqdm(
            total=total, unit="run", desc="sweep", disable=not enabled, dynamic_ncols=True
        )
        self.skipped = initial_done
        self._show()

    def _show(self) -> None:
        self.bar.set_postfix_str(
            f"done {self.done}, failed {self.failed}, running {self.running}"
            + (f", skipped {self.skipped}" if self.skipped else "")
        )

    def start(self, run: Run) -> None:
        self.running += 1
        self._show()

    def requeue(self, run: Run) -> None:
        """``run`` lost its worker and waits to start again."""
        self.running -= 1
        self._show()

    def finish(self, run: Run, record: Dict) -> None:
        self.running -= 1
        if record.get("status") == DONE:
            self.done += 1
        else:
            self.failed += 1
        self.bar.update(1)
        self._show()

    def close(self) -> None:
        self.bar.close()


def statuses(runs: Sequence[Run], out_dir: str) -> Dict[str, str]:
    """``hash -> "done" | "failed" | "unreadable" | "pending"`` from the run folders in ``out_dir``."""
    return {run.hash: run_status(out_dir, run) for run in runs}


def to_do(runs: Sequence[Run], out_dir: str, retry_failed: bool = False) -> List[Run]:
    """The runs without a readable ``result.json`` (and without ``error.json`` unless ``retry_failed``)."""
    wanted = (PENDING, UNREADABLE, FAILED) if retry_failed else (PENDING, UNREADABLE)
    return [run for run in runs if run_status(out_dir, run) in wanted]


def run_sweep(
    runs: Sequence[Run],
    out_dir: str,
    workers: int = 1,
    ray_address: Optional[str] = None,
    threads: Optional[int] = None,
    retry_failed: bool = False,
    progress: bool = True,
) -> SweepOutcome:
    """Fit the runs of ``runs`` not yet finished in ``out_dir`` (each into ``OUT/runs/<hash>``).

    Local process pool of ``workers`` by default; with ``ray_address`` (``"auto"``, an
    address, or ``"local"`` for a Ray already initialised or started here) Ray tasks.
    Failed runs are recorded and skipped on later calls unless ``retry_failed``; a run whose
    ``result.json`` cannot be read is fitted again. Holds the output-folder lock
    (:mod:`coordnet.outdir_lock`) throughout: another driver on ``out_dir`` raises
    ``OutputFolderBusyError`` at once. Local workers end with the driver however it dies
    (:mod:`~coordnet.sweep.lifeline`). Writes ``OUT/sweep.json`` (the run list) first."""
    with output_folder_lock(out_dir):  # a second driver on out_dir fails at once, naming this one
        return _run_sweep(runs, out_dir, workers, ray_address, threads, retry_failed, progress)


def _run_sweep(
    runs: Sequence[Run],
    out_dir: str,
    workers: int,
    ray_address: Optional[str],
    threads: Optional[int],
    retry_failed: bool,
    progress: bool,
) -> SweepOutcome:
    started = time.perf_counter()
    write_json(os.path.join(out_dir, SWEEP_FILE), {"runs": [run.to_dict() for run in runs]})
    todo = to_do(runs, out_dir, retry_failed)
    pending = {run.hash for run in todo}
    outcome = SweepOutcome(skipped=[run.hash for run in runs if run.hash not in pending])
    bar = SweepProgress(len(todo), enabled=progress, initial_done=len(outcome.skipped))

    def finish(run: Run, record: Dict) -> None:
        settle(out_dir, record)
        (outcome.done if record.get("status") == DONE else outcome.failed).append(run.hash)
        bar.finish(run, record)

    try:
        if ray_address is not None:
            from coordnet.sweep.ray_backend import run_ray

            run_ray(
                todo,
                out_dir,
                None if ray_address == "local" else ray_address,
                threads or 1,
                on_start=bar.start,
                on_finish=finish,
            )
        else:
            from coordnet.sweep.local import run_local

            run_local(
                todo,
                out_dir,
                workers=workers,
                threads=threads,
                on_start=bar.start,
                on_finish=finish,
                on_requeue=bar.requeue,
            )
    finally:
        bar.close()
    outcome.seconds = time.perf_counter() - started
    return outcome
