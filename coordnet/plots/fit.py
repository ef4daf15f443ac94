"""Figures of fits and comparisons: error maps, curves, side-by-side reconstructions."""

from __future__ import annotations

from typing import Dict

import numpy as np

from coordnet.plots import figure as _figure
from coordnet.plots.figure import save_figure as _save
from coordnet.plots.figure import show_image as _show_image


def error_map(prediction: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per-pixel absolute error averaged over channels: ``(H, W)``."""
    error = np.abs(prediction.astype(np.float64) - target.astype(np.float64))
    return error.mean(axis=-1) if error.ndim == 3 else error


def save_error_map(path: str, prediction: np.ndarray, target: np.ndarray) -> None:
    fig, ax = _figure.subplots(figsize=(4.5, 4))
    shown = ax.imshow(error_map(prediction, target), cmap="magma")
    fig.colorbar(shown, ax=ax, fraction=0.046, label="|error|")
    ax.axis("off")
    _save(fig, path)


def save_curves(path: str, histories: Dict[str, dict], title: str = "") -> None:
    """PSNR (train solid, test dashed) and loss against steps, one line per run."""
    fig, (left, right) = _figure.subplots(1, 2, figsize=(10, 3.8))
    for index, (label, history) in enumerate(histories.items()):
        colour = f"C{index % 10}"
        left.plot(history["steps"], history["train_psnr"], color=colour, label=f"{label} train")
        test = history.get("test_psnr") or []
        if any(value is not None for value in test):
            left.plot(
                history["steps"],
                [np.nan if v is None else v for v in test],
                color=colour,
                linestyle="--",
                label=f"{label} test",
            )
        right.semilogy(history["steps"], history["loss"], color=colour, label=label)
    left.set_xlabel("step")
    left.set_ylabel("PSNR (dB)")
    left.legend(fontsize=7)
    left.grid(alpha=0.3)
    right.set_xlabel("step")
    right.set_ylabel("training loss (MSE)")
    right.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    _save(fig, path)


def save_comparison(
    path: str, target: np.ndarray, predictions: Dict[str, np.ndarray], captions: Dict[str, str]
) -> None:
    """Target, then each reconstruction (top row) and its error map (bottom row)."""
    columns = len(predictions) + 1
    fig, axes = _figure.subplots(2, columns, figsize=(2.8 * columns, 5.8), squeeze=False)
    _show_image(axes[0, 0], target, "target")
    axes[1, 0].axis("off")
    errors = {label: error_map(p, target) for label, p in predictions.items()}
    top = max((float(np.percentile(e, 99.5)) for e in errors.values()), default=1.0) or 1.0
    for column, (label, prediction) in enumerate(predictions.items(), start=1):
        _show_image(axes[0, column], prediction, captions.get(label, label))
        axes[1, column].imshow(errors[label], cmap="magma", vmin=0, vmax=top)
        axes[1, column].set_title("|error|", fontsize=9)
        axes[1, column].axis("off")
    fig.tight_layout()
    _save(fig, path)


def save_series(path: str, target: np.ndarray, prediction: np.ndarray, title: str = "") -> None:
    """A 1D signal ``(N, C)`` and its reconstruction."""
    fig, ax = _figure.subplots(figsize=(10, 3))
    ax.plot(target[:, 0], color="0.6", linewidth=1, label="target")
    ax.plot(prediction[:, 0], color="C3", linewidth=0.8, label="fit")
    ax.legend(fontsize=8)
    ax.set_title(title)
    _save(fig, path)
