"""Reproduce Rahaman et al. 2019, "On the Spectral Bias of Neural Networks" (ICML; arXiv 1806.08734):
frequency-resolved learning, robustness to parameter perturbations, learnability along manifolds.

Usage::

    python scripts/reproduce_rahaman2019.py --budget cpu|paper --out DIR [--seed S]

The paper's claims (``PAPER_CLAIMS``) and how they are measured (:mod:`coordnet.spectral.rahaman`):

* Exp. 1 (Fig. 1): a ReLU MLP fitted to ``Σ_i A_i sin(2π k_i t + 2π φ_i)`` on 200 points of
  ``[0, 1)``, ``k = 5, 10, ..., 50``, ``φ_i ~ U(0, 1)``, learns the low frequencies first, with
  equal amplitudes (``A_i = 1``) and even when the high frequencies are the strongest
  (``A_i = 0.1 i``). We record ``|f̂_θ(k_i)| / A_i`` (the heat map) and call ``k_i`` learned at
  the first record where it reaches 0.9; ``rank_correlation_relu`` is Spearman's correlation of
  that step with ``k`` (average ranks for ties; never learned = the last step): 1 means learned
  strictly from low to high. The MLP sees the raw coordinate ``t``.
* The same targets behind a Fourier-feature input mapping (Tancik et al. 2020): Gaussian
  features (``rank_correlation_fourier``) and NeRF's positional encoding (``rank_correlation_pe``)
  -- same MLP, optimiser and records: the frequencies are learned at nearly the same step.
* Exp. 2: parameters of the trained MLP (``A_i = 1``) moved along random unit-norm directions
  by ``δ``: the amplitude of the high frequencies decays first, that of the low ones stays (it
  even grows: the perturbation itself is mostly low-frequency, as ``relative_deviation``
  shows). Summary: Spearman's correlation of ``k`` with the smallest ``δ`` at which the mean
  normalised amplitude falls below 0.5 (never: the largest ``δ``); negative = high ``k`` first.
* Sec. 4: data on ``γ_L(φ) = (1 + 0.5 sin Lφ)(cos φ, sin φ)`` in R², target ``sin kφ`` along the
  curve, a ReLU MLP ``R² -> R`` trained for a fixed budget: the curvier the manifold (larger
  ``L``), the better the high frequencies along it are learned. Learnability = 1 - final MSE
  / 0.5 (the target's mean square); summary: Spearman's correlation of ``L`` with the mean
  learnability over ``k``, and the circle (``L = 0``) against the flowers (``L > 0``).

Budgets:

* ``paper``: the paper's exp.-1 settings: depth 6, width 256, Adam 3e-4, full batch, 60,000
  steps (``tens of thousands``), records every 100 steps; the Fourier-feature runs 2,000 steps;
  perturbation on 21 sizes x 20 directions; manifold grid ``L = 0..20`` (step 2) x
  ``k = 4..40`` (step 4), depth 6 width 256, 3,000 steps. Not run here; estimated at an hour or
  more of CPU time (every run is saved as it finishes and reused by a rerun with the same settings).
* ``cpu``: the paper's target, points, depth, full-batch Adam and raw coordinate, but width 128
  and learning rate 2e-3 (at 3e-4 and width 256, k = 50 needs far more than minutes of CPU),
  20,000 steps; spectra recorded every 50 steps (400 records) for every model; the
  Fourier-feature runs 500 steps; perturbation 16 sizes x 10 directions; manifold
  ``L = 0, 4, ..., 20`` x ``k = 8, 16, 24, 32`` with a 4 x 64 MLP, 300 steps at 1e-3.
  Measured: 161-165 s of CPU time per seed (one thread); 7-19 min of wall time on a shared,
  overloaded 2-core machine.

Measured with ``--budget cpu`` (seeds 0, 1, 2): ``rank_correlation_relu`` 0.976, 0.960, 0.988
(seed 0 learns all ten, in the order 5 10 15 20 25 35 30 45 40 50, by step 16,400);
``rank_correlation_fourier`` 0.000 for each seed: the Gaussian-feature MLP has every frequency
at 90% by the first record (step 50), a tie, where the ReLU MLP needs 700-1,200 steps for k = 5
and 13,000-16,400 for the last one it learns. Recorded every step instead (a resolution the
ReLU runs do not need), the Gaussian-feature index is -0.23 to 0.60 over 5 seeds (mean 0.29):
within those first 10-40 steps a weak, noisy residual ordering remains. Positional encoding
(NeRF's, 8 octaves) learns every frequency by step 100-150, k = 25, 35, 45, 50 one or two
records after the others (index 0.64). With ``A_i = 0.1 i`` the ReLU MLP learns only k = 5, 10 (and 15, 20 for seed 0)
within 20,000 steps, in that order. Perturbation: Spearman(k, δ_1/2) -0.96 to -0.98. Manifold:
the mean learnability rises from 0.57-0.67 on the circle to 0.89-0.93 at L = 8, then falls to
0.77-0.80 at L = 20 (Spearman over L 0.2-0.43): the circle is the hardest, but in this budget
the gain does not keep growing with L.

Outputs in ``OUT``: ``runs/*.json`` (+ ``runs/*.pt``: trained weights) per run, reused by a rerun
whose settings match; ``results.json``; ``heatmaps.png`` (exp. 1: rows A_i = 1 and A_i = 0.1 i,
columns ReLU, Gaussian features, positional encoding); ``perturbation.png``; ``manifold.png``
(learnability per (L, k)); ``manifolds.png`` (the curves); and the comparison printed to stdout.
"""
from __future__ import annotations

import argparse
import io
import json
import math
import sys
import time
from pathlib import Path
from typing import Dict, Optional, Sequence

import numpy as np
import torch

from coordnet.atomic import write_atomically, write_json
from coordnet.nets import build_model
from coordnet.plots.spectral import Heatmap, save_flower_curves, save_heatmaps
from coordnet.spectral.rahaman import (
    PAPER_FREQUENCIES,
    ManifoldResult,
    flower_curve,
    manifold_experiment,
    perturbation_spectrum,
    sinusoid_target,
    train_spectral_run,
    unit_grid,
)

PAPER = "Rahaman et al. 2019, On the Spectral Bias of Neural Networks (ICML, arXiv 1806.08734)"
PAPER_CLAIMS = {
    "exp1_equal": "A_i = 1: a ReLU MLP learns k = 5..50 from low to high (Fig. 1)",
    "exp1_increasing": "A_i = 0.1 i: still low to high, though the high frequencies are the strongest (Fig. 1)",
    "fourier": "Fourier features (Tancik et al. 2020): the frequencies are learned at nearly the same step",
    "perturbation": "exp. 2: higher frequencies are less robust to random parameter perturbations",
    "manifold": "Sec. 4: the curvier the manifold (larger L), the easier high frequencies along it",
}
THRESHOLD = 0.9  # normalised amplitude at which a frequency counts as learned
HALF = 0.5  # perturbation: normalised amplitude below which a frequency counts as lost
ACCEPT_RELU, ACCEPT_FOURIER = 0.9, 0.5
CASES = ("equal", "increasing")
CASE_LABELS = {"equal": "A_i = 1", "increasing": "A_i = 0.1 i"}

BUDGETS: Dict[str, dict] = {
    "cpu": {
        "exp1": {"points": 200, "frequencies": list(PAPER_FREQUENCIES), "width": 128, "depth": 6, "lr": 2e-3,
                 "steps": 20000, "record_every": 50, "fourier_steps": 500},
        "encoders": {"gauss": "gauss:num_frequencies=256,scale=64", "pe": "pe:num_frequencies=8"},
        "perturbation": {"fractions": [round(0.02 * i, 2) for i in range(16)], "directions": 10},
        "manifold": {"ls": [0, 4, 8, 12, 16, 20], "ks": [8, 16, 24, 32], "width": 64, "depth": 4, "steps": 300,
                     "lr": 1e-3, "points": 256},
    },
    "paper": {
        "exp1": {"points": 200, "frequencies": list(PAPER_FREQUENCIES), "width": 256, "depth": 6, "lr": 3e-4,
                 "steps": 60000, "record_every": 100, "fourier_steps": 2000},
        "encoders": {"gauss": "gauss:num_frequencies=256,scale=64", "pe": "pe:num_frequencies=8"},
        "perturbation": {"fractions": [round(0.015 * i, 3) for i in range(21)], "directions": 20},
        "manifold": {"ls": list(range(0, 21, 2)), "ks": list(range(4, 41, 4)), "width": 256, "depth": 6,
                     "steps": 3000, "lr": 3e-4, "points": 256},
    },
    # Seconds-long settings for the script's own tests (not a reproduction).
    "smoke": {
        "exp1": {"points": 32, "frequencies": [1, 3, 7], "width": 16, "depth": 2, "lr": 3e-3, "steps": 60,
                 "record_every": 5, "fourier_steps": 20},
        "encoders": {"gauss": "gauss:num_frequencies=16,scale=4", "pe": "pe:num_frequencies=4"},
        "perturbation": {"fractions": [0.0, 0.1, 0.3], "directions": 2},
        "manifold": {"ls": [0, 8], "ks": [8], "width": 16, "depth": 2, "steps": 20, "lr": 3e-3, "points": 32},
    },
}
PUBLIC_BUDGETS = ("cpu", "paper")


def model_spec(encoder: Optional[str], exp1: dict) -> str:
    net = f"relu:width={exp1['width']},depth={exp1['depth']}"
    return net if encoder is None else f"{encoder}+{net}"


def exp1_runs(budget: dict) -> Dict[str, dict]:
    """Name -> settings of every exp.-1 run: ReLU, Gaussian features, PE, for both amplitude cases."""
    exp1 = budget["exp1"]
    runs = {}
    for case in CASES:
        encoders = (("relu", None), ("gauss", budget["encoders"]["gauss"]), ("pe", budget["encoders"]["pe"]))
        for model, encoder in encoders:
            runs[f"{model}_{case}"] = {
                "spec": model_spec(encoder, exp1),
                "case": case,
                "points": exp1["points"],
                "frequencies": exp1["frequencies"],
                "lr": exp1["lr"],
                "steps": exp1["steps"] if model == "relu" else exp1["fourier_steps"],
                "record_every": exp1["record_every"],
                "threshold": THRESHOLD,
            }
    return runs


def _load(path: Path, settings: dict) -> Optional[dict]:
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return stored if stored.get("settings") == json.loads(json.dumps(settings)) else None


def save_state(path: Path, state: dict) -> None:
    def write(temporary: str) -> None:
        buffer = io.BytesIO()
        torch.save(state, buffer)
        Path(temporary).write_bytes(buffer.getvalue())

    write_atomically(str(path), write)


def run_exp1(runs_dir: Path, name: str, settings: dict, seed: int, log) -> dict:
    """The stored record of an exp.-1 run if its settings match, else a fresh run (saved at once).

    Returns the record (:meth:`SpectralRun.to_dict`) and, under ``"model"``, the trained model."""
    full = {**settings, "seed": seed}
    path = runs_dir / f"{name}.json"
    weights = runs_dir / f"{name}.pt"
    stored = _load(path, full)
    torch.manual_seed(seed)
    model = build_model(settings["spec"], 1, 1)
    if stored is not None and weights.exists():
        model.load_state_dict(torch.load(weights, weights_only=True))
        return {**stored["record"], "model": model, "fresh": False}
    target = sinusoid_target(settings["frequencies"], settings["case"], seed=seed)
    run = train_spectral_run(model, target, steps=settings["steps"], lr=settings["lr"],
                             record_every=settings["record_every"], n_points=settings["points"],
                             threshold=settings["threshold"], seed=seed, label=settings["spec"])
    record = {**run.to_dict(), "target": target.to_dict()}
    save_state(weights, run.model.state_dict())
    write_json(str(path), {"settings": full, "record": record})
    index = record["spectral_bias_index"]
    log(f"  {name:<16} {run.seconds:7.1f} s  index {'-' if index is None else f'{index:+.3f}'}  "
        f"order {' '.join(map(str, record['order']))}"
        + (f"  unlearned {' '.join(map(str, record['unlearned']))}" if record["unlearned"] else ""))
    return {**record, "model": run.model, "fresh": True}


def run_perturbation(runs_dir: Path, relu: dict, budget: dict, seed: int, log) -> dict:
    settings = {**budget["perturbation"], "source": relu["label"], "seed": seed,
                "frequencies": budget["exp1"]["frequencies"], "points": budget["exp1"]["points"]}
    path = runs_dir / "perturbation.json"
    stored = _load(path, settings)
    if stored is not None and not relu["fresh"]:
        return {**stored["record"], "fresh": False}
    model = relu["model"]
    norm = float(torch.cat([p.detach().reshape(-1) for p in model.parameters()]).norm())
    deltas = [f * norm for f in settings["fractions"]]
    started = time.perf_counter()
    coords = unit_grid(settings["points"]).float()[:, None]
    result = perturbation_spectrum(model, coords, settings["frequencies"], deltas,
                                   directions=settings["directions"], seed=seed)
    record = {**result.to_dict(), "fractions": settings["fractions"], "seconds": time.perf_counter() - started}
    write_json(str(path), {"settings": settings, "record": record})
    correlation = record["rank_correlation"]
    log(f"  perturbation     {record['seconds']:7.1f} s  ‖θ‖ = {norm:.1f}, Spearman(k, δ_1/2) "
        f"{'-' if correlation is None else f'{correlation:+.3f}'}")
    return {**record, "fresh": True}


def run_manifold(runs_dir: Path, budget: dict, seed: int, log) -> ManifoldResult:
    """Every (L, k) cell is its own run, saved and reused like the exp.-1 runs."""
    settings = budget["manifold"]
    spec = f"relu:width={settings['width']},depth={settings['depth']}"
    amplitude = torch.zeros(len(settings["ls"]), len(settings["ks"]), dtype=torch.float64)
    loss = torch.zeros_like(amplitude)
    started, fresh = time.perf_counter(), 0
    for row, L in enumerate(settings["ls"]):
        for column, k in enumerate(settings["ks"]):
            cell = {"spec": spec, "L": L, "k": k, "steps": settings["steps"], "lr": settings["lr"],
                    "points": settings["points"], "seed": seed}
            path = runs_dir / f"manifold_L{L}_k{k}.json"
            stored = _load(path, cell)
            if stored is None:
                result = manifold_experiment([L], [k], lambda: build_model(spec, 2, 1), steps=settings["steps"],
                                             lr=settings["lr"], n_points=settings["points"], seed=seed)
                stored = {"settings": cell, "record": {"amplitude": float(result.amplitude[0, 0]),
                                                       "loss": float(result.loss[0, 0])}}
                write_json(str(path), stored)
                fresh += 1
            amplitude[row, column] = stored["record"]["amplitude"]
            loss[row, column] = stored["record"]["loss"]
    if fresh:
        log(f"  manifold         {time.perf_counter() - started:7.1f} s  {fresh} of "
            f"{amplitude.numel()} (L, k) runs trained")
    return ManifoldResult(list(settings["ls"]), list(settings["ks"]), amplitude, loss, settings["steps"],
                          settings["points"])


def _index(record: dict) -> Optional[float]:
    return record["spectral_bias_index"]


def _fmt(value: Optional[float]) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:+.3f}"


def _plain(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.2f}"


def _learned(results: dict, name: str) -> str:
    steps = results["learned_steps"][name]
    count = sum(s is not None for s in steps.values())
    last = results["last_learned"][name]
    if count == 0:
        return "none learned"
    return f"{'all' if count == len(steps) else f'{count}/{len(steps)}'} learned by step {last}"


def comparison_table(results: dict) -> str:
    """The paper's claims, each followed by our measurement."""
    rows = []
    for case in CASES:
        key = "rank_correlation_relu" + ("" if case == "equal" else "_increasing")
        order = " ".join(map(str, results["learning_order"][f"relu_{case}"])) or "-"
        unlearned = results["unlearned"][f"relu_{case}"]
        rows.append((PAPER_CLAIMS[f"exp1_{case}"],
                     f"ReLU MLP: Spearman(k, step) {_fmt(results[key])}; learned in the order {order}"
                     + (f"; never: {' '.join(map(str, unlearned))}" if unlearned else "")
                     + f" ({_learned(results, f'relu_{case}')})"))
    for case in CASES:
        suffix = "" if case == "equal" else "_increasing"
        rows.append((f"{PAPER_CLAIMS['fourier']} [{CASE_LABELS[case]}]",
                     f"Gaussian features: Spearman {_fmt(results['rank_correlation_fourier' + suffix])} "
                     f"({_learned(results, f'gauss_{case}')}); positional encoding: "
                     f"{_fmt(results['rank_correlation_pe' + suffix])} ({_learned(results, f'pe_{case}')})"))
    perturbation = results["perturbation"]
    ratios = perturbation["normalised_amplitude"][-1]
    rows.append((PAPER_CLAIMS["perturbation"],
                 f"Spearman(k, δ at which the amplitude halves) {_fmt(perturbation['rank_correlation'])}; at the "
                 f"largest δ the amplitude ratio is {ratios[0]:.2f} at k = {perturbation['frequencies'][0]}, "
                 f"{ratios[-1]:.2f} at k = {perturbation['frequencies'][-1]}"))
    manifold = results["manifold"]
    circle, flowers = manifold["learnability_circle"], manifold["learnability_flowers"]
    rows.append((PAPER_CLAIMS["manifold"],
                 f"Spearman(L, mean learnability) {_fmt(manifold['rank_correlation_L_learnability'])}; "
                 f"mean learnability on the circle (L = 0) {_plain(circle)}, for L > 0 {_plain(flowers)}"))
    return "\n".join(f"paper: {claim}\nours:  {ours}" for claim, ours in rows)


def parse_args(argv: Optional[Sequence[str]]):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", default="cpu", help="cpu (minutes) or paper (hours)")
    parser.add_argument("--out", type=Path, required=True, help="output folder (created)")
    parser.add_argument("--seed", type=int, default=0, help="phases of the target, initial weights, directions")
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if args.budget not in BUDGETS:
        print(f"error: --budget must be one of {', '.join(PUBLIC_BUDGETS)}, got {args.budget!r}", file=sys.stderr)
        return 2
    budget = BUDGETS[args.budget]
    runs_dir = args.out / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    print(f"Rahaman et al. 2019, spectral bias; budget {args.budget}, seed {args.seed}", flush=True)

    def log(line: str) -> None:
        print(line, flush=True)

    runs = {name: run_exp1(runs_dir, name, settings, args.seed, log) for name, settings in exp1_runs(budget).items()}
    perturbation = run_perturbation(runs_dir, runs["relu_equal"], budget, args.seed, log)
    manifold = run_manifold(runs_dir, budget, args.seed, log)
    manifold_record = manifold.to_dict()
    learnability = manifold.learnability()
    circle = [i for i, L in enumerate(manifold.ls) if L == 0]
    flowers = [i for i, L in enumerate(manifold.ls) if L > 0]
    manifold_record["learnability_circle"] = float(learnability[circle].mean()) if circle else None
    manifold_record["learnability_flowers"] = float(learnability[flowers].mean()) if flowers else None

    records = {name: {k: v for k, v in run.items() if k not in ("model", "fresh")} for name, run in runs.items()}
    fresh = sum(run["fresh"] for run in runs.values())
    results = {
        "paper": PAPER,
        "paper_claims": PAPER_CLAIMS,
        "budget": args.budget,
        "seed": args.seed,
        "rank_correlation_relu": _index(records["relu_equal"]),
        "rank_correlation_relu_increasing": _index(records["relu_increasing"]),
        "rank_correlation_fourier": _index(records["gauss_equal"]),
        "rank_correlation_fourier_increasing": _index(records["gauss_increasing"]),
        "rank_correlation_pe": _index(records["pe_equal"]),
        "rank_correlation_pe_increasing": _index(records["pe_increasing"]),
        "learning_order": {name: r["order"] for name, r in records.items()},
        "unlearned": {name: r["unlearned"] for name, r in records.items()},
        "learned_steps": {name: dict(zip(map(str, r["frequencies"]), r["learned_steps"]))
                          for name, r in records.items()},
        "last_learned": {name: max((s for s in r["learned_steps"] if s is not None), default=None)
                         for name, r in records.items()},
        "final_loss": {name: r["final_loss"] for name, r in records.items()},
        "perturbation": {k: v for k, v in perturbation.items() if k != "fresh"},
        "manifold": manifold_record,
        "settings": {
            **budget,
            "runs": {name: settings for name, settings in exp1_runs(budget).items()},
            "criterion": f"k learned at the first record with |f̂_θ(k)| / A_k >= {THRESHOLD}",
            "index": "Spearman(k, learning step), average ranks for ties, never learned = the run's last step",
            "coordinates": "raw t in [0, 1) (no encoding) for the ReLU runs",
            "optimizer": "Adam, full batch, constant learning rate",
            "perturbation_deltas": "fractions of the trained parameters' norm",
            "torch_threads": torch.get_num_threads(),
        },
        "exp1": {name: {k: v for k, v in r.items() if k not in ("normalised_amplitude", "steps")}
                 for name, r in records.items()},
        "fresh_runs": fresh,
        "wall_seconds_this_run": time.perf_counter() - started,
    }
    relu, fourier = results["rank_correlation_relu"], results["rank_correlation_fourier"]
    results["acceptance"] = {
        f"rank_correlation_relu >= {ACCEPT_RELU}": relu is not None and relu >= ACCEPT_RELU,
        f"rank_correlation_fourier <= {ACCEPT_FOURIER}": fourier is not None and fourier <= ACCEPT_FOURIER,
    }
    write_json(str(args.out / "results.json"), results)

    panels = []
    for case in CASES:
        for model, title in (("relu", "ReLU MLP, raw t"), ("gauss", "Gaussian features"), ("pe", "positional enc.")):
            record = records[f"{model}_{case}"]
            panels.append(Heatmap(f"{title}, {CASE_LABELS[case]} (index {_fmt(record['spectral_bias_index'])})",
                                  np.asarray(record["normalised_amplitude"]), record["frequencies"], record["steps"]))
    save_heatmaps(str(args.out / "heatmaps.png"), panels, r"$|\hat f_\theta(k)|\,/\,A_k$ (clipped to [0, 1])",
                  columns=3, title=f"Rahaman et al. 2019 exp. 1, budget {args.budget}")
    save_heatmaps(str(args.out / "perturbation.png"),
                  [Heatmap(f"trained ReLU MLP, {perturbation['directions']} directions",
                           np.asarray(perturbation["normalised_amplitude"]), perturbation["frequencies"],
                           perturbation["deltas"], ylabel="parameter perturbation δ")],
                  r"$|\hat f_{\theta+\delta u}(k)|\,/\,|\hat f_\theta(k)|$ (clipped to [0, 1])",
                  title="exp. 2: parameter perturbation")
    save_heatmaps(str(args.out / "manifold.png"),
                  [Heatmap(f"{manifold.steps} steps", learnability.numpy(), manifold.ks, manifold.ls,
                           xlabel="frequency k along the curve", ylabel="L (petals)")],
                  "learnability 1 - MSE / 0.5", title="sin(kφ) on γ_L(φ)")
    phi = torch.linspace(0, 2 * math.pi, 400, dtype=torch.float64)[:-1]
    save_flower_curves(str(args.out / "manifolds.png"),
                       {f"L = {L}": flower_curve(phi, L).numpy() for L in manifold.ls}, "γ_L(φ)")

    print(f"\n{PAPER}\nbudget {args.budget}, seed {args.seed}; {fresh} exp.-1 runs trained, "
          f"{len(runs) - fresh} reused; {results['wall_seconds_this_run']:.0f} s")
    print(comparison_table(results))
    for name, ok in results["acceptance"].items():
        print(f"{name}: {'yes' if ok else 'NO'}")
    print(f"wrote {args.out / 'results.json'}, heatmaps.png, perturbation.png, manifold.png, manifolds.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
