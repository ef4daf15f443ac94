"""Figures of NTK spectra and convergence rates (Basri et al. 2019; Tancik et al. 2020)."""

from __future__ import annotations

from typing import Any, Collection, Mapping, Optional

import numpy as np

from coordnet.plots import figure as _figure
from coordnet.plots.figure import save_figure as _save


def save_kernel_eigenvalues(
    path: str, eigenvalues: Mapping[str, np.ndarray], title: str = ""
) -> None:
    """Closed-form eigenvalues ``λ_0..λ_kmax`` per label (log scale, each normalised by its ``λ_0``).

    Exact zeros (odd ``k ≥ 3`` without bias) cannot sit on a log axis: they are drawn as ``x``
    on the bottom edge.
    """
    fig, ax = _figure.subplots(figsize=(6.5, 4))
    floor = None
    for values in eigenvalues.values():
        values = np.asarray(values, dtype=float)
        positive = values[values > 0] / values[0]
        if positive.size:
            floor = positive.min() if floor is None else min(floor, positive.min())
    floor = (floor or 1e-6) / 3
    for index, (label, values) in enumerate(eigenvalues.items()):
        values = np.asarray(values, dtype=float)
        k = np.arange(values.size)
        colour = f"C{index % 10}"
        normalised = values / values[0]
        positive = values > 0
        ax.semilogy(
            k[positive],
            normalised[positive],
            "o-",
            color=colour,
            markersize=4,
            linewidth=0.8,
            label=label,
        )
        if (~positive).any():
            ax.semilogy(
                k[~positive], np.full((~positive).sum(), floor), "x", color=colour, markersize=6
            )
    ax.set_ylim(bottom=floor * 0.7)
    ax.set_xlabel("frequency k")
    ax.set_ylabel("λ_k / λ_0   (x: exactly 0)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    _save(fig, path)


def _time_panel(
    ax,
    runs: Mapping[str, Any],
    fits: Mapping[str, Any],
    title: str,
    predictions: Optional[Collection[str]],
) -> None:
    for index, (label, run) in enumerate(runs.items()):
        colour = f"C{index % 10}"
        k = run.frequencies.numpy()
        t = run.iterations.numpy().astype(float)
        learned = run.learned.numpy()
        fit = fits.get(label)
        text = label if fit is None else f"{label}: slope {fit.exponent:.2f}"
        ax.loglog(
            k[learned], np.maximum(t[learned], 0.8), "o", color=colour, markersize=4, label=text
        )
        if (~learned).any():
            ax.loglog(
                k[~learned],
                np.full((~learned).sum(), run.cap),
                "^",
                color=colour,
                markersize=6,
                markerfacecolor="none",
            )
        if fit is not None:
            span = np.array([float(fit.frequencies.min()), float(fit.frequencies.max())])
            ax.loglog(span, fit.prefactor * span**fit.exponent, "-", color=colour, linewidth=0.8)
        if run.predicted is not None and (predictions is None or label in predictions):
            predicted = run.predicted.numpy()
            finite = np.isfinite(predicted) & (predicted > 0)
            ax.loglog(k[finite], predicted[finite], "--", color=colour, linewidth=0.9, alpha=0.8)
    if any(not bool(run.learned.all()) for run in runs.values()):
        ax.plot([], [], "^", color="0.4", markerfacecolor="none", label="not learned (at the cap)")
    ax.set_xlabel("frequency k")
    ax.set_ylabel("iterations to learn")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)


def save_time_to_learn(
    path: str,
    panels: Mapping[str, Mapping[str, Any]],
    fits: Optional[Mapping[str, Any]] = None,
    title: str = "",
    predictions: Optional[Collection[str]] = None,
) -> None:
    """Time to learn vs ``k`` (log-log), one panel per group: ``panels[title][label] = TimeToLearn``.

    Dots: measured; open triangles at the cap: not learned; solid line: the fitted power law
    (``fits[label]``, a ``PowerLawFit``); dashed: the kernel prediction ``∝ 1/λ_k`` of the labels in
    ``predictions`` (default: every run that has one).
    """
    fits = fits or {}
    count = max(1, len(panels))
    fig, axes = _figure.subplots(1, count, figsize=(5.2 * count, 4.2), squeeze=False)
    for ax, (panel_title, runs) in zip(axes[0], panels.items()):
        _time_panel(ax, runs, fits, panel_title, predictions)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    _save(fig, path)


def save_ntk_spectra(
    path: str, spectra: Mapping[str, Any], fraction: float = 1e-2, title: str = ""
) -> None:
    """Empirical NTK spectra per label (``NTKSpectrum``): normalised eigenvalues vs rank (left,
    with the ``fraction`` line) and the dominant frequency of each eigenvector vs rank (right)."""
    fig, (left, right) = _figure.subplots(1, 2, figsize=(11, 4))
    for index, (label, spectrum) in enumerate(spectra.items()):
        colour = f"C{index % 10}"
        values = spectrum.normalised().numpy()
        rank = np.arange(values.size)
        positive = values > 0
        left.semilogy(
            rank[positive],
            values[positive],
            color=colour,
            linewidth=1.2,
            label=f"{label}: {spectrum.count_above(fraction)} above {fraction:g}",
        )
        count = max(1, spectrum.count_above(fraction))
        shown = min(values.size, max(4 * count, 32))
        right.plot(
            rank[:shown],
            spectrum.dominant_frequency.numpy()[:shown],
            ".",
            color=colour,
            label=label,
        )
    left.axhline(fraction, color="0.5", linestyle=":", linewidth=1)
    left.set_xlabel("eigenvalue rank")
    left.set_ylabel("λ_i / λ_0")
    left.grid(alpha=0.3, which="both")
    left.legend(fontsize=7)
    right.set_xlabel("eigenvalue rank")
    right.set_ylabel("dominant frequency of eigenvector (cycles)")
    right.grid(alpha=0.3)
    right.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    _save(fig, path)


def save_loss_curves(path: str, run: Any, title: str = "") -> None:
    """Relative loss vs iteration for each ``k`` of one ``TimeToLearn`` (needs its history)."""
    fig, ax = _figure.subplots(figsize=(6.5, 4))
    steps = run.history_steps.numpy()
    history = run.history.numpy()
    cmap = _figure.colormap("viridis")
    count = max(1, history.shape[1] - 1)
    for j, k in enumerate(run.frequencies.tolist()):
        ax.semilogy(steps, history[:, j], color=cmap(j / count), linewidth=0.9, label=f"k={k}")
    ax.axhline(run.threshold, color="0.4", linestyle=":", linewidth=1)
    ax.set_xlabel("iteration")
    ax.set_ylabel("Σ(f − y)² / Σ y²")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=6, ncol=2)
    if title:
        ax.set_title(title, fontsize=10)
    _save(fig, path)


__all__ = [
    "save_kernel_eigenvalues",
    "save_loss_curves",
    "save_ntk_spectra",
    "save_time_to_learn",
]
