"""Entry point of the ``coordnet`` command."""

from __future__ import annotations

import os
import sys
from typing import Optional, Tuple

import click

from coordnet.cli.classifier_spectrum import classifier_spectrum as classifier_spectrum_command
from coordnet.cli.devices import device_option
from coordnet.cli.errors import OneLineErrorsGroup, friendly_errors
from coordnet.cli.regions import regions as regions_command
from coordnet.cli.reproduce import reproduce as reproduce_command
from coordnet.cli.sweep import sweep as sweep_command

DEFAULT_COMPARE = ("none", "pe", "gauss", "siren")


@click.group(cls=OneLineErrorsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="coordnet")
def cli() -> None:
    """coordnet: coordinate MLPs and the input encodings that overcome spectral bias."""


@cli.command()
@click.option(
    "--verify",
    is_flag=True,
    help="Also run every compiled op (forward and backward) against its pure-PyTorch reference "
    "on every device, one line each; exit 1 on a mismatch. Run it after installing on a GPU.",
)
@friendly_errors
def doctor(verify: bool) -> None:
    """Print versions, threads, and which backend runs on each device."""
    from coordnet.cli.doctor import run_doctor

    sys.exit(run_doctor(verify))


#: The options ``fit`` and ``compare`` share (each applies them through :func:`training_options`).
TRAINING_OPTIONS = [
    click.option(
        "--preset",
        type=click.Choice(["fast", "paper"]),
        default="fast",
        show_default=True,
        help="Defaults for what is not given: fast (small models, a fixed number of steps per "
        "model, bf16 by a fixed rule) or paper (gauss 3x256, 2000 float32 steps).",
    ),
    click.option(
        "--steps",
        default=None,
        type=click.IntRange(min=1),
        help="Optimiser steps per model [default: fast: 230 for fit, per model for compare "
        "(raw 180, pe 160, gauss 100, siren 150, hash 150); paper: 2000; an upper bound under --time].",
    ),
    click.option(
        "--time",
        "time_limit",
        default=None,
        help="Wall-time limit of training per model, e.g. 60s, 2m, 0 for none; the numbers then "
        "depend on the machine's speed and load [default: none, fixed steps].",
    ),
    click.option(
        "--patience",
        type=click.IntRange(min=0),
        default=None,
        help="Stop after this many evaluations without a gain in the PSNR of a validation split "
        "(5% of the training samples, held out; test samples never steer training), 0 for "
        "never [default: never].",
    ),
    click.option(
        "--lr",
        type=click.FloatRange(min=0, min_open=True),
        default=None,
        help="Adam learning rate [default: per model family, see `coordnet fit --help`].",
    ),
    click.option(
        "--schedule",
        type=click.Choice(["constant", "cosine", "exponential", "stable-decay"]),
        default=None,
        help="Learning-rate schedule [default: fast: stable-decay (constant, then a linear fall "
        "over the last fifth of the steps); paper: constant].",
    ),
    click.option(
        "--batch-size",
        type=click.IntRange(min=1),
        default=None,
        help="Random mini-batches of this size [default: full batch].",
    ),
    click.option(
        "--split",
        default=None,
        help="full | tancik (train even pixels, test odd) | holdout:FRACTION [default: tancik].",
    ),
    click.option(
        "--size",
        default=None,
        help="Resize images on load: N makes the longest side N (aspect ratio kept), WxH "
        "sets both; volumes by name: samples per axis.",
    ),
    click.option(
        "--seed",
        default=None,
        type=click.IntRange(0, 2**63 - 1),
        help="Random seed [default: 0; with --resume: the checkpoint's].",
    ),
    click.option(
        "--bf16/--no-bf16",
        default=None,
        help="bfloat16 autocast for the MLP, encoders stay float32 [default: fast: on a CPU with "
        "AVX512-BF16/AMX when the hidden layers do at least the input layer's multiply-adds; "
        "paper: off]. The decision is printed and stored in metrics.json and the checkpoint.",
    ),
    click.option(
        "--eval-every",
        default=None,
        type=click.IntRange(min=1),
        help="Steps between evaluations [default: fast: 25; paper: 100].",
    ),
    click.option("--resume", is_flag=True, help="Continue the checkpoint in --out."),
    click.option("--quiet", is_flag=True, help="No progress bar."),
    device_option(),
]


def training_options(command):
    """Options shared by ``fit`` and ``compare``."""
    for option in reversed(TRAINING_OPTIONS):
        command = option(command)
    return command


@cli.command()
@click.argument("signal", required=False)
@click.option(
    "-m",
    "--model",
    "spec",
    default=None,
    help="Model spec, e.g. none, pe:num_frequencies=10, gauss:sigma=10, siren:omega=30, or a TOML file "
    "[default: fast: gauss:num_frequencies=256+relu:width=128,depth=2 at lr 5e-3; paper: gauss].",
)
@click.option(
    "--out", "out_dir", default=None, help="Output folder [default: out/fit-<signal>-<model>]."
)
@click.option("--checkpoint-every", default=500, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--tensorboard", is_flag=True, help="Log scalars and reconstructions to OUT/tensorboard."
)
@click.option(
    "--probe",
    type=click.Choice(["spectrum", "regions"]),
    default=None,
    help="Record during training: the spectrum (spectrum.json, spectrum.png, spectral-bias index) "
    "or the activation-region count of a ReLU model (region_counts.json, region_counts.png, region_map.png).",
)
@click.option(
    "--probe-every",
    type=click.IntRange(min=1),
    default=None,
    help="Steps between probe records [default: steps/100].",
)
@training_options
@friendly_errors
def fit(
    signal: Optional[str],
    spec: Optional[str],
    out_dir: Optional[str],
    probe: Optional[str],
    time_limit: Optional[str],
    quiet: bool,
    **options,
) -> None:
    """Fit one model to SIGNAL (an image, .wav, .npy, .csv, or a bundled name; default: camera).

    Writes reconstruction.png, error.png, curves.png, metrics.json and checkpoint.pt; with
    --probe spectrum also spectrum.json and spectrum.png (the error energy per radial band of
    the 2D FFT over training, or the amplitudes of a 1D signal's strongest frequencies); with
    --probe regions region_counts.json, region_counts.png and region_map.png (activation regions among the
    signal's grid samples over training; ReLU models only).
    Default learning rates: 1e-2 for raw/basic inputs and hash grids, 1e-4 for SIREN/FINER, 1e-3
    otherwise.
    """
    from coordnet.runs.api import fit as fit_signal

    out_dir = out_dir or default_out("fit", signal, spec, options["preset"])
    result = fit_signal(
        signal,
        spec,
        out=out_dir,
        probes=() if probe is None else (probe,),
        time_limit=time_limit,
        progress=not quiet,
        announce=click.echo,
        wording=CLI_WORDING,
        **options,  # the other options have the names of coordnet.fit's arguments
    )
    if result.note:
        click.echo(result.note)
    click.echo(fit_summary(result.metrics, out_dir))
    if time_limit is not None:
        from coordnet.runs.presets import TIME_LIMIT_NOTE

        click.echo(TIME_LIMIT_NOTE)
    for line in probe_lines(result.metrics, result.probes, out_dir):
        click.echo(line)


def probe_lines(metrics, probes, out_dir: str):
    """What each probe of a fit measured, and where its files are."""
    if "spectrum" in probes:
        index = metrics.get("spectral_bias_index")
        yield (
            f"spectral-bias index {'-' if index is None else f'{index:.3f}'} -> "
            f"{os.path.join(out_dir, 'spectrum.json')}, spectrum.png"
        )
    if "regions" in probes:
        yield (
            f"activation regions {metrics.get('regions')} -> "
            f"{os.path.join(out_dir, 'region_counts.json')}, region_counts.png, region_map.png"
        )


#: How messages of :mod:`coordnet.runs.api` spell the options on the command line.
CLI_WORDING = {
    "resume": "--resume",
    "out": "--out",
    "steps": "--steps",
    "time": "--time",
    "probes": "--probe",
    "signal": "the SIGNAL argument",
    "size": "--size",
    "model": "-m/--model",
    "device": "--device",
}


def default_out(command: str, signal: Optional[str], spec: Optional[str], preset: str) -> str:
    """``out/fit-<signal>-<model>`` (``out/compare-<signal>`` for compare), from the names alone."""
    from pathlib import Path

    from coordnet.runs.api import resolve_model
    from coordnet.runs.compare import safe_name
    from coordnet.runs.presets import get_preset
    from coordnet.signals import EXTENSIONS

    path = Path(signal or "camera")
    name = safe_name(path.stem if path.suffix.lower() in EXTENSIONS else str(path).strip().lower())
    if command == "compare":
        return os.path.join("out", f"compare-{name}")
    label = resolve_model(spec, get_preset(preset), wording=CLI_WORDING)[0].label
    return os.path.join("out", f"fit-{name}-{safe_name(label)}")


def fit_summary(metrics, out_dir: str) -> str:
    """One line: PSNRs, SSIM, steps, seconds, why training stopped, the folder."""
    test = metrics["test_psnr"]
    return (
        f"{metrics['model']}: train {metrics['train_psnr']:.2f} dB, "
        f"test {'-' if test is None else f'{test:.2f} dB'}"
        + (f", SSIM {metrics['ssim']:.4f}" if metrics.get("ssim") is not None else "")
        + f", {metrics['steps']} steps in {metrics['seconds']:.1f} s"
        + {
            "time_limit": " (time limit reached)",
            "plateau": " (validation PSNR stopped improving)",
        }.get(metrics.get("stopped"), "")
        + f" -> {out_dir}"
    )


@cli.command()
@click.argument("signal", required=False)
@click.option(
    "-m",
    "--model",
    "specs",
    multiple=True,
    help=f"Model spec (repeatable) [default: fast: width-128 relu, pe, gauss, siren and a hash grid; "
    f"paper: {' '.join(DEFAULT_COMPARE)}].",
)
@click.option(
    "--seeds", default=1, show_default=True, type=click.IntRange(min=1), help="Runs per model."
)
@click.option(
    "--out", "out_dir", default=None, help="Output folder [default: out/compare-<signal>]."
)
@click.option(
    "--probe",
    type=click.Choice(["spectrum"]),
    default=None,
    help="Record each run's spectrum and add a spectral-bias index column.",
)
@click.option(
    "--probe-every",
    type=click.IntRange(min=1),
    default=None,
    help="Steps between probe records [default: steps/100].",
)
@training_options
@friendly_errors
def compare(
    signal: Optional[str],
    specs: Tuple[str, ...],
    out_dir: Optional[str],
    probe: Optional[str],
    time_limit: Optional[str],
    quiet: bool,
    split: Optional[str],
    **options,
) -> None:
    """Fit several models to SIGNAL and tabulate PSNR/SSIM (results.csv, comparison.png, curves.png).

    With --probe spectrum the table gains spectral_bias_index, Spearman's rank correlation of
    the step each radial frequency band is learned with its frequency (1: strictly low to high;
    bands never learned count as the last step), and spectral_learned, how many bands were learned.
    """
    from coordnet.runs.api import compare as compare_signal

    out_dir = out_dir or default_out("compare", signal, None, options["preset"])
    result = compare_signal(
        signal,
        list(specs) or None,
        out=out_dir,
        probes=() if probe is None else (probe,),
        time_limit=time_limit,
        split=split or "tancik",
        progress=not quiet,
        announce=click.echo,
        wording=CLI_WORDING,
        **options,  # the other options have the names of coordnet.compare's arguments
    )
    click.echo(result.table)
    click.echo(f"wrote {out_dir}/results.csv, comparison.png, curves.png")
    if time_limit is not None:
        from coordnet.runs.presets import TIME_LIMIT_NOTE

        click.echo(TIME_LIMIT_NOTE)


@cli.command()
@click.argument("checkpoint")
@click.option(
    "--size", "size", default=None, help="WxH in pixels [default: the fitted signal's size]."
)
@click.option("--out", "out_file", required=True, help="Output PNG.")
@click.option(
    "--chunk",
    default=65536,
    show_default=True,
    type=click.IntRange(min=1),
    help="Pixels per batch.",
)
@friendly_errors
def render(checkpoint: str, size: Optional[str], out_file: str, chunk: int) -> None:
    """Render a fitted image model at any resolution."""
    from coordnet.runs.render import render_checkpoint

    shape = render_checkpoint(checkpoint, out_file, size=size, chunk=chunk)
    click.echo(f"rendered {shape[1]}x{shape[0]} -> {out_file}")


cli.add_command(regions_command, name="regions")
cli.add_command(sweep_command, name="sweep")
cli.add_command(classifier_spectrum_command, name="classifier-spectrum")
cli.add_command(reproduce_command, name="reproduce")


def main() -> None:
    cli(prog_name="coordnet")


if __name__ == "__main__":
    main()
