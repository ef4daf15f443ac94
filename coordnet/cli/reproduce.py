"""``coordnet reproduce NAME``: run a published experiment at a budget, or write its report.

``coordnet reproduce --list`` lists the experiments; ``coordnet reproduce NAME --report`` writes
the Markdown tables of ``OUT/results.json`` (the single source of the documented numbers).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Tuple

import click

from coordnet.cli.errors import friendly_errors


@click.command()
@click.argument("name", required=False)
@click.option("--list", "list_", is_flag=True, help="List the experiments, one line each.")
@click.option("--budget", default="cpu", show_default=True, help="Budget (settings bundle).")
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override one setting of the budget (repeatable; typed by the setting).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder [default: reproductions/NAME-BUDGET].",
)
@click.option(
    "--report",
    is_flag=True,
    help="Write OUT/report.md from OUT/results.json and print it; runs nothing.",
)
@click.option(
    "--into",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="With --report: also replace the marked block of this Markdown page.",
)
@click.option(
    "--data",
    type=click.Path(path_type=Path),
    default=None,
    help="Input data folder (tancik2020: the data set; lazzari2023: test images).",
)
@click.option("--image", default=None, help="lazzari2023: one bundled image name or image file.")
@click.option("--device", default="cpu", show_default=True, help="tancik2020: cpu or cuda.")
@click.option(
    "--sigma-search", is_flag=True, help="tancik2020: choose σ per set by the shipped σ sweep."
)
@click.option("--no-figures", is_flag=True, help="Skip the figures (lazzari2023, fridovich2022).")
@friendly_errors
def reproduce(
    name: Optional[str],
    list_: bool,
    budget: str,
    overrides: Tuple[str, ...],
    out: Optional[Path],
    report: bool,
    into: Optional[Path],
    data: Optional[Path],
    image: Optional[str],
    device: str,
    sigma_search: bool,
    no_figures: bool,
) -> None:
    """Reproduce experiment NAME at a budget (default cpu); see --list."""
    from coordnet.experiments import reproduce as harness

    if list_:
        for experiment in harness.EXPERIMENTS:
            click.echo(harness.summary(experiment))
        return
    if name is None:
        raise click.UsageError("missing NAME (see 'coordnet reproduce --list')")
    if into is not None and not report:
        raise click.UsageError("--into needs --report")
    harness.experiment(name)  # unknown names fail before anything is written
    out = out if out is not None else harness.default_out(name, budget)
    if report:
        from coordnet.experiments.report import write_report

        click.echo(write_report(name, out, into), nl=False)
        return
    options = harness.RunOptions(
        out=out,
        data=data,
        image=image,
        device=device,
        sigma_search=sigma_search,
        figures=not no_figures,
    )
    status = harness.reproduce(name, budget, overrides, options)
    if status:
        raise SystemExit(status)
