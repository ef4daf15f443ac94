"""Figures of spectral-bias measurements: learning heat maps (Rahaman et al.'s Fig. 1), band curves.

These functions draw plain arrays and the dictionaries of :meth:`FrequencyCurves.to_dict` /
:meth:`BandCurves.to_dict`; they compute nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

import numpy as np

from coordnet.plots import figure as _figure
from coordnet.plots.figure import save_figure as _save


@dataclass
class Heatmap:
    """One heat-map panel: ``values (rows, columns)`` with row and column coordinates.

    Attributes:
        title: panel title.
        values: ``(R, K)``; row ``r`` at ``rows[r]`` (e.g. a training step), column ``k`` at ``columns[k]``
            (e.g. a frequency).
        columns: ``(K,)`` column coordinates, shown as tick labels.
        rows: ``(R,)`` row coordinates, increasing (drawn bottom to top).
        xlabel, ylabel: axis labels.
    """

    title: str
    values: np.ndarray
    columns: Sequence[float]
    rows: Sequence[float]
    xlabel: str = "frequency k"
    ylabel: str = "training step"


def _tick_label(value: float) -> str:
    return f"{value:g}" if float(value).is_integer() else f"{value:.2f}"


def _draw_heatmap(ax, panel: Heatmap, vmin: float, vmax: float, cmap: str):
    values = np.asarray(panel.values, dtype=np.float64)
    rows = np.asarray(panel.rows, dtype=np.float64)
    if values.ndim != 2 or values.shape != (len(rows), len(panel.columns)):
        raise ValueError(
            f"heat map {panel.title!r}: values {values.shape} do not match {len(rows)} rows "
            f"x {len(panel.columns)} columns"
        )
    if len(rows) > 1:
        half = 0.5 * (rows[-1] - rows[0]) / (len(rows) - 1)
        extent_y = (rows[0] - half, rows[-1] + half)
    else:
        extent_y = (rows[0] - 0.5, rows[0] + 0.5)
    shown = ax.imshow(
        np.clip(values, vmin, vmax),
        aspect="auto",
        origin="lower",
        cmap=cmap,
        vmin=vmin,
        vmax=vmax,
        extent=(-0.5, len(panel.columns) - 0.5, *extent_y),
        interpolation="nearest",
    )
    step = max(1, len(panel.columns) // 12)
    ticks = list(range(0, len(panel.columns), step))
    ax.set_xticks(ticks, [_tick_label(panel.columns[i]) for i in ticks], fontsize=8)
    if len(rows) <= 12:  # few rows (e.g. L values): label each
        ax.set_yticks(rows, [_tick_label(r) for r in rows], fontsize=8)
    ax.set_xlabel(panel.xlabel)
    ax.set_ylabel(panel.ylabel)
    ax.set_title(panel.title, fontsize=9)
    return shown


def save_heatmaps(
    path: str,
    panels: Sequence[Heatmap],
    colorbar_label: str,
    vmin: float = 0.0,
    vmax: float = 1.0,
    columns: Optional[int] = None,
    title: str = "",
    cmap: str = "viridis",
) -> None:
    """Heat-map panels in a grid (``columns`` per row), values clipped to ``[vmin, vmax]``, one colour bar."""
    if not panels:
        raise ValueError("save_heatmaps needs at least one panel")
    per_row = columns or len(panels)
    n_rows = -(-len(panels) // per_row)
    fig, axes = _figure.subplots(
        n_rows,
        per_row,
        figsize=(4.2 * per_row + 0.8, 3.6 * n_rows),
        squeeze=False,
        gridspec_kw={"hspace": 0.45, "wspace": 0.3},
    )
    shown = None
    for ax, panel in zip(axes.flat, panels):
        shown = _draw_heatmap(ax, panel, vmin, vmax, cmap)
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    fig.colorbar(shown, ax=axes.ravel().tolist(), label=colorbar_label, fraction=0.03)
    if title:
        fig.suptitle(title)
    _save(fig, path)


def _band_colours(count: int):
    return _figure.colormap("plasma")(np.linspace(0.05, 0.9, count))


def _draw_band_share(ax, spectrum: Mapping) -> None:
    steps = np.asarray(spectrum["steps"])
    share = np.asarray(spectrum["error_share"], dtype=np.float64)
    edges = spectrum["band_edges"]
    for band, colour in enumerate(_band_colours(share.shape[1])):
        ax.plot(
            steps, share[:, band], color=colour, label=f"{edges[band]:.2f}-{edges[band + 1]:.2f}"
        )
    ax.set_xlabel("step")
    ax.set_ylabel("share of the error energy")
    ax.legend(fontsize=7, title="radius (1 = Nyquist)", title_fontsize=7)
    ax.grid(alpha=0.3)


def spectrum_heatmap(spectrum: Mapping, title: str) -> Heatmap:
    """The learning heat map of a probe record (:meth:`FrequencyCurves.to_dict` or
    :meth:`BandCurves.to_dict`): normalised amplitude (1D) or ``1 - error / target energy`` per band (2D)."""
    if spectrum["kind"] == "1d":
        return Heatmap(
            title,
            np.asarray(spectrum["normalised_amplitude"]),
            spectrum["frequencies"],
            spectrum["steps"],
        )
    matched = 1 - np.asarray(spectrum["error_energy"]) / np.maximum(
        np.asarray(spectrum["target_energy"]), 1e-300
    )
    return Heatmap(
        title,
        matched,
        spectrum["band_centres"],
        spectrum["steps"],
        xlabel="band (radius, 1 = Nyquist)",
    )


def save_spectrum(path: str, spectrum: Mapping, title: str = "") -> None:
    """The figure ``coordnet fit --probe spectrum`` writes: the learning heat map, and in 2D the band curves."""
    label = (
        r"$|\hat f_\theta(k)|\,/\,|\hat f(k)|$"
        if spectrum["kind"] == "1d"
        else "1 - band error energy / target energy"
    )
    if spectrum["kind"] == "1d":
        save_heatmaps(
            path, [spectrum_heatmap(spectrum, title or "spectrum during training")], label
        )
        return
    fig, (left, right) = _figure.subplots(1, 2, figsize=(12, 4), gridspec_kw={"wspace": 0.45})
    shown = _draw_heatmap(
        left, spectrum_heatmap(spectrum, "energy matched per band"), 0.0, 1.0, "viridis"
    )
    fig.colorbar(shown, ax=left, label=label, fraction=0.046)
    _draw_band_share(right, spectrum)
    right.set_title("error energy per radial band", fontsize=9)
    index = spectrum.get("spectral_bias_index")
    suffix = "" if index is None else f" (spectral-bias index {index:.2f})"
    fig.suptitle((title or "spectrum during training") + suffix)
    _save(fig, path)


def save_flower_curves(path: str, curves: Mapping[str, np.ndarray], title: str = "") -> None:
    """Closed curves ``name -> points (n, 2)`` side by side (the manifolds ``γ_L``)."""
    fig, axes = _figure.subplots(1, len(curves), figsize=(2.2 * len(curves), 2.4), squeeze=False)
    for ax, (name, points) in zip(axes[0], curves.items()):
        closed = np.vstack([points, points[:1]])
        ax.plot(closed[:, 0], closed[:, 1], linewidth=1)
        ax.set_aspect("equal")
        ax.set_title(name, fontsize=9)
        ax.axis("off")
    if title:
        fig.suptitle(title)
    _save(fig, path)


__all__ = ["Heatmap", "save_flower_curves", "save_heatmaps", "save_spectrum", "spectrum_heatmap"]
