"""The figure of a sweep: test PSNR against each model's grid key (e.g. σ), one line per model."""

from __future__ import annotations

from typing import Sequence

from coordnet.plots.figure import save_figure, subplots


def save_sweep_plot(
    path: str, series: Sequence, title: str = "sweep", ylabel: str = "test PSNR (dB)"
) -> None:
    """``series``: :class:`coordnet.sweep.aggregate.Series`; a model with a grid key is a line
    with ± std error bars (log x axis when every x is positive and they span a factor 8 or
    more), a model without one a dashed horizontal line at its mean."""
    fig, ax = subplots(figsize=(6, 4))
    gridded = [s for s in series if s.key is not None and s.x]
    xs = [x for s in gridded for x in s.x]
    for index, s in enumerate(series):  # one colour per model
        if s.key is not None and s.x:
            ax.errorbar(
                s.x, s.mean, yerr=s.std, marker="o", capsize=3, color=f"C{index}", label=s.model
            )
        elif s.mean:
            ax.axhline(s.mean[0], linestyle="--", color=f"C{index}", label=s.model)
    if xs and min(xs) > 0 and max(xs) / min(xs) >= 8:
        ax.set_xscale("log")
    keys = sorted({s.key for s in gridded})
    ax.set_xlabel(", ".join(keys) if keys else "")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    save_figure(fig, path)
