"""Figures of fits and comparisons: error maps, curves, side-by-side reconstructions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict, Tuple

import numpy as np

from coordnet.plots import figure as _figure
from coordnet.plots.figure import save_figure as _save
from coordnet.plots.figure import show_image as _show_image

if TYPE_CHECKING:
    from matplotlib.typing import LineStyleType


def error_map(prediction: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per-pixel absolute error averaged over channels: ``(H, W)``."""
    error = np.abs(prediction.astype(np.float64) - target.astype(np.float64))
    return error.mean(axis=-1) if error.ndim == 3 else error


#: What the error maps show, with its unit (images are compared in [0, 1] intensity).
ERROR_LABEL = "|prediction - target| (intensity, 0-1)"
#: Line style per curve of :func:`save_curves`.
CURVE_STYLES: Tuple[Tuple[str, LineStyleType, str, str], ...] = (
    ("train_psnr", "-", "o", "train"),
    ("validation_psnr", ":", "^", "validation (early stop)"),
    ("test_psnr", "--", "s", "test (held out)"),
)


def save_error_map(path: str, prediction: np.ndarray, target: np.ndarray) -> None:
    """The per-pixel absolute error of an image fit, with a labelled colour bar."""
    fig, ax = _figure.subplots(figsize=(4.5, 4))
    shown = ax.imshow(error_map(prediction, target), cmap="magma")
    fig.colorbar(shown, ax=ax, fraction=0.046, label=ERROR_LABEL)
    ax.axis("off")
    _save(fig, path)


def _values(curve) -> list:
    return [np.nan if value is None else value for value in curve]


def save_curves(path: str, histories: Dict[str, dict], title: str = "") -> None:
    """:func:`curves_figure` written to ``path`` as PNG."""
    _save(curves_figure(histories, title), path)


def curves_figure(histories: Dict[str, dict], title: str = ""):
    """PSNR (train solid, validation dotted, test dashed) and training loss against optimiser
    steps, one colour per run, every evaluation drawn as a marker (a run evaluated once is a
    point). The legend sits below the axes, never over the data; runs without evaluations
    (e.g. baselines) are left out."""
    from matplotlib.lines import Line2D

    fig, (left, right) = _figure.subplots(1, 2, figsize=(10, 3.8))
    handles, styles_used = [], set()
    drawn = {label: h for label, h in histories.items() if h and h.get("steps")}
    for index, (label, history) in enumerate(drawn.items()):
        colour = f"C{index % 10}"
        for key, style, marker, _name in CURVE_STYLES:
            curve = history.get(key) or []
            if any(value is not None for value in curve):
                left.plot(
                    history["steps"],
                    _values(curve),
                    color=colour,
                    linestyle=style,
                    marker=marker,
                    markersize=3,
                )
                styles_used.add(key)
        right.plot(
            history["steps"], _values(history["loss"]), color=colour, marker="o", markersize=3
        )
        handles.append(Line2D([], [], color=colour, marker="o", markersize=4, label=_short(label)))
    handles += [
        Line2D([], [], color="0.3", linestyle=style, marker=marker, markersize=4, label=name)
        for key, style, marker, name in CURVE_STYLES
        if key in styles_used
    ]
    left.set(xlabel="optimiser step", ylabel="PSNR (dB)")
    right.set(xlabel="optimiser step", ylabel="training loss (MSE)")
    fig.subplots_adjust(wspace=0.3)
    right.set_yscale("log")
    for ax in (left, right):
        ax.grid(alpha=0.3)
    if handles:
        fig.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.5, 0.0),
            ncol=2,
            fontsize=8,
            frameon=False,
        )
    if title:
        fig.suptitle(title)
    return fig


def _short(label: str, width: int = 60) -> str:
    """A legend label: long model specs are cut with an ellipsis."""
    return label if len(label) <= width else label[: width - 1] + "…"


def save_comparison(
    path: str, target: np.ndarray, predictions: Dict[str, np.ndarray], captions: Dict[str, str]
) -> None:
    """:func:`comparison_figure` written to ``path`` as PNG."""
    _save(comparison_figure(target, predictions, captions), path)


def comparison_figure(
    target: np.ndarray, predictions: Dict[str, np.ndarray], captions: Dict[str, str]
):
    """Target, then each reconstruction (top row; its caption, which should hold its PSNR, as the
    panel title) and its error map (bottom row, one colour scale with a labelled colour bar)."""
    columns = len(predictions) + 1
    fig, axes = _figure.subplots(2, columns, figsize=(2.8 * columns, 6.2), squeeze=False)
    _show_image(axes[0, 0], target, "target")
    axes[1, 0].axis("off")
    axes[1, 0].text(
        0.5,
        0.5,
        "absolute error\n(below each\nreconstruction)",
        ha="center",
        va="center",
        fontsize=9,
        transform=axes[1, 0].transAxes,
    )
    errors = {label: error_map(p, target) for label, p in predictions.items()}
    top = max((float(np.percentile(e, 99.5)) for e in errors.values()), default=1.0) or 1.0
    shown = None
    for column, (label, prediction) in enumerate(predictions.items(), start=1):
        _show_image(axes[0, column], prediction, captions.get(label, label))
        shown = axes[1, column].imshow(errors[label], cmap="magma", vmin=0, vmax=top)
        axes[1, column].axis("off")
    fig.tight_layout()
    if shown is not None:
        fig.colorbar(
            shown,
            ax=list(axes[1, 1:]),
            orientation="horizontal",
            fraction=0.05,
            pad=0.04,
            label=ERROR_LABEL,
        )
    return fig


def save_series(path: str, target: np.ndarray, prediction: np.ndarray, title: str = "") -> None:
    """A 1D signal ``(N, C)`` and its reconstruction (first channel), legend outside the axes."""
    fig, ax = _figure.subplots(figsize=(10, 3))
    ax.plot(target[:, 0], color="0.6", linewidth=1, label="target")
    ax.plot(prediction[:, 0], color="C3", linewidth=0.8, label="fit")
    ax.set(xlabel="sample index", ylabel="value (signal units)")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.set_title(title)
    _save(fig, path)
