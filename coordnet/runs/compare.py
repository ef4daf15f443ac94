"""Several models on one signal: one run per (model, seed), a table, figures."""

from __future__ import annotations

import contextlib
import csv
import io
import math
import os
import re
import statistics
import textwrap
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np

from coordnet import plots
from coordnet.atomic import write_text
from coordnet.memory_limit import check_run_count
from coordnet.nets import parse_spec
from coordnet.outdir_lock import output_folder_lock
from coordnet.runs.baselines import interpolation_baselines
from coordnet.runs.run import FitOutcome, run_fit
from coordnet.signals import Signal, split_signal
from coordnet.training.trainer import TrainConfig

#: The table's columns: results only, no timings, so the same command prints the same table on a
#: busy machine as on an idle one (each run's seconds are in its ``metrics.json``).
COLUMNS = ("train_psnr", "test_psnr", "ssim", "steps", "params")
#: Columns without a standard deviation over seeds.
EXACT_COLUMNS = ("steps", "params")
# Shown when the runs measured them (``--probe spectrum``): the index and how many bands were learned.
PROBE_COLUMNS = ("spectral_bias_index", "spectral_learned")


@dataclass
class ModelRuns:
    """All seeds of one model, or one classical baseline (``baseline``: how it was computed;
    its outcome has an empty history)."""

    label: str
    outcomes: List[FitOutcome] = field(default_factory=list)
    baseline: Optional[str] = None

    def values(self, key: str) -> List[float]:
        return [o.metrics[key] for o in self.outcomes if o.metrics.get(key) is not None]

    def mean(self, key: str) -> Optional[float]:
        values = self.values(key)
        return statistics.fmean(values) if values else None

    def std(self, key: str) -> Optional[float]:
        values = self.values(key)
        return statistics.stdev(values) if len(values) > 1 else (0.0 if values else None)


def safe_name(label: str) -> str:
    """A file-system-safe version of a model label or signal name."""
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", label).strip("_") or "model"


def baseline_runs(signal: Signal, split: str = "tancik", seed: int = 0) -> List[ModelRuns]:
    """The interpolation baselines of an image comparison
    (:func:`coordnet.runs.baselines.interpolation_baselines`) on ``split`` (seeded by ``seed``,
    as the first seed's fits), each as a :class:`ModelRuns` marked ``baseline``; ``[]`` for
    other signals or splits without test samples."""
    if signal.kind != "image":
        return []
    runs = []
    for found in interpolation_baselines(split_signal(signal, split, seed=seed)):
        metrics = {
            "model": found.label,
            **found.metrics,
            "seconds": None,
            "steps": None,
            "params": None,
            "baseline": found.method,
        }
        outcome = FitOutcome(metrics, found.prediction.astype(np.float32), {})
        runs.append(ModelRuns(found.label, [outcome], baseline=found.method))
    return runs


def run_directory(out_dir: str, label: str, seed: int) -> str:
    return os.path.join(out_dir, safe_name(label), f"seed{seed}")


def compare(
    signal: Signal,
    specs: Sequence[str],
    config: TrainConfig,
    out_dir: Optional[str],
    seeds: int = 1,
    split: str = "tancik",
    resume: bool = False,
    progress: bool = True,
    lr_for: Optional[Callable[[str], float]] = None,
    announce: Callable[[str], None] = lambda line: None,
    probes: Sequence[str] = (),
    probe_every: Optional[int] = None,
    device: str = "cpu",
) -> List[ModelRuns]:
    """Fit every spec with ``seeds`` seeds (``config.seed``, ``config.seed + 1``, ...).

    ``out_dir`` ``None`` writes nothing (no run folders, no lock).
    ``probes``/``probe_every`` are passed to :func:`run_fit` (``"spectrum"``: each run also
    reports its spectral-bias index)."""
    if seeds < 1:
        raise ValueError(f"seeds must be positive, got {seeds}")
    check_run_count(f"{len(specs)} model(s) x {seeds:,} seed(s) (--seeds)", len(specs) * seeds)
    parsed = [parse_spec(spec) for spec in specs]  # fail on a bad spec before training anything
    labels = [spec.label for spec in parsed]
    if len(set(labels)) != len(labels):
        raise ValueError(f"the same model is listed twice: {labels}")

    with (
        output_folder_lock(out_dir) if out_dir is not None else contextlib.nullcontext()
    ):  # released when done; a caller may hold it longer (re-entrant)
        return _fit_all(
            signal,
            parsed,
            config,
            out_dir,
            seeds,
            split,
            resume,
            progress,
            lr_for,
            announce,
            probes,
            probe_every,
            device,
        )


def _fit_all(
    signal,
    parsed,
    config,
    out_dir,
    seeds,
    split,
    resume,
    progress,
    lr_for,
    announce,
    probes,
    probe_every,
    device,
) -> List[ModelRuns]:
    results = []
    for spec in parsed:
        runs = ModelRuns(spec.label)
        for offset in range(seeds):
            run_config = TrainConfig(**{**config.to_dict(), "seed": config.seed + offset})
            if lr_for is not None:
                run_config.lr = lr_for(spec)
            outcome = run_fit(
                signal,
                spec,
                run_config,
                None if out_dir is None else run_directory(out_dir, spec.label, run_config.seed),
                split=split,
                resume=resume,
                progress=progress,
                probes=probes,
                probe_every=probe_every,
                device=device,
            )
            runs.outcomes.append(outcome)
            test = outcome.metrics["test_psnr"]
            index = outcome.metrics.get("spectral_bias_index")
            announce(
                f"{spec.label:>28} seed {run_config.seed}: train {outcome.metrics['train_psnr']:.2f} dB, "
                f"test {'-' if test is None else f'{test:.2f} dB'}, {outcome.metrics['seconds']:.1f} s"
                + (
                    ""
                    if "spectral_bias_index" not in outcome.metrics
                    else f", spectral-bias index {'-' if index is None else f'{index:.3f}'} "
                    f"({outcome.metrics['spectral_learned']} learned)"
                )
            )
        results.append(runs)
    return results


def _wrap(label: str, width: int = 26) -> str:
    """A model label broken into figure-title lines at its ``+`` and ``,`` separators."""
    return "\n".join(textwrap.wrap(label.replace("+", " +").replace(",", ", "), width)).replace(
        ", ", ","
    )


def panel_title(runs: ModelRuns) -> str:
    """A comparison panel's title: the model's label, wrapped, and its test PSNR (mean over
    seeds; the train PSNR where there is no test set)."""
    test = runs.mean("test_psnr")
    which, value = ("test", test) if test is not None else ("train", runs.mean("train_psnr"))
    return f"{_wrap(runs.label)}\n{which} PSNR {_format(value, 'test_psnr')} dB"


def _format(value: Optional[float], key: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if key in ("params", "steps"):
        return f"{value:.0f}"
    if key == "ssim":
        return f"{value:.4f}"
    if key == "spectral_bias_index":
        return f"{value:.3f}"
    if key == "spectral_learned":
        return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
    return f"{value:.2f}"


def table_rows(results: Sequence[ModelRuns], seeds: int) -> List[Dict[str, str]]:
    rows = []
    measured = [
        key
        for key in PROBE_COLUMNS
        if any(key in o.metrics for runs in results for o in runs.outcomes)
    ]
    for runs in results:
        row = {"model": runs.label}
        for key in (*COLUMNS, *measured):
            row[key] = _format(runs.mean(key), key)
            if seeds > 1 and key not in EXACT_COLUMNS:
                row[f"{key}_std"] = _format(runs.std(key), key)
        rows.append(row)
    return rows


def write_csv(path: str, rows: List[Dict[str, str]]) -> None:
    """``rows`` (equal keys, the first row's order) as a CSV file with a header, written atomically."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    write_text(path, buffer.getvalue())


def markdown_table(rows: List[Dict[str, str]], headers: Optional[Sequence[str]] = None) -> str:
    """``rows`` as a Markdown table (no trailing newline); ``headers``: the columns, in order
    (default: the first row's keys; given, ``rows`` may be empty)."""
    headers = list(rows[0]) if headers is None else list(headers)
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row[h] for h in headers) + " |" for row in rows]
    return "\n".join(lines)


def write_report(out_dir: str, signal: Signal, results: Sequence[ModelRuns], seeds: int) -> str:
    """``results.csv``, ``results.md``, ``comparison.png`` (images), ``curves.png``; returns the Markdown table."""

    with output_folder_lock(out_dir):
        return _write_report(plots, out_dir, signal, results, seeds)


def _write_report(
    plots, out_dir: str, signal: Signal, results: Sequence[ModelRuns], seeds: int
) -> str:
    rows = table_rows(results, seeds)
    write_csv(os.path.join(out_dir, "results.csv"), rows)
    table = markdown_table(rows)
    write_text(os.path.join(out_dir, "results.md"), table + "\n")
    first_seed = {runs.label: runs.outcomes[0] for runs in results}
    if signal.kind == "image":
        captions = {runs.label: panel_title(runs) for runs in results}
        plots.save_comparison(
            os.path.join(out_dir, "comparison.png"),
            signal.values.numpy(),
            {label: np.clip(o.prediction, 0, 1) for label, o in first_seed.items()},
            captions,
        )
    plots.save_curves(
        os.path.join(out_dir, "curves.png"),
        {label: o.history for label, o in first_seed.items() if o.history},
        title=f"{signal.name}: PSNR during training",
    )
    return table
