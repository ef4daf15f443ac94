"""``coordnet sweep FILE``: run a sweep file locally or on a Ray cluster, then tabulate it."""

from __future__ import annotations

import os
import sys
from typing import Optional

import click

from coordnet.cli.errors import friendly_errors


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _params(params: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in params.items())


@click.command()
@click.argument("sweep_file", type=click.Path(dir_okay=False))
@click.option(
    "--dry-run",
    is_flag=True,
    help="List the runs and the estimated cost (a short calibration); fit nothing.",
)
@click.option(
    "--out", "out_dir", default=None, help="Output folder [default: out/sweep-<file name>]."
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Local worker processes (torch threads per worker: cores // workers).",
)
@click.option(
    "--threads",
    default=None,
    type=click.IntRange(min=1),
    help="Torch threads per run [default: cores // workers locally, 1 per Ray task].",
)
@click.option(
    "--ray",
    "ray_address",
    default=None,
    metavar="ADDRESS",
    help="Run each fit as a task on the Ray cluster at ADDRESS ('auto': the cluster of this node).",
)
@click.option("--retry-failed", is_flag=True, help="Run again the runs that failed before.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@friendly_errors
def sweep(
    sweep_file: str,
    dry_run: bool,
    out_dir: Optional[str],
    workers: int,
    threads: Optional[int],
    ray_address: Optional[str],
    retry_failed: bool,
    quiet: bool,
) -> None:
    """Fit every run of SWEEP_FILE (TOML: images x models x grid values x seeds).

    Each run gets the folder OUT/runs/<hash of its config>: a rerun skips finished runs (a
    result.json that cannot be read is fitted again), a failed run is recorded in its
    error.json and the sweep goes on; the exit status is 1 when any run failed. Stopping the
    sweep (Ctrl-C, kill) ends its worker processes too. At the end: results.csv,
    results.md (mean ± std over seeds) and results.png (test PSNR vs each model's grid key).
    """
    from coordnet.runs.compare import safe_name
    from coordnet.sweep import expand, load_sweep, write_results
    from coordnet.sweep.aggregate import image_name
    from coordnet.sweep.driver import run_sweep, statuses, to_do
    from coordnet.sweep.local import threads_per_worker
    from coordnet.sweep.run import ERROR, RUNS

    if ray_address is None:  # locally, more workers or threads than cores only oversubscribe them
        from coordnet.sweep.local import cpu_count
        from coordnet.validation import check_count

        cores = cpu_count()
        check_count("--workers", workers, maximum=cores, why=f"the {cores} cores of this machine")
        if threads is not None:
            check_count(
                "--threads", threads, maximum=cores, why=f"the {cores} cores of this machine"
            )
    config = load_sweep(sweep_file)
    runs = expand(config)
    out_dir = out_dir or os.path.join(
        "out", f"sweep-{safe_name(os.path.splitext(os.path.basename(sweep_file))[0])}"
    )
    state = statuses(runs, out_dir)
    counts = {
        s: sum(1 for v in state.values() if v == s)
        for s in ("done", "failed", "unreadable", "pending")
    }
    if counts["unreadable"]:
        first = next(h for h, v in state.items() if v == "unreadable")
        click.echo(
            f"{counts['unreadable']} run(s) have a result.json that cannot be read (e.g. "
            f"{os.path.join(out_dir, RUNS, first, 'result.json')}): fitting them again",
            err=True,
        )
        counts["pending"] += counts.pop("unreadable")
    if dry_run:
        from coordnet.sweep.calibrate import calibrate, estimate

        lanes = workers if ray_address is None else 1
        per_run = threads or (threads_per_worker(workers) if ray_address is None else 1)
        todo = to_do(runs, out_dir, retry_failed)
        todo_hashes = {run.hash for run in todo}
        calibration = calibrate(todo, threads=per_run) if todo else None
        click.echo(
            f"{'hash':<16}  {'status':<7}  {'image':<14}  {'model':<22}  {'grid':<18}  seed  est."
        )
        for run in runs:
            image = image_name(run.image)
            cell = (
                _duration(calibration.run_seconds(run))
                if calibration and run.hash in todo_hashes
                else "-"
            )
            click.echo(
                f"{run.hash:<16}  {state[run.hash]:<7}  {image[:14]:<14}  {run.model[:22]:<22}  "
                f"{_params(run.params)[:18]:<18}  {run.seed:>4}  {cell}"
            )
        summary = (
            f"{len(runs)} runs ({counts['done']} done, {counts['failed']} failed, {counts['pending']} pending); "
            f"{len(todo)} to run"
        )
        if calibration is None:
            click.echo(summary)
            return
        cost = estimate(todo, calibration, workers=lanes)
        where = (
            f"{lanes} local worker(s) x {per_run} thread(s)"
            if ray_address is None
            else "Ray (sum over tasks)"
        )
        click.echo(
            f"{summary} x {config.steps} steps: estimated {_duration(cost['total_seconds'])} of runs, "
            f"about {_duration(cost['wall_seconds'])} wall time on {where} "
            f"(calibrated in {calibration.seconds:.1f} s)"
        )
        return
    click.echo(
        f"{len(runs)} runs: {counts['done']} done, {counts['failed']} failed, {counts['pending']} pending -> {out_dir}"
    )
    try:
        outcome = run_sweep(
            runs,
            out_dir,
            workers=workers,
            ray_address=ray_address,
            threads=threads,
            retry_failed=retry_failed,
            progress=not quiet,
        )
    except KeyboardInterrupt:
        click.echo(
            "interrupted; finished runs are kept: rerun the same command to fit the others",
            err=True,
        )
        sys.exit(130)
    results = write_results(runs, out_dir, title=config.name)
    click.echo(
        f"{len(outcome.done)} fitted, {len(outcome.failed)} failed, {len(outcome.skipped)} skipped "
        f"in {_duration(outcome.seconds)}"
    )
    if results.failed:
        click.echo(
            f"{results.failed} run(s) failed: see {os.path.join(out_dir, RUNS, '<hash>', ERROR)} "
            f"(rerun with --retry-failed to try them again)"
        )
    plot = ", results.png" if results.done else ""  # write_results plots only finished runs
    click.echo(f"wrote {os.path.join(out_dir, 'results.csv')}, results.md{plot}")
    if results.failed or results.missing:
        sys.exit(1)  # the sweep is incomplete: scripts must not take it for a success
