"""Reproduce the activation-region experiments of Lazzari & Liu 2023, "Understanding the Spectral
Bias of Coordinate Based MLPs Via Training Dynamics" (arXiv 2301.05816).

Usage::

    python scripts/reproduce_lazzari2023.py --budget cpu|paper --out DIR [--image NAME_OR_PATH]

What the paper does (from its abstract and published summaries): a ReLU MLP
fits an image from its pixel coordinates; its activation regions, counted as the distinct
binary activation patterns of all hidden units over the 512 x 512 pixel grid, are tracked
during training, for raw coordinates and for positional encodings with few frequencies; a 1D
version fits targets of frequency k = 5 ... 70. The paper relates the distinctiveness of
activation patterns (Hamming distance) to gradient confusion between inputs, finds more
confusion where expressive power is limited (raw coordinates), hence slow convergence to
high frequencies, and distinct region dynamics once positional encoding removes the bias.
Its numbers are figures, not tables: the claims below are checked qualitatively, with our
numbers beside them.

Our protocol (coordnet's pieces throughout):

* Image: a bundled or given image (default scikit-image's ``camera``, grayscale), resized
  to S x S, fitted on every pixel (split ``full``; the paper studies fitting dynamics, not
  generalisation); coordinates on coordnet's half-open pixel grid of [0, 1]^2.
* Five input mappings, one ``ReluMLP`` each (width W, depth D hidden layers, sigmoid output),
  built from model specs (``coordnet fit -m SPEC`` trains the same models):
  ``raw01`` raw coordinates in [0, 1] (``relu``); ``raw11`` the same coordinates mapped to
  [-1, 1] (``none:scale=2,offset=-1``, an affine map, so the regions are still those of a
  ReLU net on the plane); ``pe1``, ``pe2``, ``pe8``: positional encoding with L = 1, 2, 8
  frequencies ``sin/cos(2π 2^l x_j)``, ``l < L`` (``pe:L=...``; coordnet's default layout,
  input not included). The encoding is applied inside the model, and the patterns are taken
  over the original pixel coordinates, as the paper counts them.
* Adam, constant lr 1e-3 for every mapping (so the mappings differ only in their inputs),
  full batch, seed 0 (initialisation).
* Region count (:class:`coordnet.regions.RegionCountCallback`) over the S x S pixel grid at
  step 0 and every C steps; region maps (:func:`coordnet.regions.region_map`) before and
  after training; the same counts on an F times finer grid (FS x FS, which contains the
  pixel grid, so its count is never smaller: how much the pixel grid misses once regions
  shrink to pixel size); final PSNR on the pixel grid; at the end, Lazzari & Liu's local measures
  for P nearby pairs (distance <= 1/100) and P distant pairs (>= 1/2)
  (:func:`coordnet.regions.compare_pairs`): the activation-pattern Hamming distance
  (fraction of hidden units that differ) and the gradient confusion (cosine of the two
  inputs' per-sample loss gradients, the target read at the nearest pixel).
* 1D: targets ``0.5 + 0.5 sin(2π k t)`` on n samples of [0, 1) for each k, raw coordinates
  in [0, 1] and in [-1, 1] (1 input), the same net and optimiser; the exact number of regions
  the segment [0, 1] crosses (:func:`coordnet.regions.exact_count_1d`, a float64 walk from
  breakpoint to breakpoint) at step 0 and every C1 steps, and the final PSNR. A sine of k
  periods has 2k monotone pieces, so a piecewise-linear fit needs at least 2k regions along
  the line.

Budgets:

* ``paper``: S = 512 (the paper's 512 x 512 grid), F = 2, W = 256, D = 3, 2000 steps, counts every
  100 steps, 512 pairs; 1D: k = 5, 10, ..., 70, n = 1024, 5000 steps, counts every 250.
  GPU-scale on a 2-core CPU: a full-batch step on 262,144 pixels is about 200 GFLOP (forward
  and backward), several seconds here, so each mapping takes hours (estimated from the FLOPs,
  not run); resumable mapping by mapping and 1D run by 1D run.
* ``cpu``: S = 128, F = 4 (so the final counts are also taken on the paper's 512 x 512 grid),
  W = 128, D = 3, 300 steps, counts every 25 steps, 128 pairs; 1D: k = 5, 10, 20, 40, 70,
  n = 512, 1500 steps, counts every 100 (the 1D fits run on one thread: faster on so small
  a problem). Measured: 108 s on 2 quiet cores (load average < 1.5); 15 minutes when the
  2 cores were shared with other jobs (load average 7-11). On a 128-pixel grid the L = 8 encoding's top bands alias (2^7 periods:
  sin = 0, cos = 1 at every pixel; 2^6: cos alternates pixel by pixel), and the encoded
  models' regions are about pixel-sized from the start: their counts approach the number
  of pixels S^2, which no sampled count can exceed. The finer grid shows how far beyond.

Outputs in ``OUT``: ``runs/<name>.json`` and ``.npz`` (per mapping and per 1D run; a rerun
reuses those whose settings match), ``results.json`` (settings, per mapping the counts over
training, initial/final counts, PSNR, boundary fractions, pair measures; the 1D results;
the claims checked with our numbers), ``counts.png`` (region count vs step per mapping),
``region_maps.png`` (region maps before and after training, the final boundary map and
reconstruction, one row per mapping), ``lines_1d.png``, and a printout putting the paper's
claims beside ours.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
import time
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch

from coordnet.atomic import write_json as _write_json
from coordnet.fit import Samples, TrainConfig, Trainer
from coordnet.fit.metrics import psnr
from coordnet.fit.trainer import predict
from coordnet.nets import build_model
from coordnet.regions import (
    RegionCountCallback,
    compare_pairs,
    count_regions,
    exact_count_1d,
    region_map,
    sample_pairs,
)
from coordnet.signals import grid_axis, load_signal

PAPER = (
    "Lazzari & Liu 2023, Understanding the Spectral Bias of Coordinate Based MLPs Via Training Dynamics "
    "(arXiv 2301.05816): activation regions of ReLU coordinate MLPs during training"
)
LR = 1e-3
SEED = 0

#: name -> (label, encoder part of the model spec; "" for none).
MAPPINGS: Dict[str, Tuple[str, str]] = {
    "raw01": ("raw [0,1]", ""),
    "raw11": ("raw [-1,1]", "none:scale=2,offset=-1"),
    "pe1": ("PE L=1", "pe:L=1"),
    "pe2": ("PE L=2", "pe:L=2"),
    "pe8": ("PE L=8", "pe:L=8"),
}
RAW = ("raw01", "raw11")
PE = ("pe1", "pe2", "pe8")
LINE_MAPPINGS = ("raw01", "raw11")

BUDGETS = {
    "cpu": {
        "size": 128, "fine": 4, "width": 128, "depth": 3, "steps": 300, "every": 25, "pairs": 128,
        "ks": [5, 10, 20, 40, 70], "line_samples": 512, "line_steps": 1500, "line_every": 100,
    },
    "paper": {
        "size": 512, "fine": 2, "width": 256, "depth": 3, "steps": 2000, "every": 100, "pairs": 512,
        "ks": list(range(5, 71, 5)), "line_samples": 1024, "line_steps": 5000, "line_every": 250,
    },
}

# The claims checked, each with where it comes from. The paper gives figures, not tables, so
# every check is qualitative (a direction), with our numbers beside it.
SOURCES = {
    "abstract": "the paper's abstract",
    "summary": "published summaries of the paper (its setup and findings)",
    "1d": "the paper's 1D experiment (k = 5...70) and the piecewise-linear count it implies",
}
CLAIMS = {
    "pe_more_regions": ("summary", "positional encoding ends training with many more activation regions than "
                        "raw coordinates (how PE overcomes spectral bias)"),
    "pe_regions_grow_with_L": ("summary", "more encoding frequencies give more regions (L=1 < L=2 < L=8)"),
    "centring_changes_regions": ("summary", "centring the raw input ([-1,1] instead of [0,1]) gives more regions"),
    "centring_helps_fit": ("summary", "centring the raw input ([-1,1] instead of [0,1]) fits better (higher PSNR)"),
    "pe_fits_better": ("summary", "spectral bias: positional encoding (L=8) fits the image better than raw "
                       "coordinates"),
    "pe_patterns_more_distinct": ("abstract", "confusion is tied to the distinctiveness of activation patterns: nearby "
                                  "inputs have more distinct patterns with PE (larger Hamming distance)"),
    "raw_gradients_more_alike": ("abstract", "more gradient confusion where expressive power is limited: nearby "
                                 "inputs' loss gradients are more alike with raw coordinates (higher cosine)"),
    "line_regions_fall_short": ("1d", "1D: a fit of k periods needs >= 2k regions along the line; raw-coordinate "
                                "networks reach that at the lowest k but fall short at the highest, where they fail "
                                "to fit"),
    "line_spectral_bias": ("1d", "1D: the fit of raw coordinates gets worse as k grows (spectral bias)"),
}


# ----------------------------------------------------------------------------- models and data


def model_spec(mapping: str, width: int, depth: int) -> str:
    """The coordnet model spec of ``mapping`` (e.g. ``pe:L=2+relu:width=128,depth=3``)."""
    encoder = MAPPINGS[mapping][1]
    net = f"relu:width={width},depth={depth}"
    return f"{encoder}+{net}" if encoder else net


def make_model(mapping: str, in_dim: int, out_dim: int, settings: dict, output_activation: str):
    torch.manual_seed(SEED)
    return build_model(model_spec(mapping, settings["width"], settings["depth"]), in_dim, out_dim,
                       output_activation=output_activation)


def nearest_pixel(values: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """``target(points (n, 2)) -> (n, C)``: the pixel of ``values (H, W, C)`` each point of [0,1]^2 falls in."""
    height, width = values.shape[:2]

    def target(points: torch.Tensor) -> torch.Tensor:
        rows = (points[:, 0] * height).floor().long().clamp(0, height - 1)
        cols = (points[:, 1] * width).floor().long().clamp(0, width - 1)
        return values[rows, cols].to(points.dtype)

    return target


def line_target(k: float, n: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """``(t (n, 1), y (n, 1))``: ``y = 0.5 + 0.5 sin(2π k t)`` on the half-open grid of [0, 1)."""
    t = grid_axis(0.0, 1.0, n)[:, None]
    return t, 0.5 + 0.5 * torch.sin(2 * math.pi * k * t.double()).float()


class LineCounts(RegionCountCallback):
    """Exact regions along [0, 1] (:func:`exact_count_1d`) at step 0, every ``every`` steps and at the end."""

    def __init__(self, every: int) -> None:
        super().__init__(torch.tensor([[0.0], [1.0]]), every)  # the segment's ends

    def count(self, trainer: Trainer) -> int:
        value = exact_count_1d(trainer.model, [0.0], [1.0])
        self.steps.append(int(trainer.step))
        self.counts.append(int(value))
        return value


# ----------------------------------------------------------------------------- runs


def image_settings(settings: dict, image: str) -> dict:
    """What an image run depends on (a stored run is reused only if these match)."""
    keys = ("size", "fine", "width", "depth", "steps", "every", "pairs")
    return {"image": image, "lr": LR, "seed": SEED, **{k: settings[k] for k in keys}}


def line_settings(settings: dict) -> dict:
    keys = ("width", "depth", "line_samples", "line_steps", "line_every")
    return {"lr": LR, "seed": SEED, **{k: settings[k] for k in keys}}


def run_image(mapping: str, signal, settings: dict) -> Tuple[dict, Dict[str, np.ndarray]]:
    """Fit one mapping to the image, counting regions over the pixel grid; ``(record, arrays)``."""
    started = time.perf_counter()
    shape = signal.grid_shape
    coords, values = signal.flat()
    model = make_model(mapping, 2, signal.channels, settings, "sigmoid")
    fine = tuple(n * settings["fine"] for n in shape)
    before = region_map(model, shape)
    before_fine = region_map(model, fine).num_regions
    counter = RegionCountCallback(coords, every=settings["every"])
    config = TrainConfig(steps=settings["steps"], lr=LR, seed=SEED, eval_every=settings["every"])
    result = Trainer(model, Samples(coords, values), config, [counter]).fit()
    after = region_map(model, shape)
    after_fine = region_map(model, fine).num_regions
    prediction = predict(model, coords).reshape(signal.values.shape)
    pairs = sample_pairs(settings["pairs"], 2, seed=SEED)
    comparison = compare_pairs(model, pairs, target=nearest_pixel(signal.values))
    units = comparison.num_units
    record = {
        "mapping": mapping,
        "label": MAPPINGS[mapping][0],
        "spec": model_spec(mapping, settings["width"], settings["depth"]),
        "steps": counter.steps,
        "counts": counter.counts,
        "initial_count": before.num_regions,
        "final_count": after.num_regions,
        "fine_grid": list(fine),
        "initial_count_fine": before_fine,
        "final_count_fine": after_fine,
        "callback_matches_maps": counter.counts[0] == before.num_regions and counter.counts[-1] == after.num_regions,
        "grid_samples": int(before.ids.numel()),
        "boundary_fraction_initial": before.boundary_fraction,
        "boundary_fraction_final": after.boundary_fraction,
        "final_psnr": psnr(prediction, signal.values),
        "psnr_history": {"steps": result.history.steps, "train_psnr": result.history.train_psnr},
        "hidden_units": units,
        "pairs": {
            "near_hamming_fraction": comparison.near.hamming_mean / units,
            "far_hamming_fraction": comparison.far.hamming_mean / units,
            "near_gradient_cosine": comparison.near.confusion_mean,
            "far_gradient_cosine": comparison.far.confusion_mean,
            **comparison.to_dict(),
        },
        "seconds": time.perf_counter() - started,
        "settings": None,  # filled in by the caller
    }
    arrays = {
        "ids_initial": before.ids.numpy().astype(np.int32),
        "ids_final": after.ids.numpy().astype(np.int32),
        "boundary_final": after.boundary.numpy(),
        "prediction": prediction.clamp(0, 1).numpy().astype(np.float32),
    }
    return record, arrays


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """``torch`` on one thread inside the block: on small problems more threads only add hand-off costs
    (several times slower on 2 shared cores)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def run_line(mapping: str, k: float, settings: dict) -> dict:
    """Fit ``0.5 + 0.5 sin(2π k t)`` with raw coordinates, counting regions along [0, 1] exactly."""
    with one_thread():
        return _run_line(mapping, k, settings)


def _run_line(mapping: str, k: float, settings: dict) -> dict:
    started = time.perf_counter()
    t, y = line_target(k, settings["line_samples"])
    model = make_model(mapping, 1, 1, settings, "none")
    counter = LineCounts(settings["line_every"])
    config = TrainConfig(steps=settings["line_steps"], lr=LR, seed=SEED, eval_every=settings["line_steps"])
    Trainer(model, Samples(t, y), config, [counter]).fit()
    prediction = predict(model, t)
    return {
        "mapping": mapping,
        "k": k,
        "steps": counter.steps,
        "counts": counter.counts,
        "final_count": counter.counts[-1],
        "sampled_final_count": count_regions(model, t),
        "needed": 2 * k,
        "final_psnr": psnr(prediction, y),
        "seconds": time.perf_counter() - started,
        "settings": None,
    }


def write_json(path: Path, data) -> None:
    _write_json(str(path), data, allow_nan=True)


def load_record(path: Path, settings: dict, arrays: bool = False) -> Optional[dict]:
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if record.get("settings") != settings:
        return None
    if arrays and not path.with_suffix(".npz").is_file():
        return None
    return record


def save_arrays(path: Path, arrays: Dict[str, np.ndarray]) -> None:
    from coordnet.atomic import write_atomically

    def write(temporary: str) -> None:
        with open(temporary, "wb") as handle:
            np.savez_compressed(handle, **arrays)

    write_atomically(str(path), write)


# ----------------------------------------------------------------------------- claims


def _claim(key: str, holds: bool, ours: str, numbers: dict) -> dict:
    source, text = CLAIMS[key]
    return {"claim": text, "source": source, "source_text": SOURCES[source], "holds": bool(holds), "ours": ours,
            "numbers": numbers}


def observations(images: Dict[str, dict]) -> Dict[str, dict]:
    """How each mapping's region count moved during training (the abstract: "distinct dynamics"
    once spectral bias is reduced); reported, not judged."""
    result = {}
    for m, r in images.items():
        counts = r["counts"]
        peak = int(np.argmax(counts))
        result[m] = {
            "label": r["label"],
            "initial": r["initial_count"],
            "final": r["final_count"],
            "final_over_initial": r["final_count"] / max(r["initial_count"], 1),
            "max": int(counts[peak]),
            "max_at_step": int(r["steps"][peak]),
            "saturated": r["final_count"] == r["grid_samples"],
            "fine_grid": r.get("fine_grid"),
            "initial_fine": r.get("initial_count_fine"),
            "final_fine": r.get("final_count_fine"),
        }
    return result


def check_claims(images: Dict[str, dict], lines: Dict[str, Dict[str, dict]]) -> Dict[str, dict]:
    """The claims of :data:`CLAIMS` that the results allow checking, with our numbers.

    Args:
        images: mapping -> record of :func:`run_image` (any subset of :data:`MAPPINGS`).
        lines: mapping -> {str(k): record of :func:`run_line`}.
    """
    claims: Dict[str, dict] = {}
    final = {m: r["final_count"] for m, r in images.items()}
    initial = {m: r["initial_count"] for m, r in images.items()}
    psnrs = {m: r["final_psnr"] for m, r in images.items()}
    raw = [m for m in RAW if m in images]
    pe = [m for m in PE if m in images]
    if raw and "pe8" in images:
        best_raw = max(raw, key=lambda m: final[m])
        ratio = final["pe8"] / max(final[best_raw], 1)
        fine = {m: r.get("final_count_fine") for m, r in images.items()}
        claims["pe_more_regions"] = _claim(
            "pe_more_regions", ratio >= 2,
            f"PE L=8 ends with {final['pe8']} regions, {ratio:.1f}x the most of the raw mappings "
            f"({images[best_raw]['label']}: {final[best_raw]})"
            + (f"; on the finer grid {fine['pe8']} vs {fine[best_raw]}" if fine["pe8"] is not None else ""),
            {"final": final, "ratio": ratio, "final_fine": fine},
        )
        pairs = {m: images[m]["pairs"] for m in raw + ["pe8"]}
        near_h = {m: p["near_hamming_fraction"] for m, p in pairs.items()}
        near_c = {m: p["near_gradient_cosine"] for m, p in pairs.items()}
        claims["pe_patterns_more_distinct"] = _claim(
            "pe_patterns_more_distinct", all(near_h["pe8"] > near_h[m] for m in raw),
            "near-pair Hamming fraction " + ", ".join(f"{images[m]['label']} {v:.4f}" for m, v in near_h.items()),
            {"near_hamming_fraction": near_h},
        )
        claims["raw_gradients_more_alike"] = _claim(
            "raw_gradients_more_alike", all(near_c[m] > near_c["pe8"] for m in raw),
            "near-pair gradient cosine " + ", ".join(f"{images[m]['label']} {v:.3f}" for m, v in near_c.items()),
            {"near_gradient_cosine": near_c},
        )
        claims["pe_fits_better"] = _claim(
            "pe_fits_better", all(psnrs["pe8"] > psnrs[m] for m in raw),
            "final PSNR " + ", ".join(f"{images[m]['label']} {psnrs[m]:.2f} dB" for m in raw + ["pe8"]),
            {"final_psnr": {m: psnrs[m] for m in raw + ["pe8"]}},
        )
    if len(pe) == 3:
        counts = [final[m] for m in PE]
        claims["pe_regions_grow_with_L"] = _claim(
            "pe_regions_grow_with_L", counts[0] < counts[1] < counts[2],
            "final regions L=1: {}, L=2: {}, L=8: {}".format(*counts), {"final": dict(zip(PE, counts))},
        )
    if len(raw) == 2:
        claims["centring_changes_regions"] = _claim(
            "centring_changes_regions", initial["raw11"] > initial["raw01"] and final["raw11"] > final["raw01"],
            f"[-1,1]: {initial['raw11']} -> {final['raw11']} regions, [0,1]: {initial['raw01']} -> {final['raw01']} "
            "(before -> after training)",
            {"initial": {m: initial[m] for m in RAW}, "final": {m: final[m] for m in RAW}},
        )
        claims["centring_helps_fit"] = _claim(
            "centring_helps_fit", psnrs["raw11"] > psnrs["raw01"],
            f"final PSNR [-1,1] {psnrs['raw11']:.2f} dB, [0,1] {psnrs['raw01']:.2f} dB",
            {"final_psnr": {m: psnrs[m] for m in RAW}},
        )
    line_raw = {m: runs for m, runs in lines.items() if runs}
    if line_raw:
        short, bias, numbers_count, numbers_bias = True, True, {}, {}
        for m, runs in line_raw.items():
            ks = sorted(runs, key=float)
            frequencies = [float(k) for k in ks]
            counts = [runs[k]["final_count"] for k in ks]
            psnr_values = [runs[k]["final_psnr"] for k in ks]
            short = short and len(ks) >= 2 and counts[0] >= 2 * frequencies[0] and counts[-1] < 2 * frequencies[-1]
            bias = bias and len(ks) >= 2 and psnr_values[-1] < psnr_values[0]
            numbers_count[m] = {"k": frequencies, "final_count": counts, "needed": [2 * k for k in frequencies],
                                "spearman_count_vs_k": spearman(frequencies, counts)}
            numbers_bias[m] = {"k": frequencies, "final_psnr": psnr_values}
        claims["line_regions_fall_short"] = _claim(
            "line_regions_fall_short", short,
            "; ".join(f"{MAPPINGS[m][0]}: " + ", ".join(f"k={k:g}: {c}/{n:g}" for k, c, n in
                                                      zip(v["k"], v["final_count"], v["needed"]))
                      for m, v in numbers_count.items()) + " (regions / 2k)",
            numbers_count,
        )
        claims["line_spectral_bias"] = _claim(
            "line_spectral_bias", bias,
            "; ".join(f"{MAPPINGS[m][0]}: " + ", ".join(f"k={k:g}: {p:.1f} dB" for k, p in zip(v["k"], v["final_psnr"]))
                      for m, v in numbers_bias.items()),
            numbers_bias,
        )
    return claims


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman rank correlation (:func:`scipy.stats.spearmanr`, average ranks for ties); 0 when a side is constant."""
    from scipy.stats import spearmanr

    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if np.unique(a).size < 2 or np.unique(b).size < 2:
        return 0.0
    return float(spearmanr(a, b).statistic)


# ----------------------------------------------------------------------------- report


def format_table(images: Dict[str, dict]) -> str:
    first = next(iter(images.values()))
    fine = "x".join(str(n) for n in first["fine_grid"])
    lines = [f"{'mapping':<12}{'regions@0':>11}{'regions@end':>13}{'x':>6}{'on ' + fine + ' @0/@end':>26}"
             f"{'PSNR dB':>9}{'boundary':>10}{'near Hamming':>14}{'near grad cos':>15}"]
    for r in images.values():
        ratio = r["final_count"] / max(r["initial_count"], 1)
        fine_counts = f"{r['initial_count_fine']} / {r['final_count_fine']}"
        lines.append(f"{r['label']:<12}{r['initial_count']:>11}{r['final_count']:>13}{ratio:>6.2f}{fine_counts:>26}"
                     f"{r['final_psnr']:>9.2f}{r['boundary_fraction_final']:>10.3f}"
                     f"{r['pairs']['near_hamming_fraction']:>14.4f}{r['pairs']['near_gradient_cosine']:>15.3f}")
    return "\n".join(lines)


def format_claims(claims: Dict[str, dict]) -> str:
    lines = []
    for c in claims.values():
        lines.append(f"- paper [{c['source']}]: {c['claim']}\n"
                     f"  ours: {c['ours']}  [{'holds' if c['holds'] else 'does NOT hold'}]")
    return "\n".join(lines)


def format_observations(seen: Dict[str, dict]) -> str:
    lines = []
    for o in seen.values():
        fine = ""
        if o.get("final_fine") is not None:
            fine = f"; on {'x'.join(map(str, o['fine_grid']))}: {o['initial_fine']} -> {o['final_fine']}"
        lines.append(f"- {o['label']}: {o['initial']} -> {o['final']} regions ({o['final_over_initial']:.2f}x; "
                     f"most {o['max']} at step {o['max_at_step']}"
                     f"{'; every pixel its own region' if o['saturated'] else ''}{fine})")
    return "\n".join(lines)


def plot_all(out: Path, images: Dict[str, dict], arrays: Dict[str, Dict[str, np.ndarray]],
             lines: Dict[str, Dict[str, dict]], target: np.ndarray, budget: str) -> List[str]:
    from coordnet.plots.regions import boundary_image, region_image, save_count_curves, save_lines_1d, save_panels

    written = []
    if images:
        grid = next(iter(images.values()))["grid_samples"]
        save_count_curves(str(out / "counts.png"), {r["label"]: (r["steps"], r["counts"]) for r in images.values()},
                          title=f"activation regions over a {math.isqrt(grid)}² pixel grid during training ({budget})",
                          limit=grid)
        rows = {}
        for m, r in images.items():
            a = arrays[m]
            rows[r["label"]] = [
                (f"before: {r['initial_count']} regions", region_image(a["ids_initial"])),
                (f"after: {r['final_count']} regions", region_image(a["ids_final"])),
                ("boundaries after", boundary_image(a["boundary_final"])),
                (f"fit: {r['final_psnr']:.2f} dB", np.clip(a["prediction"], 0, 1)),
            ]
        rows["target"] = [("image", np.clip(target, 0, 1))]
        save_panels(str(out / "region_maps.png"), rows)
        written += ["counts.png", "region_maps.png"]
    if lines and any(lines.values()):
        ks = sorted({float(k) for runs in lines.values() for k in runs})
        final = {MAPPINGS[m][0]: [runs[_key(k)]["final_count"] for k in ks] for m, runs in lines.items() if runs}
        psnrs = {MAPPINGS[m][0]: [runs[_key(k)]["final_psnr"] for k in ks] for m, runs in lines.items() if runs}
        first = next(m for m, runs in lines.items() if runs)
        curves = {f"{MAPPINGS[first][0]}, k={k:g}": (lines[first][_key(k)]["steps"], lines[first][_key(k)]["counts"])
                  for k in ks}
        save_lines_1d(str(out / "lines_1d.png"), ks, final, curves, psnrs, needed=[2 * k for k in ks])
        written.append("lines_1d.png")
    return written


def _key(k: float) -> str:
    return f"{k:g}"


# ----------------------------------------------------------------------------- main


#: Settings that can be overridden (hidden options, for tests and experiments).
COUNT_OPTIONS = (
    "size", "fine", "width", "depth", "steps", "every", "pairs", "line_samples", "line_steps", "line_every",
)


def parse_args(argv: Optional[Sequence[str]]):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", choices=sorted(BUDGETS), default="cpu")
    parser.add_argument("--out", type=Path, required=True, help="output folder (created)")
    parser.add_argument("--image", default="camera", help="bundled image name or image file [default: camera]")
    parser.add_argument("--no-lines", action="store_true", help="skip the 1D experiment")
    # Hidden overrides, for tests and experiments; a run with any of them is labelled as such.
    for name in COUNT_OPTIONS:
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--ks", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--mappings", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--no-figures", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    settings = dict(BUDGETS[args.budget])
    overrides = {}
    for key in COUNT_OPTIONS:
        value = getattr(args, key)
        if value is not None:
            if value < 1:
                print(f"error: --{key.replace('_', '-')} must be a positive integer, got {value}", file=sys.stderr)
                return 2
            overrides[key] = value
    if args.ks is not None:
        try:
            overrides["ks"] = [float(k) if "." in k else int(k) for k in args.ks.split(",") if k.strip()]
        except ValueError:
            print(f"error: --ks must be comma-separated frequencies, got {args.ks!r}", file=sys.stderr)
            return 2
    mappings = list(MAPPINGS)
    if args.mappings is not None:
        mappings = [m.strip() for m in args.mappings.split(",") if m.strip()]
        unknown = [m for m in mappings if m not in MAPPINGS]
        if unknown or not mappings:
            print(f"error: --mappings must name some of {', '.join(MAPPINGS)}, got {args.mappings!r}", file=sys.stderr)
            return 2
        overrides["mappings"] = mappings
    settings.update({k: v for k, v in overrides.items() if k != "mappings"})
    label = args.budget + (" + overrides " + ", ".join(f"{k}={v}" for k, v in overrides.items()) if overrides else "")
    try:
        signal = load_signal(args.image, size=settings["size"])
    except (ValueError, OSError) as error:
        print(f"error: {str(error).splitlines()[0]}", file=sys.stderr)
        return 2
    if signal.kind != "image":
        print(f"error: --image must be an image, got a {signal.kind} signal ({args.image!r})", file=sys.stderr)
        return 2
    runs = args.out / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    print(f"Lazzari & Liu 2023 activation regions, budget {label}: {settings}", flush=True)
    started = time.perf_counter()
    fitted = reused = 0

    images: Dict[str, dict] = {}
    arrays: Dict[str, Dict[str, np.ndarray]] = {}
    wanted = image_settings(settings, args.image)
    for m in mappings:
        path = runs / f"image__{m}.json"
        record = load_record(path, wanted, arrays=True)
        if record is None:
            record, data = run_image(m, signal, settings)
            record["settings"] = wanted
            save_arrays(path.with_suffix(".npz"), data)
            write_json(path, record)
            fitted += 1
            print(f"  image {record['label']:<11}: regions {record['initial_count']} -> {record['final_count']}, "
                  f"PSNR {record['final_psnr']:.2f} dB in {record['seconds']:.1f} s", flush=True)
        else:
            reused += 1
        images[m] = record
        with np.load(path.with_suffix(".npz")) as stored:
            arrays[m] = {k: stored[k] for k in stored.files}

    lines: Dict[str, Dict[str, dict]] = {}
    if not args.no_lines:
        wanted_line = line_settings(settings)
        for m in [m for m in LINE_MAPPINGS if m in mappings]:
            lines[m] = {}
            for k in settings["ks"]:
                path = runs / f"line__{m}__k{_key(k)}.json"
                record = load_record(path, wanted_line)
                if record is None:
                    record = run_line(m, k, settings)
                    record["settings"] = wanted_line
                    write_json(path, record)
                    fitted += 1
                    print(f"  1D {MAPPINGS[m][0]:<11} k={k:<4g}: regions {record['counts'][0]} -> "
                          f"{record['final_count']} (2k = {2 * k:g}), PSNR {record['final_psnr']:.2f} dB "
                          f"in {record['seconds']:.1f} s", flush=True)
                else:
                    reused += 1
                lines[m][_key(k)] = record

    claims = check_claims(images, lines)
    figures = [] if args.no_figures else plot_all(args.out, images, arrays, lines, signal.values.numpy(), args.budget)
    results = {
        "paper": PAPER,
        "budget": args.budget,
        "budget_label": label,
        "settings": {
            **settings,
            "mappings": {m: {"label": MAPPINGS[m][0], "spec": model_spec(m, settings["width"], settings["depth"])}
                         for m in mappings},
            "image": args.image,
            "image_shape": list(signal.values.shape),
            "split": "full (every pixel trained; PSNR on the pixel grid)",
            "optimizer": f"Adam, full batch, constant lr {LR}",
            "seed": SEED,
            "count_grid": f"{settings['size']}x{settings['size']} pixel grid of [0,1]^2 (half-open)",
            "line_target": "0.5 + 0.5 sin(2π k t), t on the half-open grid of [0,1); regions counted exactly on [0,1]",
            "torch_threads": torch.get_num_threads(),
        },
        "images": images,
        "lines": lines,
        "claims": claims,
        "claims_hold": {key: c["holds"] for key, c in claims.items()},
        "region_dynamics": observations(images),
        "paper_numbers": None,
        "paper_numbers_note": "the paper reports these effects in figures; no table to compare numbers with",
        "figures": figures,
        "fitted_this_run": fitted,
        "reused": reused,
        "wall_seconds_this_run": time.perf_counter() - started,
    }
    write_json(args.out / "results.json", results)

    print(f"\nActivation regions over the {settings['size']}x{settings['size']} pixel grid, budget {label}; "
          f"{fitted} fitted, {reused} reused, {results['wall_seconds_this_run']:.0f} s")
    if images:
        print(format_table(images))
    print("\nThe paper's claims beside ours (" + "; ".join(f"[{k}] {v}" for k, v in SOURCES.items()) + "):")
    print(format_claims(claims))
    if images:
        print("\nRegion counts during training (the abstract's \"distinct dynamics\"; reported, not judged):")
        print(format_observations(results["region_dynamics"]))
    print(f"wrote {args.out / 'results.json'}" + "".join(f", {args.out / f}" for f in figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
