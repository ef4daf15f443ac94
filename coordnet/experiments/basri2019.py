"""Basri/Ronen et al. 2019, "The Convergence Rate of Neural Networks for Learned Functions of
Different Frequencies" (NeurIPS; arXiv 1906.00425): time to learn ``sin kθ`` against ``k``.

Claims: a two-layer ReLU net whose first layer is trained by gradient descent learns ``sin kθ``
on the circle in a time ∝ ``1/λ_k`` ∝ ``k²`` with bias, ``k^d`` on S^(d−1) (``k³`` on S²);
without bias it cannot learn odd ``k ≥ 3``; deep nets behave similarly.

Every run follows the authors' code (``ykasten/Convergence-Rate-NN-Different-Frequencies``),
ported in :mod:`coordnet.spectral.basri_protocol`: ``Shallow/WithBias_1D`` (``m = 4000``,
``n = 1001`` random points, ``W ~ N(0, 2.5²)``, GD ``η = 0.01`` on ``½ Σ (f − y)²`` with a
unit-norm target, stop at loss 0.05, 30 runs), ``NoBias_1D`` (``σ = 1``, cap 1800, 30 runs),
``WithBias_2D`` (S²: ``m = 16000``, ``n = 1001``, ``σ = 1``, cap 100000, 20 runs) and
``Deep/deep5_1D/config.py`` (5 hidden layers of 256, full-batch SGD 0.05 on the MSE, stop at
5%, 20 runs). Exponent = least-squares slope of ``log(mean time over runs)`` against ``log k``
over ``k = 8…30`` (``readAndPlot.m``); its interval is a bootstrap over runs.

The authors' shallow step is ``η·λ_max ≈ 3.5`` of the NTK at initialisation (stable only below
2): the loss first grows by orders of magnitude, then recovers. The same protocol is also run
with coordnet's stable step ``η = 1/λ_max`` (``stable_*``) to show what that does to the exponent.

Smaller budgets scale sizes only: fewer runs, points, units and frequencies; with fewer points
the step is scaled by ``1001 / points`` so that ``η·λ_max`` (∝ ``η n``) stays the authors'.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from pathlib import Path
from typing import Any, Optional

import numpy as np

from coordnet.experiments.budget import Budget
from coordnet.experiments.cache import RunCache
from coordnet.experiments.claims import Claim, verdict_within
from coordnet.experiments.reproduce import RunOptions
from coordnet.experiments.results import write_results
from coordnet.spectral.basri_protocol import RunsToLearn, authors_deep, authors_shallow
from coordnet.spectral.ntk_circle import circle_ntk_eigenvalues, sphere_ntk_eigenvalues

TITLE = "Basri/Ronen et al. 2019, The Convergence Rate of Neural Networks for Learned Functions of Different Frequencies"
PAPER = {"exponent_circle": 2.0, "exponent_sphere": 3.0, "exponent_deep": 2.0}
TOLERANCE = 0.5  # |exponent − paper| within this counts as a match
BOOTSTRAP = 2000
AUTHORS_POINTS = 1001


def _k(first: int, last: int) -> tuple[int, ...]:
    return tuple(range(first, last + 1))


@dataclasses.dataclass(frozen=True)
class BasriBudget(Budget):
    seed: int = 0
    threshold: float = 0.1
    fit_k_min: int = 8
    fit_k_max: int = 30
    frequencies: tuple[int, ...] = _k(1, 30)
    runs: int = 30
    points: int = 1001
    width: int = 4000
    init_scale: float = 2.5
    lr: float = 0.01
    max_iterations: int = 50000
    stable_lr_factor: float = 1.0
    no_bias_frequencies: tuple[int, ...] = _k(1, 30)
    no_bias_init_scale: float = 1.0
    no_bias_max_iterations: int = 1800
    sphere_frequencies: tuple[int, ...] = _k(1, 30)
    sphere_fit_k_min: int = 8
    sphere_fit_k_max: int = 30
    sphere_runs: int = 20
    sphere_points: int = 1001
    sphere_width: int = 16000
    sphere_init_scale: float = 1.0
    sphere_lr: float = 0.01
    sphere_max_iterations: int = 100000
    deep_frequencies: tuple[int, ...] = _k(1, 30)
    deep_fit_k_min: int = 8
    deep_fit_k_max: int = 30
    deep_runs: int = 20
    deep_points: int = 1001
    deep_width: int = 256
    deep_depth: int = 5
    deep_lr: float = 0.05
    deep_threshold: float = 0.05
    deep_max_iterations: int = 100000


PAPER_BUDGET = BasriBudget()
BUDGETS = {
    "cpu": BasriBudget(
        fit_k_max=14,
        frequencies=_k(8, 14),
        runs=3,
        points=251,
        width=512,
        lr=0.04,
        max_iterations=8000,
        no_bias_frequencies=_k(1, 8),
        sphere_frequencies=_k(2, 6),
        sphere_fit_k_min=2,
        sphere_fit_k_max=6,
        sphere_runs=3,
        sphere_points=101,
        sphere_width=256,
        sphere_lr=0.1,
        sphere_max_iterations=10000,
        deep_frequencies=_k(1, 4),
        deep_fit_k_min=1,
        deep_fit_k_max=4,
        deep_runs=3,
        deep_points=101,
        deep_width=32,
        deep_max_iterations=3000,
    ),
    "paper": PAPER_BUDGET,
    # seconds-long settings for tests (not a reproduction)
    "smoke": BasriBudget(
        fit_k_min=2,
        fit_k_max=4,
        frequencies=_k(2, 4),
        runs=2,
        points=64,
        width=64,
        lr=0.15,
        max_iterations=600,
        no_bias_frequencies=_k(1, 4),
        no_bias_max_iterations=300,
        sphere_frequencies=_k(1, 3),
        sphere_fit_k_min=1,
        sphere_fit_k_max=3,
        sphere_runs=2,
        sphere_points=64,
        sphere_width=64,
        sphere_lr=0.15,
        sphere_max_iterations=600,
        deep_frequencies=_k(1, 3),
        deep_fit_k_min=1,
        deep_fit_k_max=3,
        deep_runs=2,
        deep_points=32,
        deep_width=8,
        deep_depth=2,
        deep_max_iterations=300,
    ),
}


def experiments(b: BasriBudget) -> dict[str, dict[str, Any]]:
    """Name -> keyword arguments (plus ``kind``) of every set of runs."""
    shallow = dict(
        kind="shallow",
        runs=b.runs,
        points=b.points,
        width=b.width,
        init_scale=b.init_scale,
        threshold=b.threshold,
        max_iterations=b.max_iterations,
        seed=b.seed,
    )
    sphere = dict(
        kind="shallow",
        domain="sphere",
        frequencies=b.sphere_frequencies,
        runs=b.sphere_runs,
        points=b.sphere_points,
        width=b.sphere_width,
        init_scale=b.sphere_init_scale,
        learning_rate=b.sphere_lr,
        threshold=b.threshold,
        max_iterations=b.sphere_max_iterations,
        seed=b.seed,
    )
    return {
        "shallow_bias": {**shallow, "frequencies": b.frequencies, "learning_rate": b.lr},
        "stable_shallow_bias": {
            **shallow,
            "frequencies": b.frequencies,
            "learning_rate": None,
            "lr_factor": b.stable_lr_factor,
        },
        "shallow_no_bias": {
            **shallow,
            "frequencies": b.no_bias_frequencies,
            "bias": False,
            "init_scale": b.no_bias_init_scale,
            "learning_rate": b.lr,
            "max_iterations": b.no_bias_max_iterations,
        },
        "sphere_bias": sphere,
        "deep": dict(
            kind="deep",
            frequencies=b.deep_frequencies,
            runs=b.deep_runs,
            points=b.deep_points,
            width=b.deep_width,
            depth=b.deep_depth,
            learning_rate=b.deep_lr,
            threshold=b.deep_threshold,
            max_iterations=b.deep_max_iterations,
            seed=b.seed,
        ),
    }


def run_experiment(spec: dict[str, Any]) -> dict:
    """One set of runs -> its JSON record."""
    args = {key: value for key, value in spec.items() if key != "kind"}
    args["frequencies"] = list(args["frequencies"])
    runs = authors_shallow(**args) if spec["kind"] == "shallow" else authors_deep(**args)
    return runs.to_dict()


def _slopes(k: np.ndarray, means: np.ndarray) -> np.ndarray:
    """Least-squares slopes of ``log means (B, J)`` against ``log k (J,)``: ``(B,)``."""
    x = np.log(k) - np.log(k).mean()
    y = np.log(means)
    return ((y - y.mean(1, keepdims=True)) * x).sum(1) / (x * x).sum()


def exponent(
    runs: RunsToLearn, k_min: int, k_max: int, *, seed: int = 0
) -> tuple[Optional[float], list[float]]:
    """Slope of ``log(mean time over runs)`` vs ``log k`` for ``k_min ≤ k ≤ k_max`` (the
    authors' fit) and its 95% bootstrap interval over runs (``[]`` with fewer than 2 ``k``)."""
    k = runs.frequencies.numpy()
    keep = (k >= k_min) & (k <= k_max)
    if keep.sum() < 2:
        return None, []
    times = runs.iterations.double().numpy()[keep]  # (J, R)
    point = float(_slopes(k[keep], times.mean(1)[None])[0])
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, times.shape[1], size=(BOOTSTRAP, times.shape[1]))
    slopes = _slopes(k[keep], times[:, pick].mean(2).T)
    return point, [float(np.quantile(slopes, 0.025)), float(np.quantile(slopes, 0.975))]


def odd_unlearned(runs: RunsToLearn) -> tuple[bool, dict[str, float]]:
    """No run of an odd ``k ≥ 3`` learned, while runs of even ``k`` were."""
    k = runs.frequencies
    odd, even = (k % 2 == 1) & (k >= 3), k % 2 == 0
    fractions = {
        "odd_k_ge_3_learned": float(runs.learned[odd].double().mean()),
        "even_k_learned": float(runs.learned[even].double().mean()),
    }
    holds = bool(odd.any() and even.any()) and fractions["odd_k_ge_3_learned"] == 0.0
    return holds and fractions["even_k_learned"] > 0, fractions


def _differs(b: BasriBudget, prefix: str) -> list[str]:
    """The lines of ``b.differences(PAPER_BUDGET)`` of one group of settings."""
    groups = {"sphere": "sphere_", "deep": "deep_", "no_bias": "no_bias_"}
    lines = b.differences(PAPER_BUDGET)
    if prefix in groups:
        return [
            line
            for line in lines
            if line.startswith(groups[prefix]) or line.startswith("threshold")
        ]
    return [line for line in lines if not line.startswith(tuple(groups.values()))]


def _exponent_claim(
    name: str,
    source: str,
    paper: float,
    runs: RunsToLearn,
    fit: tuple[int, int],
    differs: list[str],
    note: str,
) -> Claim:
    value, interval = exponent(runs, *fit)
    count = runs.iterations.shape[1]
    ours = {"exponent": value, "interval_95": interval, "runs_per_k": count}
    verdict = verdict_within(math.nan if value is None else value, paper, TOLERANCE)
    text = f"k = {fit[0]}…{fit[1]}, mean of {count} runs per k, bootstrap interval over runs; "
    return Claim(
        name,
        source,
        paper,
        ours,
        verdict,
        differs,
        note=text + note,
        n=count,
        interval=(interval[0], interval[1]) if interval else None,
    )


def claims(runs: dict[str, RunsToLearn], b: BasriBudget) -> list[Claim]:
    fit = (b.fit_k_min, b.fit_k_max)
    shallow, stable = runs["shallow_bias"], runs["stable_shallow_bias"]
    eta = float(shallow.eta_lambda_max.mean())
    peak = float(shallow.peak_loss.median())
    start = float(shallow.initial_loss.median())
    odd, fractions = odd_unlearned(runs["shallow_no_bias"])
    return [
        _exponent_claim(
            "exponent_circle",
            "Sec. 4, Fig. 2; Shallow/WithBias_1D",
            PAPER["exponent_circle"],
            shallow,
            fit,
            _differs(b, "shallow"),
            f"the authors' step: η·λ_max = {eta:.2f}; median relative loss {start:.3g} at "
            f"initialisation, peak {peak:.3g}",
        ),
        _exponent_claim(
            "exponent_circle_stable_step",
            "coordnet's stable step η = 1/λ_max (not the authors')",
            PAPER["exponent_circle"],
            stable,
            fit,
            _differs(b, "shallow"),
            f"η·λ_max = {float(stable.eta_lambda_max.mean()):.2f}; median relative loss "
            f"{float(stable.initial_loss.median()):.3g} at initialisation, peak "
            f"{float(stable.peak_loss.median()):.3g}",
        ),
        Claim(
            "odd_unlearned_without_bias",
            "Sec. 3 (λ_k = 0 for odd k ≥ 3); Shallow/NoBias_1D",
            True,
            {**fractions, "runs_per_k": runs["shallow_no_bias"].iterations.shape[1]},
            "holds" if odd else "reverses",
            _differs(b, "no_bias"),
            note=f"fraction of runs learned within {runs['shallow_no_bias'].cap} iterations",
        ),
        _exponent_claim(
            "exponent_sphere",
            "Sec. 4 (k^d on S^(d−1)); Shallow/WithBias_2D",
            PAPER["exponent_sphere"],
            runs["sphere_bias"],
            (b.sphere_fit_k_min, b.sphere_fit_k_max),
            _differs(b, "sphere"),
            "zonal harmonics P_k",
        ),
        _exponent_claim(
            "exponent_deep",
            "Sec. 5; Deep/deep5_1D/config.py",
            PAPER["exponent_deep"],
            runs["deep"],
            (b.deep_fit_k_min, b.deep_fit_k_max),
            _differs(b, "deep"),
            "random phase per run",
        ),
    ]


def _tables(runs: dict[str, RunsToLearn], b: BasriBudget) -> dict[str, Any]:
    eigenvalues = {
        "S¹, no bias": circle_ntk_eigenvalues(30, False),
        "S¹, bias": circle_ntk_eigenvalues(30, True),
        "S², no bias": sphere_ntk_eigenvalues(30, False),
        "S², bias": sphere_ntk_eigenvalues(30, True),
    }
    return {
        "mean_time_to_learn": {
            key: {
                "k": r.frequencies.tolist(),
                "mean": r.mean().tolist(),
                "cap": r.cap,
                "learned_fraction": r.learned.double().mean(1).tolist(),
            }
            for key, r in runs.items()
        },
        "eta_lambda_max": {key: r.eta_lambda_max.tolist() for key, r in runs.items()},
        "relative_loss_initial_and_peak": {
            key: {"initial": r.initial_loss.tolist(), "peak": r.peak_loss.tolist()}
            for key, r in runs.items()
            if key != "deep"
        },
        "closed_form_eigenvalues": {label: v.tolist() for label, v in eigenvalues.items()},
    }


def run(name: str, b: BasriBudget, options: RunOptions) -> int:
    """Run budget ``name``; reads ``options.out`` and ``figures``."""
    out = Path(options.out)
    cache = RunCache(out)
    print(f"{TITLE}\nbudget {name}: {b}", flush=True)
    runs = {}
    for key, spec in experiments(b).items():
        record = cache.load_or_run(key, spec, functools.partial(run_experiment, spec))
        runs[key] = RunsToLearn.from_dict(record)
        print(f"  {key}: mean time {[round(v) for v in runs[key].mean().tolist()]}", flush=True)
    found = claims(runs, b)
    extra = {
        "time": "updates until ½Σ(f−y)² < 0.05 (unit-norm y; deep: MSE < 5% of mean y²); the cap if never",
        "step_scaling": f"lr and sphere_lr × {AUTHORS_POINTS}/points keep η·λ_max at the authors' value",
    }
    path = write_results(
        out,
        experiment="basri2019",
        budget_name=name,
        budget=b,
        paper_budget=PAPER_BUDGET,
        claims=found,
        tables=_tables(runs, b),
        extra=extra,
    )
    if options.figures:
        _figure(out, runs, b)
    for claim in found:
        print(
            f"{claim.name}: paper {claim.paper}; ours {claim.ours} ({claim.note}) -> {claim.verdict}"
        )
    print(f"wrote {path}")
    return 0


def _figure(out: Path, runs: dict[str, RunsToLearn], b: BasriBudget) -> None:
    from coordnet.plots import figure

    fig, ax = figure.subplots(figsize=(6.5, 4))
    for key, r in runs.items():
        ax.loglog(r.frequencies.numpy(), r.mean().numpy(), "o-", markersize=3, label=key)
    ax.set_xlabel("k")
    ax.set_ylabel("mean iterations to learn")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    figure.save_figure(fig, str(out / "time_to_learn.png"))
