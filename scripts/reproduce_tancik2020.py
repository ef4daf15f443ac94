"""Reproduce Table 1 (2D image regression) of Tancik et al. 2020, "Fourier Features Let Networks
Learn High Frequency Functions in Low Dimensional Domains" (arXiv 2006.10739).

Usage::

    python scripts/reproduce_tancik2020.py DATA_DIR --budget cpu|paper --out DIR

``DATA_DIR`` holds ``div2k/`` and ``text/``, each with ``train/`` and ``test/`` PNGs (512x512 RGB;
see /work/shared/datasets/tancik2020/README.md). The paper reports on the test images; the
train images served only to choose σ. By default σ is the paper's choice (10 div2k, 14 text);
with ``--sigma-search`` it is chosen again, as the paper did, by the σ search shipped with
coordnet (``coordnet/sweeps/tancik2020_sigma.toml``, run by :mod:`coordnet.sweep`):

* every σ of the grid ``1, 2, 4, 8, 10, 16, 32, 64`` is fitted (``gauss`` with 256 frequencies
  + the same ReLU net, lr 1e-3, the same steps) to the first ``images`` train images of a set,
  Tancik's split (train on the even pixels, test on the odd ones);
* the σ of the best mean test PSNR over those train images is used for the Gaussian mapping
  on the test images of that set.

The search fits whole images at size S (the budget's crop, else its resolution R), so that the
sampling density is the table's, σ is searched at ``σ · S / R`` (the same cycles per pixel)
and reported in the table's units. At ``--budget paper`` (S = R = 512) that is the paper's
protocol; at ``cpu`` the whole train images downsampled to 128² stand in for the 128²
windows (32 fits of 300 steps, of the order of 10-20 minutes on this CPU). Its runs are in
``OUT/sigma_search/<set>/`` (one folder per run; a rerun skips finished runs), with the
table ``results.md`` and the plot ``results.png`` (test PSNR vs σ).

Protocol (the paper's notebook ``2d_image_regression.ipynb``), at image resolution R (512 in
the paper): coordinates on the half-open grid ``linspace(0, 1, R+1)[:-1]`` per axis; training
targets ``img[::2, ::2]`` (the (R/2)² grid ``linspace(0, 1, R/2+1)[:-1]``), test targets the
held-out pixels ``img[1::2, 1::2]`` at the offset coordinates; network
``ReluMLP(in, 3, width=256, depth=3, output_activation="sigmoid")`` (3 hidden ReLU layers of
256, linear to RGB, sigmoid); full-batch Adam, constant learning rate; final test PSNR
``-10 log10(MSE)`` averaged over the images. Mappings ``[sin(2π x Bᵀ), cos(2π x Bᵀ)]``:

* ``none``: raw coordinates (lr 1e-2 div2k, 1e-3 text);
* ``basic``: ``B = I`` (4 features; lr as ``none``);
* ``positional``: per-axis frequencies ``2**linspace(0, s, 128) - 1`` (s = 6 div2k, 5 text;
  the zero frequency is included, as in the notebook), B rows ``(f, 0)`` and ``(0, f)``:
  256 frequencies, 512 features (lr 1e-3);
* ``gaussian``: ``B ~ N(0, σ²)``, 256 x 2, σ = 10 div2k, 14 text, seeded per image (lr 1e-3).

Coordinate order: coordnet's ``Signal.coordinates()`` puts the coordinate along grid axis k in
column k (``"ij"``: (row, column)); the notebook stacks ``meshgrid(x, y)`` (``"xy"``: (column,
row)). All four mappings are symmetric in the two axes (none/basic/positional treat the axes
alike; the Gaussian B has i.i.d. entries), so the swap changes nothing in distribution.

Budgets:

* ``paper``: the full protocol: 2 sets x 16 test images x 4 mappings (128 fits), R = 512
  (train on 256², test on 256²), 2000 steps. On this 2-core CPU a 512-feature fit takes of the
  order of two hours (about 4 s/step at 65,536 training points, extrapolated from 1.0 s/step
  measured at 16,384), about a week for all 128 fits, so the run is resumable image by image:
  each (set, mapping, image) result is written to ``OUT/runs/<set>__<mapping>__<image>.json``
  as soon as it finishes, and a rerun skips results whose settings match.
* ``cpu``: a fixed subset: the first 2 test images of each set (16 fits), each restricted to
  one 128 x 128 window of the full-resolution 512 x 512 image, kept at its coordinates in the
  full image (train on its 64² even pixels, test on its 64² odd ones), 300 full-batch Adam
  steps instead of 2000. The window is the one of largest pixel variance among those with
  corners at multiples of 64 (deterministic; the central windows of the text images are
  nearly blank, and on a blank window every mapping collapsed to the same all-white output,
  19.10 dB each). The pixel-level task is the paper's (same sampling density), so σ, the
  positional scales, learning rates and net are unchanged.
  (Downsampling the images to 128² instead was tried first: with the paper's σ and scales the
  positional/Gaussian frequencies then approach or exceed the 64² training grid's Nyquist
  limit and overfit: div2k/00 train 42-48 dB, test 18.2-20.8 dB, positional below basic.)
  Measured on this 2-core CPU: 0.05-0.15 s/step (more when the cores are shared), 15-50 s
  per fit, about 5-15 minutes in all. Its PSNRs are not comparable with the paper's in
  absolute terms (2 windows, 300 steps); the check is the ordering
  none < basic < positional <= Gaussian on each set.

Outputs in ``OUT``: ``runs/*.json`` (per fit), ``results.json`` (our means per (set, mapping),
the paper's numbers, the exact settings, per-image numbers, ``ordering_holds`` per set),
``table1.png`` (bars, ours vs paper), ``examples.png`` (first test image of each set: target
and each mapping's reconstruction), and a table printed to stdout.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from torch import nn

from coordnet.atomic import write_json as _write_json
from coordnet.encoders import BasicFourier, FourierFeatures, GaussianFourierFeatures
from coordnet.fit import Samples, TrainConfig, Trainer
from coordnet.fit.metrics import psnr
from coordnet.fit.trainer import predict
from coordnet.nets import ReluMLP
from coordnet.signals import load_image, save_image

SETS = ("div2k", "text")
MAPPINGS = ("none", "basic", "positional", "gaussian")
MAPPING_LABELS = {"none": "no mapping", "basic": "basic", "positional": "positional enc.", "gaussian": "Gaussian"}

# Table 1 of Tancik et al. 2020 (mean test PSNR, dB), as given in the dataset README.
PAPER = {
    "div2k": {"none": 19.32, "basic": 21.71, "positional": 24.95, "gaussian": 25.57},
    "text": {"none": 18.40, "basic": 20.48, "positional": 27.57, "gaussian": 30.47},
}
GAUSSIAN_SIGMA = {"div2k": 10.0, "text": 14.0}
POSENC_SCALE = {"div2k": 6.0, "text": 5.0}
LEARNING_RATE = {
    "div2k": {"none": 1e-2, "basic": 1e-2, "positional": 1e-3, "gaussian": 1e-3},
    "text": {"none": 1e-3, "basic": 1e-3, "positional": 1e-3, "gaussian": 1e-3},
}
NUM_FREQUENCIES = 256
CROP_RULE = "largest-variance window, corners at multiples of 64"
BUDGETS = {
    "cpu": {"images": 2, "resolution": 512, "crop": 128, "steps": 300},
    "paper": {"images": 16, "resolution": 512, "crop": None, "steps": 2000},
}


class DataError(Exception):
    """DATA_DIR or one of its subfolders is missing or empty."""


def test_images(data_dir: Path) -> Dict[str, List[Path]]:
    """The sorted test PNGs of each set; raises :class:`DataError` naming the missing path."""
    if not data_dir.is_dir():
        raise DataError(f"DATA_DIR {str(data_dir)!r} does not exist or is not a folder")
    images = {}
    for name in SETS:
        folder = data_dir / name / "test"
        if not folder.is_dir():
            raise DataError(f"missing folder {str(folder)!r} (DATA_DIR must hold div2k/test and text/test)")
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".png")
        if not files:
            raise DataError(f"no PNG images in {str(folder)!r}")
        images[name] = files
    return images


def posenc_B(scale: float, per_axis: int = NUM_FREQUENCIES // 2) -> torch.Tensor:
    """Tancik's positional-encoding frequencies ``2**linspace(0, scale, 128) - 1`` on each axis: ``(256, 2)``."""
    f = 2.0 ** torch.linspace(0.0, scale, per_axis, dtype=torch.float64) - 1.0
    zeros = torch.zeros_like(f)
    return torch.cat([torch.stack([f, zeros], 1), torch.stack([zeros, f], 1)]).float()


def build_model(mapping: str, dataset: str, seed: int, sigma: Optional[float] = None) -> nn.Module:
    """Encoder (coordnet) + ``ReluMLP(in, 3, 256, depth 3, sigmoid)``, initialised from ``seed``;
    ``sigma``: the Gaussian mapping's scale (default: the paper's, :data:`GAUSSIAN_SIGMA`)."""
    torch.manual_seed(seed)
    if mapping == "none":
        encoder: Optional[nn.Module] = None
        in_dim = 2
    elif mapping == "basic":
        encoder = BasicFourier(2)
    elif mapping == "positional":
        encoder = FourierFeatures(posenc_B(POSENC_SCALE[dataset]))
    elif mapping == "gaussian":
        scale = GAUSSIAN_SIGMA[dataset] if sigma is None else sigma
        encoder = GaussianFourierFeatures(2, NUM_FREQUENCIES, scale, seed=seed)
    else:
        raise ValueError(f"unknown mapping {mapping!r}")
    if encoder is not None:
        in_dim = encoder.out_dim
    mlp = ReluMLP(in_dim, 3, width=256, depth=3, output_activation="sigmoid")
    return mlp if encoder is None else nn.Sequential(encoder, mlp)


def busiest_window(values: torch.Tensor, crop: int, stride: int = 64):
    """Top-left corner of the ``crop x crop`` window of largest pixel variance, among windows at
    multiples of ``stride`` (even offsets, so the train/test pixel parity is the paper's).
    Ties: the first in row-major order. Avoids the near-blank windows of the text images."""
    size = values.shape[0]
    stride = max(2, min(stride, crop) // 2 * 2)
    best, corner = -1.0, (0, 0)
    for r in range(0, size - crop + 1, stride):
        for c in range(0, values.shape[1] - crop + 1, stride):
            v = float(values[r : r + crop, c : c + crop].var())
            if v > best:
                best, corner = v, (r, c)
    return corner


def image_samples(path: Path, resolution: int, crop: Optional[int] = None):
    """``Samples`` of Tancik's split of ``path`` at ``resolution``² and the test target image.

    ``crop``: keep only the ``crop x crop`` window of :func:`busiest_window`, at its coordinates in the full
    image (so frequencies per pixel, hence σ and the positional scales, mean what they mean
    in the paper).
    """
    signal = load_image(path)
    if signal.grid_shape != (resolution, resolution):
        signal = load_image(path, size=resolution)
    values = signal.values
    if values.shape[-1] == 1:
        values = values.expand(*values.shape[:2], 3)
    values = values[..., :3]
    coords = signal.coordinates()  # (R, R, 2), "ij" order, grid linspace(0, 1, R+1)[:-1]
    if crop is not None and crop < resolution:
        r, c = busiest_window(values, crop)
        values = values[r : r + crop, c : c + crop]
        coords = coords[r : r + crop, c : c + crop]
    train_c, train_v = coords[::2, ::2], values[::2, ::2]
    test_c, test_v = coords[1::2, 1::2], values[1::2, 1::2]
    samples = Samples(train_c.reshape(-1, 2), train_v.reshape(-1, 3), test_c.reshape(-1, 2), test_v.reshape(-1, 3))
    return samples, test_v


def fit_one(dataset: str, mapping: str, path: Path, index: int, settings: dict, save_png: Optional[Path]) -> dict:
    """Train one (set, mapping, image); returns its result record."""
    samples, target = image_samples(path, settings["resolution"], settings.get("crop"))
    seed = index
    model = build_model(mapping, dataset, seed, sigma_for(settings, dataset))
    lr = LEARNING_RATE[dataset][mapping]
    config = TrainConfig(steps=settings["steps"], lr=lr, seed=seed, eval_every=settings["steps"])
    started = time.perf_counter()
    result = Trainer(model, samples, config).fit()
    prediction = predict(model, samples.test_coords).reshape(target.shape)
    test_psnr = psnr(prediction, target)
    if save_png is not None:
        save_image(save_png, prediction.clamp(0, 1).numpy())
    return {
        "set": dataset,
        "mapping": mapping,
        "image": path.name,
        "seed": seed,
        "lr": lr,
        "test_psnr": test_psnr,
        "train_psnr": result.train_psnr,
        "seconds": time.perf_counter() - started,
        "settings": run_settings(settings, dataset, mapping),
    }


def sigma_for(settings: dict, dataset: str) -> float:
    """The Gaussian mapping's σ on ``dataset``: the searched one if any, else the paper's."""
    return settings.get("gaussian_sigma", GAUSSIAN_SIGMA)[dataset]


def run_settings(settings: dict, dataset: Optional[str] = None, mapping: Optional[str] = None) -> dict:
    """The settings a per-run result depends on (a stored run is reused only if they match);
    a Gaussian run also depends on its σ."""
    common = {"resolution": settings["resolution"], "crop": settings.get("crop"), "crop_rule": CROP_RULE, "steps": settings["steps"]}
    if mapping == "gaussian" and dataset is not None:
        common["sigma"] = sigma_for(settings, dataset)
    return common


def write_json(path: Path, data) -> None:
    _write_json(str(path), data, allow_nan=True)  # a diverged run's NaN PSNR is kept, not refused


def load_run(path: Path, settings: dict, dataset: Optional[str] = None, mapping: Optional[str] = None) -> Optional[dict]:
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return record if record.get("settings") == run_settings(settings, dataset, mapping) else None


SIGMA_SWEEP = "tancik2020_sigma"


def train_images(data_dir: Path) -> Dict[str, List[Path]]:
    """The sorted train PNGs of each set (for the σ search); :class:`DataError` naming a missing path."""
    images = {}
    for name in SETS:
        folder = data_dir / name / "train"
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".png") if folder.is_dir() else []
        if not files:
            raise DataError(f"the σ search needs train images: no PNG images in {str(folder)!r}")
        images[name] = files
    return images


def sigma_search(data_dir: Path, settings: dict, out: Path, workers: int = 1) -> dict:
    """Tancik's σ search with the shipped sweep file, per set, on the first ``settings["images"]``
    train images (see the module docstring): ``{set: {"best", "paper", "grid", "test_psnr", ...}}``."""
    from dataclasses import replace

    from coordnet.sweep import expand, load_sweep, run_sweep, write_results
    from coordnet.sweep.aggregate import series
    from coordnet.sweep.config import shipped_sweep

    size = settings.get("crop") or settings["resolution"]
    factor = size / settings["resolution"]
    found = {}
    for s, files in train_images(data_dir).items():
        used = files[: settings["images"]]
        sweep = load_sweep(shipped_sweep(SIGMA_SWEEP), overrides={
            "images": [str(p.resolve()) for p in used], "size": size, "steps": settings["steps"],
            "eval_every": settings["steps"], "name": f"σ search, {s} train images"})
        (model,) = sweep.models
        grid = list(model.grid[("encoder", "scale")])
        sweep = replace(sweep, models=[replace(model, grid={("encoder", "scale"): [g * factor for g in grid]})])
        runs = expand(sweep)
        folder = out / "sigma_search" / s
        outcome = run_sweep(runs, str(folder), workers=workers, progress=False)
        results = write_results(runs, str(folder), title=f"{s}: σ search at {size}² (σ in units of this size)")
        (scales,) = series(results)  # mean test PSNR per scale over images and seeds; a σ whose runs all failed: None
        per_sigma = {sigma: next((mean for x, mean in zip(scales.x, scales.mean)
                                  if math.isclose(x, sigma * factor, rel_tol=1e-9)), None) for sigma in grid}
        measured = {k: v for k, v in per_sigma.items() if v is not None}
        if not measured:
            raise RuntimeError(f"every run of the σ search on {s} failed; see {folder}/runs/*/error.json")
        best = max(measured, key=measured.get)
        found[s] = {"best": best, "paper": GAUSSIAN_SIGMA[s], "grid": grid, "test_psnr": per_sigma,
                    "search_size": size, "sigma_scale_factor": factor, "images": [p.name for p in used],
                    "fitted": len(outcome.done), "failed": len(outcome.failed), "reused": len(outcome.skipped)}
        print(f"  σ search {s}: " + ", ".join(f"{g:g}: {'-' if v is None else f'{v:.2f}'}" for g, v in per_sigma.items())
              + f" dB -> best σ {best:g} (paper {GAUSSIAN_SIGMA[s]:g})", flush=True)
    return found


def ordering(means: Dict[str, float]) -> dict:
    checks = {
        "none<basic": means["none"] < means["basic"],
        "basic<positional": means["basic"] < means["positional"],
        "positional<=gaussian": means["positional"] <= means["gaussian"],
    }
    return {"holds": all(checks.values()), "checks": checks}


def format_table(ours: Dict[str, Dict[str, float]], paper=PAPER) -> str:
    lines = [f"{'mapping':<18}" + "".join(f"{s + ' ours':>13}{s + ' paper':>13}" for s in SETS)]
    for m in MAPPINGS:
        lines.append(f"{MAPPING_LABELS[m]:<18}" + "".join(f"{ours[s][m]:>13.2f}{paper[s][m]:>13.2f}" for s in SETS))
    return "\n".join(lines)


def plot_table(path: Path, ours, budget_label: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(SETS), figsize=(10, 4), sharey=True)
    x = np.arange(len(MAPPINGS))
    for ax, s in zip(axes, SETS):
        ax.bar(x - 0.2, [ours[s][m] for m in MAPPINGS], 0.4, label=f"ours ({budget_label})")
        ax.bar(x + 0.2, [PAPER[s][m] for m in MAPPINGS], 0.4, label="paper")
        ax.set_xticks(x, [MAPPING_LABELS[m] for m in MAPPINGS], rotation=15)
        ax.set_title(s)
        ax.set_ylabel("mean test PSNR (dB)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_examples(path: Path, targets: Dict[str, np.ndarray], recon: Dict[str, Dict[str, Optional[np.ndarray]]], psnrs) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(SETS), 1 + len(MAPPINGS), figsize=(3 * (1 + len(MAPPINGS)), 3 * len(SETS)))
    for row, s in enumerate(SETS):
        panels = [("target", targets[s])] + [
            (f"{MAPPING_LABELS[m]}\n{psnrs[s][m]:.2f} dB", recon[s][m]) for m in MAPPINGS
        ]
        for col, (title, image) in enumerate(panels):
            ax = axes[row, col]
            if image is not None:
                ax.imshow(np.clip(image, 0, 1), interpolation="nearest")
            ax.set_title(f"{s}: {title}" if col == 0 else title, fontsize=9)
            ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def parse_args(argv: Optional[Sequence[str]]):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", type=Path, help="folder holding div2k/ and text/ (train/, test/ PNGs)")
    parser.add_argument("--budget", choices=sorted(BUDGETS), default="cpu")
    parser.add_argument("--out", type=Path, required=True, help="output folder (created)")
    parser.add_argument("--sigma-search", action="store_true",
                        help="choose σ per set by the shipped σ-search sweep on the train images (else the paper's σ)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes of the σ search")
    # Hidden overrides, for tests and experiments; a run with any of them is labelled as such.
    parser.add_argument("--images", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--resolution", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--crop", type=int, default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    settings = dict(BUDGETS[args.budget])
    overrides = {k: getattr(args, k) for k in ("images", "steps", "resolution", "crop") if getattr(args, k) is not None}
    for key, value in overrides.items():
        if value < 1 or (key in ("resolution", "crop") and value % 2):
            even = " even" if key in ("resolution", "crop") else ""
            print(f"error: --{key} must be a positive{even} integer, got {value}", file=sys.stderr)
            return 2
    settings.update(overrides)
    label = args.budget + (" + overrides " + ", ".join(f"{k}={v}" for k, v in overrides.items()) if overrides else "")
    try:
        all_images = test_images(args.data_dir)
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    images = {s: files[: settings["images"]] for s, files in all_images.items()}
    runs_dir = args.out / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    print(f"Tancik et al. 2020 Table 1, budget {label}: {settings}", flush=True)
    searched = None
    if args.sigma_search:
        try:
            searched = sigma_search(args.data_dir, settings, args.out, workers=max(1, args.workers))
        except DataError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        settings["gaussian_sigma"] = {s: searched[s]["best"] for s in SETS}

    per_image: Dict[str, Dict[str, Dict[str, float]]] = {s: {m: {} for m in MAPPINGS} for s in SETS}
    seconds: Dict[str, Dict[str, float]] = {s: {m: 0.0 for m in MAPPINGS} for s in SETS}
    fitted = skipped = 0
    started = time.perf_counter()
    # Image-major order: an interrupted run already has whole (set, image) comparisons.
    for index in range(max(len(images[s]) for s in SETS)):
        for s in SETS:
            if index >= len(images[s]):
                continue
            path = images[s][index]
            for m in MAPPINGS:
                stem = f"{s}__{m}__{path.stem}"
                record_path = runs_dir / f"{stem}.json"
                png = runs_dir / f"{stem}.png" if index == 0 else None
                record = load_run(record_path, settings, s, m)
                if record is not None and (png is None or png.exists()):
                    skipped += 1
                else:
                    record = fit_one(s, m, path, index, settings, png)
                    write_json(record_path, record)
                    fitted += 1
                    print(
                        f"  {s:<6} {m:<10} {path.name}: test PSNR {record['test_psnr']:.2f} dB "
                        f"(train {record['train_psnr']:.2f}) in {record['seconds']:.1f} s",
                        flush=True,
                    )
                per_image[s][m][path.name] = record["test_psnr"]
                seconds[s][m] += record["seconds"]

    ours = {s: {m: float(np.mean(list(per_image[s][m].values()))) for m in MAPPINGS} for s in SETS}
    orderings = {s: ordering(ours[s]) for s in SETS}
    results = {
        "paper": "Tancik et al. 2020, Fourier Features Let Networks Learn High Frequency Functions "
        "in Low Dimensional Domains, Table 1 (2D image regression)",
        "budget": args.budget,
        "budget_label": label,
        "settings": {
            **settings,
            "images_used": {s: [p.name for p in images[s]] for s in SETS},
            "train_grid": (settings["crop"] or settings["resolution"]) // 2,
            "test_grid": (settings["crop"] or settings["resolution"]) // 2,
            "downsampled_from_512": settings["resolution"] != 512,
            "crop_rule": CROP_RULE if settings["crop"] else None,
            "num_frequencies": NUM_FREQUENCIES,
            "gaussian_sigma": {s: sigma_for(settings, s) for s in SETS},
            "gaussian_sigma_paper": GAUSSIAN_SIGMA,
            "posenc_scale": POSENC_SCALE,
            "learning_rate": LEARNING_RATE,
            "optimizer": "Adam, full batch, constant lr",
            "net": "ReluMLP(in, 3, width=256, depth=3, output_activation='sigmoid')",
            "seed": "image index (model init and Gaussian B)",
            "coordinates": "coordnet 'ij' order (row, column); notebook uses meshgrid 'xy'; "
            "all mappings are axis-symmetric, so this does not matter",
            "torch_threads": torch.get_num_threads(),
        },
        "sigma_search": searched,
        "ours": ours,
        "paper_table": PAPER,
        "ordering_holds": {s: orderings[s]["holds"] for s in SETS},
        "ordering_checks": {s: orderings[s]["checks"] for s in SETS},
        "per_image": per_image,
        "seconds_total_fits": {s: seconds[s] for s in SETS},
        "fitted_this_run": fitted,
        "skipped_existing": skipped,
        "wall_seconds_this_run": time.perf_counter() - started,
    }
    write_json(args.out / "results.json", results)

    targets, recon = {}, {}
    for s in SETS:
        _, target = image_samples(images[s][0], settings["resolution"], settings.get("crop"))
        targets[s] = target.numpy()
        recon[s] = {}
        for m in MAPPINGS:
            png = runs_dir / f"{s}__{m}__{images[s][0].stem}.png"
            recon[s][m] = load_image(png).values.numpy() if png.exists() else None
    first_psnr = {s: {m: per_image[s][m][images[s][0].name] for m in MAPPINGS} for s in SETS}
    plot_table(args.out / "table1.png", ours, args.budget)
    plot_examples(args.out / "examples.png", targets, recon, first_psnr)

    print(f"\nMean test PSNR (dB), budget {label}; {fitted} fitted, {skipped} reused")
    print(format_table(ours))
    for s in SETS:
        print(f"ordering none < basic < positional <= gaussian on {s}: {'holds' if orderings[s]['holds'] else 'FAILS'}")
    if searched is not None:
        for s in SETS:
            print(f"σ search on the {s} train images: best σ {searched[s]['best']:g} (paper: {GAUSSIAN_SIGMA[s]:g}), "
                  f"used on the test images")
    print(f"wrote {args.out / 'results.json'}, {args.out / 'table1.png'}, {args.out / 'examples.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
