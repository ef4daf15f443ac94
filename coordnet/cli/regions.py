"""``coordnet regions``: count and draw the activation regions of a ReLU model on a grid.

The model is a fit's checkpoint (``CHECKPOINT``, as ``coordnet render`` takes it) or an
untrained model built from a spec (``--init SPEC``). Its activation regions are counted on a
regular grid over the signal's domain (:func:`coordnet.regions.region_map`) and written to
``OUT/regions.json``, ``OUT/regions.png`` (a random colour per region, seeded) and
``OUT/boundaries.png`` (samples whose grid neighbour lies in another region, black), both on
the grid's axes with the count in the title. A count of at least 90% of the samples (nearly one
region per sample: the grid is too coarse) is flagged in the JSON (``saturated``,
``saturation_advice``), in the figures' titles and by a warning on stderr.
"""

from __future__ import annotations

import math
import os
import re
import time
import warnings
from typing import Any, Dict, Optional, Tuple

import click

from coordnet.cli.devices import check_device, device_option
from coordnet.cli.errors import friendly_errors

RESULTS = "regions.json"
REGION_PNG = "regions.png"
BOUNDARY_PNG = "boundaries.png"
#: Grid samples per axis of an untrained model (``--init``) when ``--size`` is not given.
DEFAULT_INIT_SIZE = {1: 4096, 2: 512, 3: 64}
#: Seed of the region colours: the same map always gives the same PNG.
COLOUR_SEED = 0

_UNITS = {
    "": 1,
    "b": 1,
    "k": 2**10,
    "kib": 2**10,
    "kb": 10**3,
    "m": 2**20,
    "mib": 2**20,
    "mb": 10**6,
    "g": 2**30,
    "gib": 2**30,
    "gb": 10**9,
    "t": 2**40,
    "tib": 2**40,
    "tb": 10**12,
}


def parse_grid_size(text: str, in_dim: int) -> Tuple[int, ...]:
    """``--size`` -> grid shape (samples per axis, axis 0 first).

    ``"512"``: 512 along each of the ``in_dim`` axes. Otherwise one number per axis joined by
    ``x``, listed last axis first as an image's ``WIDTHxHEIGHT``: ``"640x480"`` -> ``(480, 640)``
    (480 rows, 640 columns); ``"XxYxZ"`` -> ``(Z, Y, X)``.
    """
    parts = re.split(r"\s*[xX]\s*", (text or "").strip())
    ok = all(re.fullmatch(r"\d+", p) for p in parts) and len(parts) in (1, in_dim)
    numbers = [int(p) for p in parts] if ok else []
    if not ok or any(n < 1 for n in numbers):
        example = {1: "4096", 2: "512 or 640x480", 3: "64 or 64x64x32"}.get(in_dim, "512")
        raise ValueError(
            f"--size must be one positive number or {in_dim} joined by 'x' for a model with {in_dim} input "
            f"dimension(s) (e.g. {example}); got {text!r}"
        )
    if len(numbers) == 1:
        return (numbers[0],) * in_dim
    return tuple(reversed(numbers))


def format_grid_size(shape: Tuple[int, ...]) -> str:
    """Inverse of :func:`parse_grid_size`: ``(480, 640)`` -> ``"640x480"``."""
    return "x".join(str(n) for n in reversed(shape))


def parse_bytes(text: str) -> int:
    """``--max-memory`` -> bytes: ``"2GiB"``, ``"512M"``, ``"1.5G"``, ``"100000"``.

    K/M/G/T and KiB/MiB/GiB/TiB are binary, KB/MB/GB/TB decimal.
    """
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*", text or "")
    unit = match.group(2).lower() if match else None
    if not match or unit not in _UNITS:
        raise ValueError(
            f"--max-memory must be a number of bytes with an optional unit (e.g. 2GiB, 512M), got {text!r}"
        )
    value = float(match.group(1)) * _UNITS[unit]
    if not math.isfinite(value) or value < 1:
        raise ValueError(f"--max-memory must be at least 1 byte, got {text!r}")
    return int(value)


def parse_domain(text: str) -> Tuple[float, float]:
    """``--domain "-1,1"`` -> ``(-1.0, 1.0)`` (the same interval on every axis)."""
    try:
        low, high = (float(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"--domain must be LOW,HIGH (e.g. 0,1 or -1,1), got {text!r}") from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"--domain must be LOW,HIGH with finite LOW < HIGH, got {text!r}")
    return low, high


def load_model(checkpoint: Optional[str], init: Optional[str], in_dim: int, seed: int, device: str):
    """The model to analyse and what to say about it.

    Returns ``(model, description, default_shape, default_out)``: ``default_shape`` is the
    fitted signal's grid for a checkpoint, :data:`DEFAULT_INIT_SIZE` for ``--init``.
    """
    import torch

    from coordnet.nets import ModelSpec, build_model, parse_spec
    from coordnet.runs.compare import safe_name
    from coordnet.training.checkpoint import load, load_checkpoint

    check_device(device)
    if checkpoint is not None:
        document = load_checkpoint(checkpoint)
        model = load(checkpoint, device=device)
        label = ModelSpec.from_dict(document["model_spec"]).label
        signal = document.get("signal") or {}
        grid = tuple(int(n) for n in (signal.get("shape") or [])[: model.in_dim])
        description = {
            "source": "checkpoint",
            "checkpoint": os.path.abspath(checkpoint),
            "spec": label,
            "signal": signal.get("name"),
            "steps": int(document["trainer"].get("step", 0)),
        }
        default_out = os.path.dirname(os.path.abspath(checkpoint))
        return model, description, grid if len(grid) == model.in_dim else None, default_out
    if init is None:
        raise ValueError("give a checkpoint or --init SPEC")
    spec = parse_spec(init)
    if not 1 <= in_dim <= 3:
        raise ValueError(
            f"--in-dim must be 1, 2 or 3 (region maps are drawn on 1D to 3D grids), got {in_dim}"
        )
    torch.manual_seed(seed)
    model = build_model(spec, in_dim=in_dim, out_dim=1).to(device).eval()
    description = {"source": "init", "spec": spec.label, "seed": seed}
    default_out = os.path.join("out", f"regions-{safe_name(spec.label)}")
    return model, description, (DEFAULT_INIT_SIZE[in_dim],) * in_dim, default_out


def _relu_structure(model, description: Dict[str, Any]):
    from coordnet.regions import relu_network

    try:
        return relu_network(model)
    except (TypeError, ValueError) as error:
        what = description.get("checkpoint") or f"--init {description['spec']}"
        raise ValueError(
            f"{what}: model {description['spec']!r} is not a ReLU network: {error}"
        ) from None


def size_stats(sizes) -> Dict[str, Any]:
    """Per-region sample counts ``(U,)`` -> min, max, mean, median, single-sample regions, largest share."""
    sizes = sizes.to("cpu").double()
    total = float(sizes.sum())
    return {
        "min": int(sizes.min()),
        "max": int(sizes.max()),
        "mean": float(sizes.mean()),
        "median": float(sizes.median()),
        "single_sample_regions": int((sizes == 1).sum()),
        "largest_fraction": float(sizes.max()) / total if total else 0.0,
    }


def saturation_line(num_regions: int, samples: int, shape: Tuple[int, ...]) -> str:
    """The warning for a count of at least 90% of the grid samples (empty below that), worded
    for the command line: a finer ``--size``, and for a 1D model the exact count."""
    from coordnet.regions import saturation

    state = saturation(num_regions, samples, len(shape))
    if not state.saturated:
        return ""
    finer = format_grid_size(tuple(4 * n for n in shape))
    exact = (
        "; or count them exactly along the line in Python: "
        "coordnet.regions.exact_count_1d(model, [low], [high])"
        if len(shape) == 1
        else ""
    )
    return (
        f"{num_regions} regions among {samples} samples ({state.fraction:.0%}): nearly every "
        "sample is a region of its own, so the grid is too coarse to count them (the count is "
        f"only a lower bound); use a finer grid, e.g. --size {finer}{exact}"
    )


def run_regions(
    checkpoint: Optional[str],
    init: Optional[str],
    *,
    in_dim: int = 2,
    seed: int = 0,
    size: Optional[str] = None,
    domain: Optional[str] = None,
    out_dir: Optional[str] = None,
    chunk: Optional[int] = None,
    max_memory: Optional[str] = None,
    device: str = "cpu",
) -> Tuple[Dict[str, Any], str]:
    """Count the regions, write the three files; returns ``(the JSON record, out_dir)``."""
    from coordnet.regions import RegionCountWarning, region_map, resolve_domain

    started = time.perf_counter()
    limit = parse_bytes(max_memory) if max_memory is not None else None
    interval = parse_domain(domain) if domain is not None else None
    model, description, default_shape, default_out = load_model(
        checkpoint, init, in_dim, seed, device
    )
    network = _relu_structure(model, description)
    if not 1 <= network.in_dim <= 3:
        raise ValueError(
            f"region maps need 1 to 3 input dimensions; the model takes {network.in_dim}"
        )
    if size is not None:
        shape = parse_grid_size(size, network.in_dim)
    elif default_shape is not None:
        shape = default_shape
    else:
        shape = (DEFAULT_INIT_SIZE[network.in_dim],) * network.in_dim
    box = resolve_domain(interval, network.in_dim, model)
    from coordnet.outdir_lock import folder_not_in_use, resolve_output_folder

    # one path (~ expanded, absolute) for the lock and the three files; "" is an error
    out_dir = resolve_output_folder(default_out if out_dir is None else out_dir)

    counting = time.perf_counter()
    # The memory estimate comes first; a saturated count is reported in flags' words
    # (saturation_line), not as the API's RegionCountWarning.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RegionCountWarning)
        regions = region_map(model, shape, box, chunk=chunk, max_memory=limit)
    count_seconds = time.perf_counter() - counting
    os.makedirs(out_dir, exist_ok=True)
    # a running job that owns the folder stops this one; no lock file: the maps are no resumable
    # folder (each file is written atomically)
    with folder_not_in_use(out_dir):
        return _write(
            regions,
            network,
            description,
            shape,
            box,
            out_dir,
            chunk,
            limit,
            device,
            started,
            count_seconds,
            model,
        )


def _write(
    regions,
    network,
    description,
    shape,
    box,
    out_dir,
    chunk,
    limit,
    device,
    started,
    count_seconds,
    model,
):
    import coordnet
    from coordnet.atomic import write_json
    from coordnet.plots.regions import save_boundary_map, save_region_map

    samples = int(regions.ids.numel())
    label = description["spec"]
    note = (
        "nearly one region per sample: the grid is too coarse to count them"
        if regions.saturation.saturated
        else ""
    )
    figure = {"domain": [tuple(pair) for pair in box], "title": label, "note": note}
    save_region_map(os.path.join(out_dir, REGION_PNG), regions.ids, seed=COLOUR_SEED, **figure)
    save_boundary_map(
        os.path.join(out_dir, BOUNDARY_PNG),
        regions.boundary,
        num_regions=regions.num_regions,
        **figure,
    )
    record = {
        "regions": regions.num_regions,
        "grid": {
            "shape": list(shape),
            "size": format_grid_size(shape),
            "samples": samples,
            "domain": [list(pair) for pair in box],
        },
        "region_sizes": size_stats(regions.sizes),
        "regions_per_sample": regions.num_regions / samples,
        "saturated": regions.saturation.saturated,
        "saturation_advice": saturation_line(regions.num_regions, samples, shape) or None,
        "boundary_fraction": regions.boundary_fraction,
        "model": {
            **description,
            "in_dim": network.in_dim,
            "hidden_widths": list(network.widths),
            "hidden_units": network.num_units,
            "input_map": network.input_map_name,
            "parameters": sum(p.numel() for p in model.parameters()),
        },
        "timing": {
            "count_seconds": round(count_seconds, 4),
            "total_seconds": round(time.perf_counter() - started, 4),
        },
        "chunk": chunk,
        "max_memory": limit,
        "device": device,
        "colour_seed": COLOUR_SEED,
        "files": {"region_map": REGION_PNG, "boundary_map": BOUNDARY_PNG},
        "coordnet_version": coordnet.__version__,
    }
    write_json(os.path.join(out_dir, RESULTS), record)
    return record, out_dir


@click.command()
@click.argument("checkpoint", required=False)
@click.option(
    "--init",
    "init",
    default=None,
    metavar="SPEC",
    help="Analyse an untrained model built from this spec (e.g. relu:width=256,depth=4) "
    "instead of a checkpoint.",
)
@click.option(
    "--in-dim",
    default=2,
    show_default=True,
    type=click.IntRange(min=1),
    help="Input dimension of --init models.",
)
@click.option(
    "--seed",
    default=0,
    show_default=True,
    type=click.IntRange(0, 2**63 - 1),
    help="Initialisation seed of --init models.",
)
@click.option(
    "--size",
    default=None,
    help="Grid samples: N per axis, or one number per axis as WIDTHxHEIGHT[xDEPTH] (last axis first, "
    "as image sizes); 1D/2D/3D follows the model's input dimension "
    "[default: the fitted signal's grid; for --init 4096, 512x512 or 64x64x64].",
)
@click.option(
    "--domain", default=None, help="LOW,HIGH on every axis [default: the signal's domain, [0,1]]."
)
@click.option(
    "--out",
    "out_dir",
    default=None,
    help="Output folder [default: the checkpoint's folder; out/regions-<spec> for --init].",
)
@click.option(
    "--chunk",
    default=None,
    type=click.IntRange(min=1),
    help="Grid samples per forward chunk [default: automatic].",
)
@click.option(
    "--max-memory",
    default=None,
    help="Memory allowed, e.g. 2GiB [default: half the RAM, at most 8 GiB].",
)
@device_option()
@friendly_errors
def regions(
    checkpoint: Optional[str],
    init: Optional[str],
    in_dim: int,
    seed: int,
    size: Optional[str],
    domain: Optional[str],
    out_dir: Optional[str],
    chunk: Optional[int],
    max_memory: Optional[str],
    device: str,
) -> None:
    """Count and draw the activation regions of a ReLU model (CHECKPOINT or --init SPEC).

    Writes regions.json (count, grid, region sizes, boundary fraction, model, timing),
    regions.png (a random colour per region) and boundaries.png.
    """
    if (checkpoint is None) == (init is None):
        raise click.UsageError(
            "give either CHECKPOINT or --init SPEC, not both"
            if checkpoint
            else "give a CHECKPOINT or --init SPEC"
        )
    record, out = run_regions(
        checkpoint,
        init,
        in_dim=in_dim,
        seed=seed,
        size=size,
        domain=domain,
        out_dir=out_dir,
        chunk=chunk,
        max_memory=max_memory,
        device=device,
    )
    grid = record["grid"]
    domain_text = " x ".join(f"[{low:g}, {high:g}]" for low, high in grid["domain"])
    click.echo(
        f"{record['regions']} activation regions among {grid['samples']} samples of a {grid['size']} grid "
        f"over {domain_text} ({record['model']['spec']}) -> "
        f"{os.path.join(out, RESULTS)}, {REGION_PNG}, {BOUNDARY_PNG}"
    )
    if record["saturated"]:
        click.echo(f"warning: {record['saturation_advice']}", err=True)
