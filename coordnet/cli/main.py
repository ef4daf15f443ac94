"""Entry point of the ``coordnet`` command."""
from __future__ import annotations

import sys

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="coordnet")
def cli() -> None:
    """coordnet: coordinate MLPs and the input encodings that overcome spectral bias."""


@cli.command()
def doctor() -> None:
    """Print versions, threads, and which backend runs on each device."""
    from coordnet.cli.doctor import report

    click.echo(report())


@cli.command()
@click.option("--out", "out_dir", default="out/demo", show_default=True, help="Output folder.")
@click.option("--size", default=128, show_default=True, help="Image side in pixels (even).")
@click.option("--steps", default=300, show_default=True, help="Adam steps per mapping.")
@click.option("-m", "--mapping", "mappings", multiple=True, help="Subset of none, pe, gauss (repeatable).")
def demo(out_dir: str, size: int, steps: int, mappings: tuple) -> None:
    """Fit scikit-image's camera with no mapping, positional encoding and Gaussian Fourier features."""
    from coordnet.cli.demo import run_demo

    try:
        run_demo(out_dir, size=size, steps=steps, mappings=list(mappings) or None, progress=click.echo)
    except ValueError as error:
        raise click.UsageError(str(error)) from error
    click.echo(f"wrote {out_dir}/comparison.png and {out_dir}/metrics.json")


def main() -> None:
    cli(prog_name="coordnet")


if __name__ == "__main__":
    sys.exit(main())
