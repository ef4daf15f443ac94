"""Rahaman et al. 2019, "On the Spectral Bias of Neural Networks" (ICML; arXiv 1806.08734).

* Exp. 1 (Sec. 3, Fig. 1): a ReLU MLP fitted to ``Σ_i A_i sin(2π k_i t + 2π φ_i)`` on 200 points
  of ``[0, 1)``, ``k = 5, 10, ..., 50``, learns low frequencies first, with ``A_i = 1`` and with
  ``A_i = 0.1 i``. ``k_i`` counts as learned at the first record where ``|f̂(k_i)| / A_i >= 0.9``;
  the summary is Spearman's correlation of that step with ``k`` (1: strictly low to high).
* The same targets behind Gaussian Fourier features and NeRF's positional encoding (the
  contrast of Tancik et al. 2020): the order should disappear (correlation near 0).
* Exp. 2 (Sec. 3, Fig. 3): the trained parameters moved along random unit-norm directions by
  ``δ``: high frequencies lose amplitude first (Spearman of ``k`` with the ``δ`` that halves it < 0).
* Sec. 4 (Fig. 5): ``sin kφ`` along ``γ_L(φ) = (1 + 0.5 sin Lφ)(cos φ, sin φ)``: the curvier the
  manifold (larger ``L``), the easier the high frequencies (Spearman of ``L`` with learnability > 0).

Depth: the paper's wording ("6 layers, 256 units") is ambiguous. We use the common reading, six
linear layers, i.e. **5 hidden layers** of 256 (coordnet's ``depth`` counts hidden layers).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np
import torch

from coordnet.experiments.budget import Budget
from coordnet.experiments.cache import RunCache
from coordnet.experiments.claims import (
    Claim,
    direction_claim,
    mean_interval,
    verdict_from_sign,
)
from coordnet.experiments.reproduce import RunOptions
from coordnet.experiments.results import write_results
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

TITLE = "Rahaman et al. 2019, On the Spectral Bias of Neural Networks (ICML, arXiv 1806.08734)"
PAPER = {
    "exp1_equal": ("Sec. 3, Fig. 1 (A_i = 1)", "learned from low to high k"),
    "exp1_increasing": (
        "Sec. 3, Fig. 1 (A_i = 0.1 i)",
        "still low to high, though high k are the strongest",
    ),
    "fourier": (
        "Tancik et al. 2020 (Fourier features remove spectral bias)",
        "no order: Spearman near 0",
    ),
    "perturbation": (
        "Sec. 3, exp. 2, Fig. 3",
        "high k are the least robust to parameter perturbation",
    ),
    "manifold": (
        "Sec. 4, Fig. 5",
        "the curvier the manifold (larger L), the easier high k along it",
    ),
}
THRESHOLD = 0.9  # normalised amplitude at which a frequency counts as learned
MARGIN = 0.5  # |Spearman| at or below this is inconclusive
CASES = {"equal": "A_i = 1", "increasing": "A_i = 0.1 i"}
MODELS = {"relu": "ReLU MLP, raw t", "gauss": "Gaussian features", "pe": "positional enc."}


@dataclasses.dataclass(frozen=True)
class RahamanBudget(Budget):
    seed: int = 0
    points: int = 200
    frequencies: tuple[int, ...] = tuple(PAPER_FREQUENCIES)
    width: int = 256
    depth: int = 5  # hidden layers: 6 linear layers in all
    lr: float = 3e-4
    steps: int = 60000
    record_every: int = 100
    fourier_steps: int = 2000
    gauss: str = "gauss:num_frequencies=256,sigma=64"
    pe: str = "pe:num_frequencies=8"
    runs: int = 20
    deltas: tuple[float, ...] = tuple(5 * i / 99 for i in range(100))  # linspace(0, 5, 100)
    perturb_models: int = 5
    directions: int = 100
    manifold_ls: tuple[int, ...] = tuple(range(0, 21, 2))
    manifold_ks: tuple[int, ...] = tuple(range(4, 41, 4))
    manifold_width: int = 256
    manifold_depth: int = 5
    manifold_steps: int = 3000
    manifold_lr: float = 3e-4
    manifold_points: int = 256


PAPER_BUDGET = RahamanBudget()
BUDGETS = {
    "paper": PAPER_BUDGET,
    "cpu": RahamanBudget(
        width=64,
        record_every=50,
        steps=12000,
        fourier_steps=500,
        runs=7,
        deltas=tuple(round(0.25 * i, 2) for i in range(21)),
        perturb_models=2,
        directions=10,
        manifold_ls=(0, 4, 8, 12, 16, 20),
        manifold_ks=(8, 16, 24, 32),
        manifold_width=64,
        manifold_steps=300,
    ),
    # seconds-long settings for tests (not a reproduction)
    "smoke": RahamanBudget(
        points=32,
        frequencies=(1, 3, 7),
        width=16,
        depth=2,
        lr=3e-3,
        steps=60,
        record_every=5,
        fourier_steps=20,
        gauss="gauss:num_frequencies=16,sigma=4",
        pe="pe:num_frequencies=4",
        runs=2,
        deltas=(0.0, 0.5, 1.5),
        perturb_models=2,
        directions=2,
        manifold_ls=(0, 8),
        manifold_ks=(8,),
        manifold_width=16,
        manifold_depth=2,
        manifold_steps=20,
        manifold_lr=3e-3,
        manifold_points=32,
    ),
}


def model_spec(model: str, b: RahamanBudget) -> str:
    net = f"relu:width={b.width},depth={b.depth}"
    return net if model == "relu" else f"{getattr(b, model)}+{net}"


def exp1_run(model: str, case: str, b: RahamanBudget, index: int = 0) -> dict:
    """Run ``index`` of exp. 1 (seed ``b.seed + index``: its own phases and initial weights);
    the first ``perturb_models`` ReLU runs with ``A_i = 1`` also measure exp. 2."""
    seed = b.seed + index
    torch.manual_seed(seed)
    net = build_model(model_spec(model, b), 1, 1)
    target = sinusoid_target(list(b.frequencies), case, seed=seed)
    run = train_spectral_run(
        net,
        target,
        steps=b.steps if model == "relu" else b.fourier_steps,
        lr=b.lr,
        record_every=b.record_every,
        n_points=b.points,
        threshold=THRESHOLD,
        seed=seed,
        label=model_spec(model, b),
    )
    record = {**run.to_dict(), "target": target.to_dict()}
    if perturbs(model, case, index, b):
        coords = unit_grid(b.points).float()[:, None]
        result = perturbation_spectrum(
            run.model,
            coords,
            list(b.frequencies),
            list(b.deltas),
            directions=b.directions,
            seed=seed,
        )
        record["perturbation"] = result.to_dict()
    return record


def perturbs(model: str, case: str, index: int, b: RahamanBudget) -> bool:
    """Whether exp.-1 run ``index`` of ``model``/``case`` is one of exp. 2's models."""
    return model == "relu" and case == "equal" and index < b.perturb_models


def manifold_cell(L: int, k: int, b: RahamanBudget) -> dict:
    spec = f"relu:width={b.manifold_width},depth={b.manifold_depth}"
    result = manifold_experiment(
        [L],
        [k],
        lambda: build_model(spec, 2, 1),
        steps=b.manifold_steps,
        lr=b.manifold_lr,
        n_points=b.manifold_points,
        seed=b.seed,
    )
    return {"amplitude": float(result.amplitude[0, 0]), "loss": float(result.loss[0, 0])}


def _settings(b: RahamanBudget, keys: Sequence[str]) -> dict:
    values = b.as_dict()
    return {key: values[key] for key in keys}


EXP1_KEYS = (
    "seed",
    "runs",
    "points",
    "frequencies",
    "width",
    "depth",
    "lr",
    "steps",
    "record_every",
    "fourier_steps",
)
MANIFOLD_KEYS = (
    "seed",
    "manifold_width",
    "manifold_depth",
    "manifold_steps",
    "manifold_lr",
    "manifold_points",
)


def _differs(b: RahamanBudget, prefixes: Sequence[str]) -> list[str]:
    return [line for line in b.differences(PAPER_BUDGET) if line.split(":")[0] in prefixes]


def _interval(values: Sequence[Optional[float]]) -> dict[str, Any]:
    """Mean and 95% t interval of the finite ``values`` (one per run)."""
    finite = [v for v in values if v is not None and not math.isnan(v)]
    if not finite:
        return {"mean": None, "interval_95": [], "runs": 0, "per_run": list(values)}
    mean, low, high = mean_interval(finite)
    return {
        "mean": round(mean, 4),
        "interval_95": [round(low, 4), round(high, 4)],
        "runs": len(finite),
        "per_run": [None if v is None else round(v, 4) for v in values],
    }


def _no_order(stats: dict[str, Any]) -> str:
    """``within`` (no order) when the interval contains 0, ``outside`` when it excludes 0."""
    if not stats["interval_95"] or any(math.isnan(v) for v in stats["interval_95"]):
        return "inconclusive"
    low, high = stats["interval_95"]
    return "within" if low <= 0.0 <= high else "outside"


def _finite(values: Sequence[Optional[float]]) -> list[float]:
    """The per-run values that exist (a run without any learned frequency has no correlation)."""
    return [v for v in values if v is not None and not math.isnan(v)]


def claims(records: dict, manifold: ManifoldResult, b: RahamanBudget) -> list[Claim]:
    exp1 = _differs(b, EXP1_KEYS)
    found = []
    for case in CASES:
        values = _finite([r["spectral_bias_index"] for r in records[f"relu_{case}"]])
        found.append(
            direction_claim(
                f"exp1_{case}",
                *PAPER[f"exp1_{case}"],
                values,
                +1,
                differs=exp1,
                note=f"Spearman(k, step learned) over {len(values)} random-phase runs",
            )
        )
    for model in ("gauss", "pe"):
        stats = _interval([r["spectral_bias_index"] for r in records[f"{model}_equal"]])
        found.append(
            Claim(
                f"fourier_{model}",
                *PAPER["fourier"],
                ours=stats,
                verdict=_no_order(stats),
                n=stats["runs"],
                interval=tuple(stats["interval_95"]) or None,
                differs=_differs(b, EXP1_KEYS + (model,)),
                note=f"{MODELS[model]}, A_i = 1, {getattr(b, model)}; no order = the interval over "
                f"{stats['runs']} runs contains 0",
            )
        )
    models = [r["perturbation"] for r in records["relu_equal"] if "perturbation" in r]
    found.append(
        direction_claim(
            "perturbation",
            *PAPER["perturbation"],
            _finite([p["rank_correlation"] for p in models]),
            -1,
            differs=_differs(b, EXP1_KEYS + ("deltas", "perturb_models", "directions")),
            note=f"Spearman(k, δ that halves |f̂(k)|), 95% t interval over {len(models)} models × "
            f"{b.directions} directions",
        )
    )
    learn = manifold.learnability().mean(1)
    found.append(
        Claim(
            "manifold",
            *PAPER["manifold"],
            ours=f"Spearman(L, learnability) {_fmt(manifold.rank_correlation())};"
            " mean learnability "
            + ", ".join(f"L={L}: {v:.2f}" for L, v in zip(manifold.ls, learn.tolist())),
            verdict=verdict_from_sign(manifold.rank_correlation(), +1, MARGIN),
            differs=_differs(b, MANIFOLD_KEYS + ("manifold_ls", "manifold_ks")),
        )
    )
    return found


def _fmt(value: Optional[float]) -> str:
    return (
        "-"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else f"{value:+.3f}"
    )


def _cached_exp1(cache: RunCache, model: str, case: str, b: RahamanBudget, index: int) -> dict:
    settings = {**_settings(b, EXP1_KEYS), "spec": model_spec(model, b), "case": case}
    settings["seed"] = b.seed + index
    settings.pop("runs")
    if perturbs(model, case, index, b):
        settings.update(_settings(b, ("deltas", "directions")))
    key = f"{model}_{case}_run{index}"
    return cache.load_or_run(key, settings, lambda: exp1_run(model, case, b, index))


def run(name: str, b: RahamanBudget, options: RunOptions) -> int:
    out: Path = options.out
    cache = RunCache(out)
    print(f"{TITLE}\nbudget {name}: {b}", flush=True)
    records: dict[str, list[dict]] = {}
    for case in CASES:
        for model in MODELS:
            records[f"{model}_{case}"] = [
                _cached_exp1(cache, model, case, b, index) for index in range(b.runs)
            ]
    amplitude = torch.zeros(len(b.manifold_ls), len(b.manifold_ks), dtype=torch.float64)
    loss = torch.zeros_like(amplitude)
    for i, L in enumerate(b.manifold_ls):
        for j, k in enumerate(b.manifold_ks):
            cell = cache.load_or_run(
                f"manifold_L{L}_k{k}",
                {**_settings(b, MANIFOLD_KEYS), "L": L, "k": k},
                functools.partial(manifold_cell, L, k, b),
            )
            amplitude[i, j], loss[i, j] = cell["amplitude"], cell["loss"]
    manifold = ManifoldResult(
        list(b.manifold_ls),
        list(b.manifold_ks),
        amplitude,
        loss,
        b.manifold_steps,
        b.manifold_points,
    )
    found = claims(records, manifold, b)
    keys = ("order", "unlearned", "spectral_bias_index", "final_loss")
    tables: dict[str, Any] = {
        name: [{k: r[k] for k in keys} for r in runs] for name, runs in records.items()
    }
    tables["perturbation"] = [
        {
            k: v
            for k, v in r["perturbation"].items()
            if k in ("half_deltas", "rank_correlation", "parameter_norm")
        }
        for r in records["relu_equal"]
        if "perturbation" in r
    ]
    tables["manifold"] = manifold.to_dict()
    path = write_results(
        out,
        experiment="rahaman2019",
        budget_name=name,
        budget=b,
        paper_budget=PAPER_BUDGET,
        claims=found,
        tables=tables,
        extra={
            "depth_reading": "6 linear layers = 5 hidden layers (depth=5)",
            "learned_at": f"|f̂(k)| / A_k >= {THRESHOLD}",
            "manifold_inconclusive_margin": MARGIN,
            "exp1_runs": "seed + r: new random phases φ_i and new initial weights per run",
        },
    )
    if options.figures:
        draw(out, {key: runs[0] for key, runs in records.items()}, manifold, name)
    for claim in found:
        print(
            f"{claim.name}: paper [{claim.source}] {claim.paper}\n  ours: {claim.ours} -> {claim.verdict}"
        )
    print(f"wrote {path}")
    return 0


def draw(out: Path, records: dict, manifold: ManifoldResult, name: str) -> None:
    panels = [
        Heatmap(
            f"{MODELS[m]}, {CASES[c]} (index {_fmt(records[f'{m}_{c}']['spectral_bias_index'])})",
            np.asarray(records[f"{m}_{c}"]["normalised_amplitude"]),
            records[f"{m}_{c}"]["frequencies"],
            records[f"{m}_{c}"]["steps"],
        )
        for c in CASES
        for m in MODELS
    ]
    save_heatmaps(
        str(out / "heatmaps.png"),
        panels,
        r"$|\hat f_\theta(k)|\,/\,A_k$ (clipped to [0, 1])",
        columns=3,
        title=f"Rahaman et al. 2019 exp. 1, budget {name}",
    )
    p = records["relu_equal"]["perturbation"]
    save_heatmaps(
        str(out / "perturbation.png"),
        [
            Heatmap(
                f"trained ReLU MLP, {p['directions']} directions",
                np.asarray(p["normalised_amplitude"]),
                p["frequencies"],
                p["deltas"],
                ylabel="parameter perturbation δ",
            )
        ],
        r"$|\hat f_{\theta+\delta u}(k)|\,/\,|\hat f_\theta(k)|$ (clipped to [0, 1])",
        title="exp. 2: parameter perturbation",
    )
    save_heatmaps(
        str(out / "manifold.png"),
        [
            Heatmap(
                f"{manifold.steps} steps",
                manifold.learnability().numpy(),
                manifold.ks,
                manifold.ls,
                xlabel="frequency k along the curve",
                ylabel="L (petals)",
            )
        ],
        "learnability 1 - MSE / 0.5",
        title="sin(kφ) on γ_L(φ)",
    )
    phi = torch.linspace(0, 2 * math.pi, 400, dtype=torch.float64)[:-1]
    save_flower_curves(
        str(out / "manifolds.png"),
        {f"L = {L}": flower_curve(phi, L).numpy() for L in manifold.ls},
        "γ_L(φ)",
    )
