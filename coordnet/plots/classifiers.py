"""Figures of classifier function frequency: mean path spectra, centroids across runs.

These functions draw the dictionaries of :meth:`SpectrumSummary.to_dict` and plain numbers;
they compute nothing.
"""

from __future__ import annotations

from typing import Mapping, Optional, Sequence

import numpy as np

from coordnet.plots import figure as _figure
from coordnet.plots.figure import save_figure as _save


def plot_mean_spectra(
    path: str, between: Mapping, within: Mapping, title: Optional[str] = None
) -> None:
    """Mean power spectrum of between- and within-class paths (log power vs cycles per path)."""
    fig, ax = _figure.subplots(figsize=(6, 4))
    for summary, colour in ((between, "C3"), (within, "C0")):
        power = np.asarray(summary["mean_power"], dtype=float)
        k = np.arange(len(power))
        ax.semilogy(
            k[1:],
            np.maximum(power[1:], 1e-30),
            color=colour,
            label=f"{summary['kind']}-class (centroid {summary['centroid']:.2f})",
        )
        ax.axvline(summary["centroid"], color=colour, linestyle=":", linewidth=1)
    ax.axvline(
        between["cutoff"],
        color="gray",
        linestyle="--",
        linewidth=1,
        label=f"cutoff {between['cutoff']:g}",
    )
    ax.set_xlabel("frequency (cycles per path)")
    ax.set_ylabel("mean power of ‖p(t) − p(0)‖")
    ax.set_title(title or "function frequency along interpolation paths", fontsize=10)
    ax.legend(fontsize=8)
    _save(fig, path)


def plot_centroid_panels(path: str, panels: Sequence[Mapping]) -> None:
    """One panel per experiment: between/within centroids (and test accuracy on a twin axis).

    Each panel: ``{"title", "labels": [...], "between": [...], "within": [...], "accuracy": [...] or None,
    "xlabel"}``; ``labels`` are category names or numbers (drawn as lines if all numeric).
    """
    fig, axes = _figure.subplots(1, len(panels), figsize=(4.5 * len(panels), 3.8), squeeze=False)
    for ax, panel in zip(axes[0], panels):
        labels = list(panel["labels"])
        numeric = all(isinstance(v, (int, float)) for v in labels)
        x = np.asarray(labels, dtype=float) if numeric else np.arange(len(labels))
        ax.plot(x, panel["between"], "o-", color="C3", label="between-class")
        ax.plot(x, panel["within"], "s-", color="C0", label="within-class")
        ax.set_ylabel(panel.get("ylabel", "centroid (cycles per path)"))
        ax.set_xlabel(panel.get("xlabel", ""))
        if not numeric:
            ax.set_xticks(x, [str(v) for v in labels], rotation=15, fontsize=8)
        ax.set_title(panel["title"], fontsize=10)
        if panel.get("accuracy") is not None:
            twin = ax.twinx()
            twin.plot(x, panel["accuracy"], "^--", color="gray", label="test accuracy")
            twin.set_ylabel("test accuracy", color="gray")
        ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    _save(fig, path)


def plot_noise_fitting(
    path: str, frequencies: Sequence[float], fractions: Mapping[str, Sequence[float]]
) -> None:
    """Fitted fraction of label noise vs its frequency, one line per pattern kind."""
    fig, ax = _figure.subplots(figsize=(5, 3.8))
    for name, values in fractions.items():
        ax.plot(frequencies, values, "o-", label=name)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("noise frequency f (cycles per unit input distance)")
    ax.set_ylabel("fitted fraction of the noise")
    ax.axhline(0, color="gray", linewidth=0.5)
    ax.legend(fontsize=8)
    _save(fig, path)
