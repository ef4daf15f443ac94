"""Fridovich-Keil, Gontijo-Lopes, Roelofs 2022, "Spectral Bias in Practice: The Role of Function
Frequency in Generalization" (NeurIPS 2022; arXiv 2110.02424), on scikit-learn's digits.

Claim (abstract and intervention experiments): interventions that improve test accuracy —
longer training, larger models, more training examples, data augmentation, self-distillation —
raise the function frequency *between* classes and lower it *within* a class (near each
class's examples). Self-distillation is not run here.

Function frequency, two recipes measured on the same trained models:

* **authors'** (:mod:`coordnet.spectral.path_fraction`; the authors' ``pixel_interpolation.py``):
  ``per_group`` test-set pairs per class (within) and per class pair (between), paths sampled
  at a fixed step ``step`` (δ = 1) in standardised input units, per-class softmax
  probabilities, ``|rfft|`` with no mean removal and no window averaged over classes, score =
  fraction of magnitude above the lowest 10% of the bins, mean over paths;
* **coordnet's** (:mod:`coordnet.spectral.classifiers`): ``pairs`` random training-set pairs of
  each kind, ``samples`` points per path, ``‖p(t) − p(0)‖`` with mean removal and a Hann
  window, spectral centroid of the mean power spectrum (cycles per path).

Interventions (reference → intervention; same split, pairs and initialisation seed per seed):
training time (``short_epochs`` → ``epochs``, one run), model size (hidden width
``small_width`` → ``width``), training examples (the first ``few_fraction`` of the training set
→ all of it), augmentation (none → random shifts of up to ``shift`` pixels), weight decay
(0 → ``weight_decay``, decoupled; an extra, not in the paper's list). For every intervention and
measure the per-seed difference (intervention − reference), its mean over seeds and a t-based
``confidence`` interval; verdict by :func:`verdict_from_interval` (accuracy and between-class
expected to rise, within-class to fall). Label noise (not a paper number): the fraction β of a
planar / radial noise pattern of frequency ``f`` that an MSE-trained MLP fits should fall with
``f``; the difference β(lowest f) − β(highest f) with its interval.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
from torch import nn

from coordnet.experiments.budget import Budget
from coordnet.experiments.cache import RunCache
from coordnet.experiments.claims import Claim, mean_interval, verdict_from_interval
from coordnet.experiments.digits import accuracy, load_digits, mlp, train
from coordnet.experiments.reproduce import RunOptions
from coordnet.experiments.results import write_results
from coordnet.plots.classifiers import plot_centroid_panels, plot_noise_fitting
from coordnet.spectral.classifiers import KINDS, path_spectra, sample_pairs, summarize
from coordnet.spectral.label_noise import PATTERNS, fitted_fraction, noise_pattern
from coordnet.spectral.path_fraction import balanced_pairs, path_fractions

TITLE = "Fridovich-Keil et al. 2022, Spectral Bias in Practice (NeurIPS, arXiv 2110.02424)"
CACHE_VERSION = 3  # raised whenever the stored per-seed result changes
SOURCES = {
    "claim": "arXiv 2110.02424, abstract and intervention experiments",
    "authors": "authors' code: pixel_interpolation.py (InterpData.process_path)",
    "coordnet": "coordnet.spectral.classifiers (windowed centroid; not the authors' recipe)",
    "noise": "spectral-bias expectation (not a paper number)",
}
PAPER = {
    "test accuracy": "rises (accuracy-improving interventions)",
    "between": "rises",
    "within": "falls",
    "label noise": "low-frequency noise fitted more than high-frequency noise",
}
DATA_DIFFERENCES = [
    "data: scikit-learn digits 8x8 (1200 train / 597 test) vs CIFAR-10 and ImageNet",
    "models: ReLU MLPs (2 hidden layers) vs convolutional networks",
    "augmentation: shifts of up to 1 pixel vs the paper's image augmentations",
    "self-distillation: not run",
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
    "between, authors'": (("authors", "between"), 1, "authors"),
    "within, authors'": (("authors", "within"), -1, "authors"),
    "between, coordnet": (("coordnet", "between"), 1, "coordnet"),
    "within, coordnet": (("coordnet", "within"), -1, "coordnet"),
}


@dataclasses.dataclass(frozen=True)
class FridovichBudget(Budget):
    seeds: int = 5
    epochs: int = 20
    short_epochs: int = 2
    width: int = 128
    small_width: int = 16
    examples: Optional[int] = None  # all 1797 digits (1200 train / 597 test)
    few_fraction: float = 0.25
    shift: int = 1
    weight_decay: float = 0.05
    lr: float = 1e-3
    batch: int = 64
    step: float = 1.0  # authors: δ = 1 in normalised units
    low_fraction: float = 0.1  # authors: 10% of the bins
    per_group: int = 20  # authors: m = 200 paths per class and per class pair
    pairs: int = 100
    samples: int = 64
    noise_amplitude: float = 0.5
    noise_frequencies: Tuple[float, ...] = (0.25, 4.0)
    confidence: float = 0.95


BUDGETS = {
    "cpu": FridovichBudget(seeds=10, per_group=200),
    "paper": FridovichBudget(
        seeds=10,
        epochs=100,
        short_epochs=10,
        per_group=200,
        pairs=500,
        samples=128,
        noise_frequencies=(0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0),
    ),
}


def check(budget: FridovichBudget) -> None:
    """``ValueError`` naming the first setting out of range."""
    if budget.seeds < 2:
        raise ValueError(f"seeds must be at least 2 for confidence intervals, got {budget.seeds}")
    if not 1 <= budget.short_epochs < budget.epochs:
        raise ValueError(
            f"short_epochs must lie in [1, epochs={budget.epochs}), got {budget.short_epochs}"
        )
    if budget.samples < 2 or budget.pairs < 1 or budget.per_group < 1:
        raise ValueError(
            f"samples must be >= 2 and pairs, per_group >= 1; got samples={budget.samples}, "
            f"pairs={budget.pairs}, per_group={budget.per_group}"
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


def run_seed(seed: int, budget: FridovichBudget) -> dict:
    """Every model of one seed measured: ``{"rows": {name: row}, "label_noise": {pattern: [β per f]}}``."""
    data = load_digits(seed, budget.examples)
    x, y = data.x_train, data.y_train
    test_pairs = {
        k: balanced_pairs(data.x_test, data.y_test, budget.per_group, k, seed=seed * 10 + i)
        for i, k in enumerate(KINDS)
    }
    train_pairs = {
        k: sample_pairs(x, y, budget.pairs, k, seed=seed * 10 + i) for i, k in enumerate(KINDS)
    }
    options = dict(lr=budget.lr, batch=budget.batch, fill=data.background)

    def row(model: nn.Module) -> dict:
        authors = {
            k: path_fractions(model, data.x_test, p, k, budget.step, budget.low_fraction).mean
            for k, p in test_pairs.items()
        }
        coordnet = {
            k: summarize(
                path_spectra(model, x, p, k, samples=budget.samples, window="hann")
            ).centroid
            for k, p in train_pairs.items()
        }
        return {
            "test_accuracy": accuracy(model, data.x_test, data.y_test),
            "authors": authors,
            "coordnet": coordnet,
        }

    rows: Dict[str, dict] = {}
    reference = mlp(budget.width, seed)
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
    rows["small"] = row(train(mlp(budget.small_width, seed), x, y, budget.epochs, seed, **options))
    few = max(20, int(budget.few_fraction * len(y)))
    rows["few"] = row(
        train(mlp(budget.width, seed), x[:few], y[:few], budget.epochs, seed, **options)
    )
    rows["shifts"] = row(
        train(mlp(budget.width, seed), x, y, budget.epochs, seed, shift=budget.shift, **options)
    )
    rows["decay"] = row(
        train(
            mlp(budget.width, seed),
            x,
            y,
            budget.epochs,
            seed,
            weight_decay=budget.weight_decay,
            **options,
        )
    )

    onehot = nn.functional.one_hot(y, 10).float()
    clean_model = train(
        mlp(budget.width, seed), x, onehot, budget.epochs, seed, loss="mse", **options
    )
    with torch.no_grad():
        clean = clean_model(x)
    noise_fits = {}
    for pattern in PATTERNS:
        betas = []
        for f in budget.noise_frequencies:
            noise = noise_pattern(
                x, f, pattern, num_classes=10, amplitude=budget.noise_amplitude, seed=seed
            )
            model = train(
                mlp(budget.width, seed),
                x,
                noise.targets(y, 10),
                budget.epochs,
                seed,
                loss="mse",
                **options,
            )
            with torch.no_grad():
                betas.append(fitted_fraction(model(x), noise, clean))
        noise_fits[pattern] = betas
    return {"rows": rows, "label_noise": noise_fits}


interval = mean_interval  # the mean and t-interval of per-seed differences


def _get(row: dict, path: Tuple[str, ...]) -> float:
    for key in path:
        row = row[key]
    return float(row)


def compare(runs: List[dict], confidence: float) -> Dict[str, Dict[str, dict]]:
    """Per intervention and measure: per-seed differences, mean, interval and verdict."""
    table: Dict[str, Dict[str, dict]] = {}
    for name, (ref, new) in INTERVENTIONS.items():
        table[name] = {}
        for measure, (path, sign, _) in MEASURES.items():
            diffs = [_get(r["rows"][new], path) - _get(r["rows"][ref], path) for r in runs]
            mean, low, high = interval(diffs, confidence)
            table[name][measure] = {
                "reference": float(np.mean([_get(r["rows"][ref], path) for r in runs])),
                "intervention": float(np.mean([_get(r["rows"][new], path) for r in runs])),
                "difference": mean,
                "low": low,
                "high": high,
                "per_seed": diffs,
                "verdict": verdict_from_interval(low, high, sign),
            }
    return table


def claims(table: dict, noise: dict, differs: List[str]) -> List[Claim]:
    out = []
    for name, measures in table.items():
        for measure, m in measures.items():
            path, sign, source = MEASURES[measure]
            paper = (
                PAPER["test accuracy"]
                if measure == "test accuracy"
                else PAPER[measure.split(",")[0]]
            )
            out.append(
                Claim(
                    f"{name}: {measure}",
                    SOURCES[source],
                    paper,
                    f"{m['difference']:+.4f} [{m['low']:+.4f}, {m['high']:+.4f}]",
                    m["verdict"],
                    differs,
                )
            )
    for pattern, n in noise.items():
        out.append(
            Claim(
                f"label noise ({pattern}): β(lowest f) − β(highest f)",
                SOURCES["noise"],
                PAPER["label noise"],
                f"{n['difference']:+.4f} [{n['low']:+.4f}, {n['high']:+.4f}]",
                n["verdict"],
                differs,
            )
        )
    return out


def run(name: str, budget: FridovichBudget, options: RunOptions) -> int:
    check(budget)
    out = Path(options.out)
    print(f"{TITLE}\non digits, budget {name}: {budget.as_dict()}", flush=True)
    cache, settings = (
        RunCache(out),
        {**budget.as_dict(), "seeds": None, "cache_version": CACHE_VERSION},
    )
    runs = []
    for seed in range(budget.seeds):
        runs.append(
            cache.load_or_run(f"seed-{seed}", settings, lambda seed=seed: run_seed(seed, budget))
        )
        print(
            f"  seed {seed}: reference test accuracy {runs[-1]['rows']['reference']['test_accuracy']:.4f}",
            flush=True,
        )
    table = compare(runs, budget.confidence)
    noise = {}
    for pattern in PATTERNS:
        betas = np.asarray([r["label_noise"][pattern] for r in runs])
        mean, low, high = interval(betas[:, 0] - betas[:, -1], budget.confidence)
        noise[pattern] = {
            "frequencies": list(budget.noise_frequencies),
            "beta_mean": betas.mean(0).tolist(),
            "difference": mean,
            "low": low,
            "high": high,
            "verdict": verdict_from_interval(low, high, 1),
        }
    differs = budget.differences(BUDGETS["paper"]) + DATA_DIFFERENCES
    rows = {
        r: {
            m: float(np.mean([_get(run_["rows"][r], p) for run_ in runs]))
            for m, (p, _, _) in MEASURES.items()
        }
        for r in runs[0]["rows"]
    }
    write_results(
        out,
        experiment="fridovich2022",
        budget_name=name,
        budget=budget,
        paper_budget=BUDGETS["paper"],
        claims=claims(table, noise, differs),
        tables={"interventions": table, "row_means": rows},
        extra={"label_noise": noise, "data_differences": DATA_DIFFERENCES, "sources": SOURCES},
    )
    panels = [
        {
            "title": n,
            "labels": list(INTERVENTIONS[n]),
            "ylabel": "high-frequency fraction (authors')",
            "between": [rows[r]["between, authors'"] for r in INTERVENTIONS[n]],
            "within": [rows[r]["within, authors'"] for r in INTERVENTIONS[n]],
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
    print(report(table, noise))
    return 0


def report(table: dict, noise: dict) -> str:
    """One line per intervention and measure: difference, interval, verdict."""
    lines = [
        f"{'intervention':<18}{'measure':<20}{'reference':>10}{'new':>10}{'difference [95% CI]':>34}  verdict"
    ]
    for name, measures in table.items():
        for measure, m in measures.items():
            lines.append(
                f"{name:<18}{measure:<20}{m['reference']:>10.4f}{m['intervention']:>10.4f}"
                f"{m['difference']:>+12.4f} [{m['low']:+.4f}, {m['high']:+.4f}]  {m['verdict']}"
            )
    for pattern, n in noise.items():
        lines.append(
            f"label noise {pattern}: β {', '.join(f'{b:.3f}' for b in n['beta_mean'])} at f = "
            f"{', '.join(f'{f:g}' for f in n['frequencies'])}; lowest − highest {n['difference']:+.4f} "
            f"[{n['low']:+.4f}, {n['high']:+.4f}] {n['verdict']}"
        )
    return "\n".join(lines)
