"""Reproduce the function-frequency findings of Fridovich-Keil et al. 2022, "Spectral Bias in
Practice: The Role of Function Frequency in Generalization" (arXiv 2110.02424), on data that
ships offline: scikit-learn's handwritten digits (1797 images of 8x8 pixels, 10 classes).

Usage::

    python scripts/reproduce_fridovich2022.py --budget cpu|paper --out DIR

Measure (:mod:`coordnet.spectral.classifiers`): for random pairs of *training* images of
different classes (between-class paths) and of one class (within-class paths), the softmax
output ``p(t)`` along the straight path between them, ``n`` samples at ``t = j/n``; the power
spectrum of ``‖p(t) − p(0)‖`` (mean removed, Hann window; the untapered centroids are reported
beside, see the module docstring of :mod:`coordnet.spectral.classifiers` for why the taper), in
cycles per path; the function-frequency score is the spectral centroid of the mean spectrum; the
high-frequency share is the power above a quarter of the Nyquist frequency. Pairs are the same for every model
of one seed (drawn from the seed), so differences between models are not sampling noise.

Data: pixels / 16 (in [0, 1]), shape (N, 1, 8, 8); a seeded split of 1200 training and 597
test images. Training: Adam (lr 1e-3), batches of 64, cross-entropy, ``epochs`` epochs.

Experiments (each at every seed; we report the mean over seeds):

1. **training time**: the medium MLP, spectra at several epochs (0 = initialisation);
2. **model size**: MLPs ``small`` (64-16-10), ``medium`` (64-128-128-10), ``large``
   (64-512-512-512-10) and a small CNN (two 3x3 conv layers of 16 and 32 channels, 2x2 max-pool,
   64 hidden units);
3. **regularisation**: the medium MLP with and without weight decay (decoupled, AdamW 0.05) and
   data augmentation (Gaussian pixel noise of standard deviation 0.1, fresh each batch), in the
   four combinations. Random shifts of one pixel were tried first and lowered test accuracy
   (0.97 -> 0.92: on 8x8 images a pixel is an eighth of the digit), so :func:`augment` keeps
   shifts as an option (``SHIFT``) but the runs use noise only;
4. **label noise** (:mod:`coordnet.spectral.label_noise`): the medium MLP trained by MSE on
   one-hot targets plus ``0.5 · sin(2π f ⟨x − c, d⟩) · v`` (planar) or ``0.5 · sin(2π f ‖x − c‖) · v``
   (radial), ``x`` the flattened image, ``c`` the mean training image, ``d`` and ``v`` random
   unit vectors; the fitted fraction β of the noise (relative to the same model trained on the
   clean targets) vs ``f``.

The paper's claims checked: (a) interventions that improve test accuracy (more capacity,
regularisation, augmentation) raise the function frequency between classes and lower it
within a class; (b) the frequency evolves over training. The paper measures CIFAR-10 and
ImageNet-scale networks; here the same measurement runs on 8x8 digits with small networks, so
only the directions are comparable, not magnitudes. Experiment 4 checks the expectation of
spectral bias that low-frequency label noise is fitted more than high-frequency noise (β falls
with f); it is not a number from the paper.

Budgets: ``cpu``: 3 seeds, 30 epochs, 100 pairs of each kind, 64 samples per path, label noise
at 6 frequencies: about 3.5 minutes on this 2-core CPU (one thread, cores shared). ``paper``:
5 seeds, 100 epochs, 500 pairs, 128 samples per path, 8 frequencies: about 13 minutes.
"Improves accuracy" means a higher mean test accuracy over the seeds, by any margin (597 test
images: one image is 0.0017).

Outputs in ``OUT``: ``results.json`` (settings, per-seed and mean numbers, the claims beside
what we measured), ``frequency.png`` (centroids per experiment with test accuracy),
``spectra.png`` (mean spectra of the final medium MLP), ``label_noise.png``, and a printout;
``runs/seed-<n>.pt`` keeps each finished seed, so a rerun with the same settings resumes.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from coordnet.atomic import write_atomically, write_json
from coordnet.extras import missing_extra_message
from coordnet.plots.classifiers import plot_centroid_panels, plot_mean_spectra, plot_noise_fitting
from coordnet.spectral.classifiers import path_spectra, sample_pairs, spectra_of_signals, summarize
from coordnet.spectral.label_noise import fitted_fraction, noise_pattern

BUDGETS = {
    "cpu": {"seeds": 3, "epochs": 30, "pairs": 100, "samples": 64, "examples": None,
            "noise_frequencies": [0.5, 1.0, 2.0, 4.0, 8.0, 16.0]},
    "paper": {"seeds": 5, "epochs": 100, "pairs": 500, "samples": 128, "examples": None,
              "noise_frequencies": [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0]},
}
TRAIN_SIZE = 1200
LR = 1e-3
BATCH = 64
WEIGHT_DECAY = 0.05
SHIFT = 0  # one-pixel shifts (zero fill) lowered test accuracy on 8x8 digits (0.97 -> 0.92 at 30 epochs)
PIXEL_NOISE = 0.1
NOISE_AMPLITUDE = 0.5
CACHE_VERSION = 2  # layout of runs/seed-<n>.pt; raised whenever the stored per-seed result changes
SIZES = ("small", "medium", "large", "cnn")
REGULARISERS = {"none": (False, False), "weight decay": (True, False), "augmentation": (False, True),
                "both": (True, True)}
CLAIMS = {
    "interventions": "accuracy-improving interventions raise the function frequency between classes "
                     "and lower it within a class",
    "training": "function frequency evolves over training",
    "label_noise": "(spectral-bias expectation, not a paper number) low-frequency label noise is fitted "
                   "more than high-frequency noise",
}


def digits_arrays():
    """scikit-learn's digits: images ``(1797, 8, 8)`` in 0..16 and labels ``(1797,)``.

    Reads the CSV that ships inside scikit-learn (``sklearn/datasets/data/digits.csv.gz``, what
    ``load_digits`` reads) without importing scikit-learn, whose import takes seconds; falls back
    to ``sklearn.datasets.load_digits`` if the file is not where expected.
    """
    import gzip
    import importlib.util

    spec = importlib.util.find_spec("sklearn")
    if spec is None:
        raise RuntimeError(missing_extra_message("digits", "the digits data"))
    for root in spec.submodule_search_locations or []:
        path = Path(root) / "datasets" / "data" / "digits.csv.gz"
        if path.is_file():
            with gzip.open(path, "rt") as handle:
                data = np.loadtxt(handle, delimiter=",")
            return data[:, :-1].reshape(-1, 8, 8), data[:, -1].astype(np.int64)
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.images, digits.target


def load_digits_data(seed: int = 0, examples: Optional[int] = None) -> Dict[str, Tensor]:
    """Digits as ``(N, 1, 8, 8)`` float32 in [0, 1] with int64 labels, split by ``seed``.

    ``examples``: use only the first ``examples`` images of the shuffled set (70 % train).
    """
    images, target = digits_arrays()
    x = torch.tensor(images, dtype=torch.float32)[:, None] / 16.0
    y = torch.tensor(target, dtype=torch.long)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
    if examples is not None:
        order = order[:examples]
    train = TRAIN_SIZE if examples is None else int(0.7 * examples)
    return {"x_train": x[order[:train]], "y_train": y[order[:train]],
            "x_test": x[order[train:]], "y_test": y[order[train:]]}


def build_model(name: str, seed: int, classes: int = 10) -> nn.Module:
    """One of :data:`SIZES`, initialised from ``seed``; input ``(B, 1, 8, 8)``, logits ``(B, classes)``."""
    torch.manual_seed(seed)
    if name == "cnn":
        return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32 * 16, 64), nn.ReLU(), nn.Linear(64, classes))
    hidden = {"small": [16], "medium": [128, 128], "large": [512, 512, 512]}.get(name)
    if hidden is None:
        raise ValueError(f"model must be one of {', '.join(SIZES)}, got {name!r}")
    layers: List[nn.Module] = [nn.Flatten()]
    width = 64
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    layers.append(nn.Linear(width, classes))
    return nn.Sequential(*layers)


def augment(x: Tensor, generator: torch.Generator) -> Tensor:
    """Random shifts of up to :data:`SHIFT` pixels per axis (zero fill) plus Gaussian pixel noise
    of standard deviation :data:`PIXEL_NOISE`: ``(B, 1, H, W)`` -> same shape."""
    b, _, h, w = x.shape
    padded = nn.functional.pad(x, (SHIFT, SHIFT, SHIFT, SHIFT))
    dy = torch.randint(0, 2 * SHIFT + 1, (b,), generator=generator)
    dx = torch.randint(0, 2 * SHIFT + 1, (b,), generator=generator)
    rows = (dy[:, None] + torch.arange(h)[None])[:, None, :, None].expand(b, 1, h, w + 2 * SHIFT)
    shifted = padded.gather(2, rows)
    cols = (dx[:, None] + torch.arange(w)[None])[:, None, None, :].expand(b, 1, h, w)
    shifted = shifted.gather(3, cols)
    return shifted + PIXEL_NOISE * torch.randn(shifted.shape, generator=generator)


def accuracy(model: nn.Module, x: Tensor, y: Tensor) -> float:
    with torch.no_grad():
        model.eval()
        return float((model(x).argmax(1) == y).float().mean())


def train(model: nn.Module, x: Tensor, targets: Tensor, epochs: int, seed: int, weight_decay: bool = False,
          augmentation: bool = False, loss: str = "ce", on_epoch: Optional[Callable[[int], None]] = None) -> nn.Module:
    """Adam(W) with batches of :data:`BATCH`; ``loss`` ``"ce"`` (targets: labels) or ``"mse"`` (targets ``(N, C)``).

    ``on_epoch(e)`` is called before the first epoch (``e = 0``) and after each epoch ``e``.
    """
    generator = torch.Generator().manual_seed(seed + 1000)
    optimiser = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY if weight_decay else 0.0)
    criterion = nn.CrossEntropyLoss() if loss == "ce" else nn.MSELoss()
    if on_epoch:
        on_epoch(0)
    for epoch in range(1, epochs + 1):
        model.train()
        for batch in torch.randperm(len(x), generator=generator).split(BATCH):
            inputs = augment(x[batch], generator) if augmentation else x[batch]
            optimiser.zero_grad()
            criterion(model(inputs), targets[batch]).backward()
            optimiser.step()
        if on_epoch:
            on_epoch(epoch)
    model.eval()
    return model


def measure(model: nn.Module, x: Tensor, pairs: Dict[str, Tensor], samples: int) -> Dict[str, object]:
    """Between/within summaries of ``model`` on the fixed ``pairs`` of ``x``: Hann-tapered (the
    score; ``summary`` is its :meth:`SpectrumSummary.to_dict`) and, from the same path signals,
    untapered (``*_untapered``, and ``mean_variation``, the variance along the path)."""
    out = {}
    for kind, p in pairs.items():
        spectra = path_spectra(model, x, p, kind, samples=samples, window="hann")
        s = summarize(spectra)
        plain = summarize(replace(spectra, power=spectra_of_signals(spectra.signals, "none")))
        out[kind] = {"centroid": s.centroid, "high_share": s.high_share, "mean_variation": plain.mean_variation,
                     "centroid_untapered": plain.centroid, "high_share_untapered": plain.high_share,
                     "summary": s.to_dict()}
    return out


def run_seed(seed: int, settings: dict, log: Callable[[str], None] = print) -> dict:
    """All four experiments at one seed; returns plain numbers."""
    data = load_digits_data(seed, settings["examples"])
    x, y = data["x_train"], data["y_train"]
    pairs = {kind: sample_pairs(x, y, settings["pairs"], kind, seed=seed * 10 + i) for i, kind in enumerate(("between", "within"))}
    epochs, samples = settings["epochs"], settings["samples"]
    checkpoints = sorted({0, epochs, *[e for e in (1, 2, 4, 8, 16, 32, 64) if e < epochs]})

    def row(model: nn.Module) -> dict:
        m = measure(model, x, pairs, samples)
        return {"between": m["between"]["centroid"], "within": m["within"]["centroid"],
                "between_high_share": m["between"]["high_share"], "within_high_share": m["within"]["high_share"],
                "between_untapered": m["between"]["centroid_untapered"],
                "within_untapered": m["within"]["centroid_untapered"],
                "between_variation": m["between"]["mean_variation"], "within_variation": m["within"]["mean_variation"],
                "test_accuracy": accuracy(model, data["x_test"], data["y_test"]),
                "train_accuracy": accuracy(model, x, y), "spectra": m}

    result: dict = {"seed": seed, "training": {}, "sizes": {}, "regularisation": {}, "label_noise": {}}
    medium = build_model("medium", seed)
    train(medium, x, y, epochs, seed, on_epoch=lambda e: result["training"].__setitem__(e, row(medium)) if e in checkpoints else None)
    final = result["training"][epochs]
    result["sizes"]["medium"] = final
    result["regularisation"]["none"] = final
    for name in SIZES:
        if name != "medium":
            result["sizes"][name] = row(train(build_model(name, seed), x, y, epochs, seed))
    for name, (wd, aug) in REGULARISERS.items():
        if name != "none":
            result["regularisation"][name] = row(train(build_model("medium", seed), x, y, epochs, seed, wd, aug))
    log(f"  seed {seed}: medium {final['test_accuracy']:.3f} acc, centroids between {final['between']:.3f} "
        f"within {final['within']:.3f}")

    onehot = nn.functional.one_hot(y, 10).float()
    clean = train(build_model("medium", seed), x, onehot, epochs, seed, loss="mse")
    with torch.no_grad():
        clean_out = clean(x)
    for kind in ("planar", "radial"):
        fractions = []
        for f in settings["noise_frequencies"]:
            noise = noise_pattern(x, f, kind, num_classes=10, amplitude=NOISE_AMPLITUDE, seed=seed)
            model = train(build_model("medium", seed), x, noise.targets(y, 10), epochs, seed, loss="mse")
            with torch.no_grad():
                fractions.append(fitted_fraction(model(x), noise, clean_out))
        result["label_noise"][kind] = fractions
    return result


def cached_run_seed(out: Path, seed: int, settings: dict) -> dict:
    """:func:`run_seed`, reusing ``OUT/runs/seed-<seed>.pt`` when it was made with the same settings,
    so an interrupted run resumes at the first unfinished seed. The key also holds
    :data:`CACHE_VERSION`, so files of an older layout are run again rather than reused."""
    path = out / "runs" / f"seed-{seed}.pt"
    key = {**settings, "cache_version": CACHE_VERSION}
    if path.exists():
        cached = torch.load(path, weights_only=False)
        if cached.get("settings") == key:
            print(f"  seed {seed}: reusing {path}", flush=True)
            return cached["result"]
    result = run_seed(seed, settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(str(path), lambda temporary: torch.save({"settings": key, "result": result}, temporary))
    return result


def _mean(values: Sequence[float]) -> float:
    return float(np.mean(values))


def aggregate(runs: List[dict], settings: dict) -> dict:
    """Mean over seeds of every scalar (spectra dropped except the final medium MLP's mean spectra)."""
    keys = ("between", "within", "between_high_share", "within_high_share", "between_untapered", "within_untapered",
            "between_variation", "within_variation", "test_accuracy", "train_accuracy")

    def mean_rows(rows: List[dict]) -> dict:
        return {k: _mean([r[k] for r in rows]) for k in keys}

    epochs = sorted(runs[0]["training"])
    return {
        "training": {int(e): mean_rows([r["training"][e] for r in runs]) for e in epochs},
        "sizes": {n: mean_rows([r["sizes"][n] for r in runs]) for n in SIZES},
        "regularisation": {n: mean_rows([r["regularisation"][n] for r in runs]) for n in REGULARISERS},
        "label_noise": {kind: {"frequencies": settings["noise_frequencies"],
                               "fitted_fraction": [_mean(v) for v in zip(*[r["label_noise"][kind] for r in runs])]}
                        for kind in ("planar", "radial")},
    }


def intervention_checks(means: dict, suffix: str = "") -> List[dict]:
    """For each intervention vs its reference: did accuracy improve, did between rise, within fall."""
    comparisons = [("sizes", "small", "medium"), ("sizes", "medium", "large"), ("sizes", "medium", "cnn")]
    comparisons += [("regularisation", "none", name) for name in REGULARISERS if name != "none"]
    checks = []
    for group, ref, new in comparisons:
        a, b = dict(means[group][ref]), dict(means[group][new])
        for r in (a, b):
            r["between"], r["within"] = r["between" + suffix], r["within" + suffix]
        improved = b["test_accuracy"] > a["test_accuracy"]
        checks.append({
            "intervention": f"{ref} -> {new}", "group": group,
            "test_accuracy": [a["test_accuracy"], b["test_accuracy"]], "improves_accuracy": improved,
            "between": [a["between"], b["between"]], "within": [a["within"], b["within"]],
            "between_rises": b["between"] > a["between"], "within_falls": b["within"] < a["within"],
            "claim_holds": (b["between"] > a["between"] and b["within"] < a["within"]) if improved else None,
        })
    return checks


def training_check(means: dict) -> dict:
    epochs = sorted(means["training"])
    first, last = means["training"][epochs[0]], means["training"][epochs[-1]]
    change = {k: (last[k] - first[k]) / max(abs(first[k]), 1e-12) for k in ("between", "within")}
    return {"epochs": epochs, "relative_change_between": change["between"], "relative_change_within": change["within"],
            "evolves": bool(max(abs(change["between"]), abs(change["within"])) > 0.05)}


def noise_check(means: dict) -> dict:
    out = {}
    for kind, entry in means["label_noise"].items():
        beta = entry["fitted_fraction"]
        rho = float(np.corrcoef(np.argsort(np.argsort(entry["frequencies"])), np.argsort(np.argsort(beta)))[0, 1])
        out[kind] = {"spearman_beta_vs_f": rho, "lowest_f_beta": beta[0], "highest_f_beta": beta[-1],
                     "falls_with_f": bool(rho < 0 and beta[0] > beta[-1])}
    return out


def format_report(means: dict, checks: List[dict], train_chk: dict, noise_chk: dict) -> str:
    lines = ["centroid of the mean path spectrum (cycles per path), mean over seeds; Hann-tapered (the score), "
             "untapered in brackets"]
    lines.append(f"{'':<24}{'between':>9}{'within':>9}{'[between':>10}{'within]':>9}{'test acc':>10}")

    def fmt(name, r):
        return (f"{name:<24}{r['between']:>9.3f}{r['within']:>9.3f}{r['between_untapered']:>10.3f}"
                f"{r['within_untapered']:>9.3f}{r['test_accuracy']:>10.3f}")

    for e, r in means["training"].items():
        lines.append(fmt(f"medium, epoch {e}", r))
    for group in ("sizes", "regularisation"):
        for n, r in means[group].items():
            lines.append(fmt(f"{group[:4]}: {n}", r))
    lines.append("")
    lines.append(f"paper: {CLAIMS['interventions']}")
    for c in checks:
        verdict = "n/a (accuracy did not improve)" if c["claim_holds"] is None else ("holds" if c["claim_holds"] else "FAILS")
        lines.append(f"  {c['intervention']:<22} acc {c['test_accuracy'][0]:.4f}->{c['test_accuracy'][1]:.4f}  "
                     f"between {'up' if c['between_rises'] else 'down'}, within {'down' if c['within_falls'] else 'up'}: {verdict}")
    lines.append(f"paper: {CLAIMS['training']}")
    lines.append(f"  ours: between {train_chk['relative_change_between']:+.1%}, within "
                 f"{train_chk['relative_change_within']:+.1%} from epoch 0 to {train_chk['epochs'][-1]}: "
                 f"{'holds' if train_chk['evolves'] else 'FAILS'}")
    lines.append(CLAIMS["label_noise"])
    for kind, entry in means["label_noise"].items():
        pairs = ", ".join(f"f={f:g}: {b:.3f}" for f, b in zip(entry["frequencies"], entry["fitted_fraction"]))
        lines.append(f"  {kind}: {pairs}  ({'holds' if noise_chk[kind]['falls_with_f'] else 'FAILS'}, "
                     f"Spearman {noise_chk[kind]['spearman_beta_vs_f']:+.2f})")
    return "\n".join(lines)


def parse_args(argv: Optional[Sequence[str]]):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", choices=sorted(BUDGETS), default="cpu")
    parser.add_argument("--out", type=Path, required=True, help="output folder (created)")
    # Hidden overrides, for tests and experiments; a run with any of them is labelled as such.
    parser.add_argument("--seeds", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--epochs", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--pairs", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--samples", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--examples", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--noise-frequencies", type=str, default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    settings = dict(BUDGETS[args.budget])
    overrides = {k: getattr(args, k) for k in ("seeds", "epochs", "pairs", "samples", "examples") if getattr(args, k) is not None}
    for key, value in overrides.items():
        if value < (2 if key in ("samples",) else 20 if key == "examples" else 1):
            print(f"error: --{key} is too small: {value}", file=sys.stderr)
            return 2
    if args.noise_frequencies:
        overrides["noise_frequencies"] = [float(v) for v in args.noise_frequencies.split(",")]
    settings.update(overrides)
    label = args.budget + (" + overrides " + ", ".join(f"{k}={v}" for k, v in overrides.items()) if overrides else "")
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"Fridovich-Keil et al. 2022 on digits, budget {label}: {settings}", flush=True)
    started = time.perf_counter()
    runs = [cached_run_seed(args.out, seed, settings) for seed in range(settings["seeds"])]
    means = aggregate(runs, settings)
    checks = intervention_checks(means)
    checks_untapered = intervention_checks(means, "_untapered")
    train_chk, noise_chk = training_check(means), noise_check(means)
    improving = [c for c in checks if c["improves_accuracy"]]
    results = {
        "paper": "Fridovich-Keil, Gontijo-Lopes, Roelofs 2022, Spectral Bias in Practice: The Role of Function "
                 "Frequency in Generalization",
        "budget": args.budget,
        "budget_label": label,
        "settings": {**settings, "dataset": "scikit-learn digits, 8x8, pixels/16", "train_size": TRAIN_SIZE,
                     "pairs_from": "training images", "frequency_unit": "cycles per path",
                     "spectrum": "power of ||p(t)-p(0)||, window-weighted mean removed, periodic Hann window, t = j/n "
                                 "(untapered centroids also reported)",
                     "score": "centroid of the mean power spectrum", "high_share_cutoff": "a quarter of Nyquist",
                     "optimizer": f"AdamW lr {LR}, batch {BATCH}", "weight_decay": WEIGHT_DECAY,
                     "augmentation": f"shifts up to {SHIFT} px + Gaussian pixel noise {PIXEL_NOISE}",
                     "label_noise_amplitude": NOISE_AMPLITUDE, "torch_threads": torch.get_num_threads()},
        "claims": CLAIMS,
        "means": means,
        "intervention_checks": checks,
        "interventions_claim_held": f"{sum(bool(c['claim_holds']) for c in improving)} of {len(improving)} "
                                    "accuracy-improving interventions",
        "between_rises_when_accuracy_improves": f"{sum(c['between_rises'] for c in improving)} of {len(improving)}",
        "within_falls_when_accuracy_improves": f"{sum(c['within_falls'] for c in improving)} of {len(improving)}",
        "intervention_checks_untapered": checks_untapered,
        "interventions_claim_held_untapered": f"{sum(bool(c['claim_holds']) for c in checks_untapered if c['improves_accuracy'])} "
                                              f"of {len(improving)} accuracy-improving interventions",
        "training_check": train_chk,
        "label_noise_check": noise_chk,
        "per_seed": [{k: v for k, v in r.items()} for r in _strip_spectra(runs)],
        "wall_seconds": time.perf_counter() - started,
    }
    write_json(str(args.out / "results.json"), results)
    final = runs[0]["training"][settings["epochs"]]["spectra"]
    plot_mean_spectra(str(args.out / "spectra.png"), final["between"]["summary"], final["within"]["summary"],
                      title=f"medium MLP after {settings['epochs']} epochs (seed 0)")
    panels = [
        {"title": "over training (medium MLP)", "labels": list(means["training"]), "xlabel": "epoch",
         **_columns(means["training"].values())},
        {"title": "model size", "labels": list(SIZES), **_columns(means["sizes"].values())},
        {"title": "regularisation (medium MLP)", "labels": list(REGULARISERS),
         **_columns(means["regularisation"].values())},
    ]
    plot_centroid_panels(str(args.out / "frequency.png"), panels)
    plot_noise_fitting(str(args.out / "label_noise.png"), settings["noise_frequencies"],
                       {k: v["fitted_fraction"] for k, v in means["label_noise"].items()})
    print()
    print(format_report(means, checks, train_chk, noise_chk))
    print(f"wrote {args.out / 'results.json'}, frequency.png, spectra.png, label_noise.png "
          f"({time.perf_counter() - started:.0f} s)")
    return 0


def _columns(rows) -> dict:
    rows = list(rows)
    return {"between": [r["between"] for r in rows], "within": [r["within"] for r in rows],
            "accuracy": [r["test_accuracy"] for r in rows]}


def _strip_spectra(runs: List[dict]) -> List[dict]:
    def strip(row: dict) -> dict:
        return {k: v for k, v in row.items() if k != "spectra"}

    return [{"seed": r["seed"],
             "training": {e: strip(v) for e, v in r["training"].items()},
             "sizes": {n: strip(v) for n, v in r["sizes"].items()},
             "regularisation": {n: strip(v) for n, v in r["regularisation"].items()},
             "label_noise": r["label_noise"]} for r in runs]


if __name__ == "__main__":
    sys.exit(main())
