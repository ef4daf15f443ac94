"""``coordnet sweep FILE``: run a sweep file locally or on a Ray cluster, then tabulate it."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Optional, Sequence

import click

from coordnet.cli.errors import friendly_errors

if TYPE_CHECKING:
    from coordnet.sweep.expand import Run


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
    from coordnet.sweep import expand, load_sweep
    from coordnet.sweep.driver import run_sweep
    from coordnet.sweep.plan import dry_run_lines, format_duration, sweep_state

    if ray_address is None:  # locally, more workers or threads than cores only oversubscribe them
        _check_cores(workers, threads)
    config = load_sweep(sweep_file)
    runs = expand(config)
    out_dir = out_dir or os.path.join(
        "out", f"sweep-{safe_name(os.path.splitext(os.path.basename(sweep_file))[0])}"
    )
    state = sweep_state(runs, out_dir)
    if state.unreadable:
        click.echo(
            f"{state.unreadable} run(s) have a result.json that cannot be read (e.g. "
            f"{state.unreadable_example}): fitting them again",
            err=True,
        )
    if dry_run:
        for line in dry_run_lines(
            runs,
            state,
            out_dir,
            config.steps,
            workers=workers,
            threads=threads,
            ray_address=ray_address,
            retry_failed=retry_failed,
        ):
            click.echo(line)
        return
    click.echo(f"{len(runs)} runs: {state.summary()} -> {out_dir}")
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
    click.echo(
        f"{len(outcome.done)} fitted, {len(outcome.failed)} failed, {len(outcome.skipped)} skipped "
        f"in {format_duration(outcome.seconds)}"
    )
    _write_results(runs, out_dir, config.name)


def _write_results(runs: Sequence["Run"], out_dir: str, title: str) -> None:
    """Tabulate the sweep; exit 1 when a run failed or is missing."""
    from coordnet.sweep import write_results
    from coordnet.sweep.run import ERROR, RUNS

    results = write_results(runs, out_dir, title=title)
    if results.failed:
        click.echo(
            f"{results.failed} run(s) failed: see {os.path.join(out_dir, RUNS, '<hash>', ERROR)} "
            f"(rerun with --retry-failed to try them again)"
        )
    plot = ", results.png" if results.done else ""  # write_results plots only finished runs
    click.echo(f"wrote {os.path.join(out_dir, 'results.csv')}, results.md{plot}")
    if results.failed or results.missing:
        sys.exit(1)  # the sweep is incomplete: scripts must not take it for a success


def _check_cores(workers: int, threads: Optional[int]) -> None:
    from coordnet.sweep.local import cpu_count
    from coordnet.validation import check_count

    cores = cpu_count()
    check_count("--workers", workers, maximum=cores, why=f"the {cores} cores of this machine")
    if threads is not None:
        check_count("--threads", threads, maximum=cores, why=f"the {cores} cores of this machine")
