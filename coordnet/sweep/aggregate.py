"""Results of a sweep: one row per (image, model, grid values), mean ± std over seeds."""

from __future__ import annotations

import math
import os
import statistics
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from coordnet.atomic import write_text
from coordnet.plots.sweep import save_sweep_plot
from coordnet.runs.compare import markdown_table, write_csv
from coordnet.sweep.expand import Run
from coordnet.sweep.run import read_error, read_result

METRICS = ("test_psnr", "train_psnr", "ssim", "seconds")


def _finite(values: Sequence[Any]) -> List[float]:
    return [float(v) for v in values if isinstance(v, (int, float)) and math.isfinite(v)]


def mean_std(values: Sequence[Any]) -> Tuple[Optional[float], Optional[float]]:
    """Mean and sample standard deviation of the finite values (std 0 for one value; ``None``s for none)."""
    finite = _finite(values)
    if not finite:
        return None, None
    return _stats(finite)


def _stats(finite: Sequence[float]) -> Tuple[float, float]:
    """Mean and sample standard deviation of a non-empty list of finite values (std 0 for one)."""
    return statistics.fmean(finite), (statistics.stdev(finite) if len(finite) > 1 else 0.0)


@dataclass
class Row:
    """One (image, model, grid values) cell over its seeds."""

    image: str
    model: str
    label: str
    params: Dict[str, Any]
    seeds: List[int] = field(default_factory=list)  # seeds with a result
    failed: int = 0
    values: Dict[str, List[Optional[float]]] = field(default_factory=dict)  # None: not recorded

    def mean_std(self, key: str) -> Tuple[Optional[float], Optional[float]]:
        return mean_std(self.values.get(key, []))


@dataclass
class SweepResults:
    """Rows in run order, and the counts of runs done / failed / missing."""

    rows: List[Row]
    done: int
    failed: int
    missing: int

    def param_keys(self) -> List[str]:
        keys: List[str] = []
        for row in self.rows:
            keys += [k for k in row.params if k not in keys]
        return keys


def image_name(source: str) -> str:
    return os.path.basename(source) if os.path.sep in source else source


def collect(runs: Sequence[Run], out_dir: str) -> SweepResults:
    """Read every run's ``result.json`` / ``error.json`` under ``out_dir``."""
    rows: Dict[Tuple[str, str, str], Row] = {}
    done = failed = missing = 0
    for run in runs:
        key = (run.image, run.model, run.label)
        row = rows.setdefault(key, Row(run.image, run.model, run.label, dict(run.params)))
        result = read_result(out_dir, run)
        if result is not None:
            done += 1
            row.seeds.append(run.seed)
            for metric in METRICS:
                row.values.setdefault(metric, []).append(result.get(metric))
        elif read_error(out_dir, run) is not None:
            failed += 1
            row.failed += 1
        else:
            missing += 1
    return SweepResults(list(rows.values()), done, failed, missing)


def _number(value: Optional[float], digits: int) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def table(results: SweepResults) -> List[Dict[str, str]]:
    """Rows as strings: image, model, grid keys, seeds, failed, then ``METRIC_mean``/``METRIC_std``."""
    keys = results.param_keys()
    table_rows = []
    for row in results.rows:
        cells = {"image": image_name(row.image), "model": row.model, "spec": row.label}
        cells.update({key: str(row.params.get(key, "")) for key in keys})
        cells.update({"seeds": str(len(row.seeds)), "failed": str(row.failed)})
        for metric in METRICS:
            mean, std = row.mean_std(metric)
            digits = 4 if metric == "ssim" else 2
            cells[f"{metric}_mean"], cells[f"{metric}_std"] = (
                _number(mean, digits),
                _number(std, digits),
            )
        table_rows.append(cells)
    return table_rows


def markdown(results: SweepResults) -> str:
    """A Markdown table with ``mean ± std`` cells."""

    keys = results.param_keys()
    headers = ["image", "model", *keys, "seeds", *METRICS]
    rows = []
    for cells in table(results):
        line = {
            "image": cells["image"],
            "model": cells["model"],
            **{k: cells[k] for k in keys},
            "seeds": cells["seeds"]
            + (f" ({cells['failed']} failed)" if cells["failed"] != "0" else ""),
        }
        for metric in METRICS:
            mean, std = cells[f"{metric}_mean"], cells[f"{metric}_std"]
            line[metric] = "-" if not mean else f"{mean} ± {std}"
        rows.append(line)
    return markdown_table(rows, headers)


@dataclass
class Series:
    """Test PSNR of one model against its grid key ``key``, mean and std over images and seeds."""

    model: str
    key: Optional[str]  # None: the model has no (numeric, single) grid key: one point
    x: List[float]
    mean: List[float]
    std: List[float]


def series(results: SweepResults, metric: str = "test_psnr") -> List[Series]:
    """One :class:`Series` per model, for the plot of ``metric`` against the model's grid key."""
    by_model: Dict[str, Dict[Any, List[float]]] = {}
    keys: Dict[str, Optional[str]] = {}
    for row in results.rows:
        numeric = [
            k
            for k, v in row.params.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)
        ]
        key = numeric[0] if len(row.params) == 1 and numeric else None
        keys.setdefault(row.model, key)
        x = row.params[key] if key is not None else 0.0
        by_model.setdefault(row.model, {}).setdefault(x, []).extend(
            _finite(row.values.get(metric, []))
        )
    out = []
    for model, points in by_model.items():
        xs = sorted(x for x in points if points[x])
        stats = [_stats(points[x]) for x in xs]  # finite values only, at least one
        out.append(
            Series(
                model,
                keys[model],
                [float(x) for x in xs],
                [s[0] for s in stats],
                [s[1] for s in stats],
            )
        )
    return out


def write_results(runs: Sequence[Run], out_dir: str, title: str = "sweep") -> SweepResults:
    """``results.csv``, ``results.md`` and ``results.png`` (test PSNR vs each model's grid key) in ``out_dir``."""

    results = collect(runs, out_dir)
    rows = table(results)
    if rows:
        write_csv(os.path.join(out_dir, "results.csv"), rows)
    write_text(os.path.join(out_dir, "results.md"), markdown(results) + "\n")
    if results.done:
        save_sweep_plot(os.path.join(out_dir, "results.png"), series(results), title)
    return results
