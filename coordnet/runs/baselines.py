"""Classical baselines beside every image comparison: interpolation of the training pixels.

A coordinate network fitted to the training pixels of an image and evaluated on held-out pixels
competes with plain interpolation of the same training pixels. :func:`interpolation_baselines`
computes it with scipy, on the same split and with the same metrics as a fit:

- training pixels on a regular sub-grid (the ``tancik`` split: every other pixel on each axis):
  spline interpolation with :func:`scipy.ndimage.map_coordinates`, order 1 (``bilinear``) and
  order 3 (``bicubic``, a cubic B-spline through the samples), ``mode="mirror"`` at the
  borders (the last odd pixel lies half a training spacing beyond the last even one);
- scattered training pixels (``holdout:F``): none (``scipy.interpolate.griddata`` on a 512²
  image took minutes on a loaded 2-core machine, longer than the fits it would accompany).

Each prediction covers the whole grid; the test PSNR is over the test pixels, SSIM over the whole
image clipped to [0, 1], as :func:`coordnet.runs.run.run_fit` reports a model's; the train PSNR
is ``None`` (an interpolant passes through the training pixels, up to rounding).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import numpy as np

from coordnet.signals import SplitSignal
from coordnet.training.metrics import psnr_from_mse, ssim

#: The regular-grid baselines: name -> spline order of :func:`scipy.ndimage.map_coordinates`.
GRID_ORDERS = {"bilinear": 1, "bicubic": 3}


@dataclass
class Baseline:
    """One interpolation baseline: ``prediction`` ``(*grid_shape, C)`` float64 and its metrics
    (``train_psnr``, ``test_psnr``, ``ssim``; ``None`` where not finite or not defined)."""

    name: str
    method: str
    prediction: np.ndarray
    metrics: Dict[str, Optional[float]]

    @property
    def label(self) -> str:
        return f"baseline: {self.name} interpolation"


def _regular_axes(mask: np.ndarray) -> Optional[List[Tuple[int, int]]]:
    """``(first index, spacing)`` per axis when ``mask`` is exactly a regular sub-grid, else ``None``."""
    axes = []
    for axis in range(mask.ndim):
        other = tuple(a for a in range(mask.ndim) if a != axis)
        index = np.flatnonzero(mask.any(axis=other))
        step = int(index[1] - index[0]) if index.size > 1 else 1
        if index.size == 0 or not np.array_equal(index, np.arange(index[0], index[-1] + 1, step)):
            return None
        axes.append((int(index[0]), step))
    full = np.zeros_like(mask)
    full[tuple(slice(start, None, step) for start, step in axes)] = True
    return axes if np.array_equal(full, mask) else None


def _on_grid(values: np.ndarray, mask: np.ndarray, axes, order: int) -> np.ndarray:
    """Spline interpolation of the sub-grid samples ``values[mask]`` onto every grid point."""
    from scipy import ndimage

    sub = values[tuple(slice(start, None, step) for start, step in axes)]
    where = np.meshgrid(
        *[(np.arange(n) - start) / step for n, (start, step) in zip(mask.shape, axes)],
        indexing="ij",
    )
    channels = [
        ndimage.map_coordinates(sub[..., c], where, order=order, mode="mirror")
        for c in range(values.shape[-1])
    ]
    return np.stack(channels, axis=-1)


def _psnr(prediction: np.ndarray, target: np.ndarray) -> Optional[float]:
    value = psnr_from_mse(float(np.mean((prediction - target) ** 2))) if target.size else None
    return None if value is None or not math.isfinite(value) else value


def interpolation_baselines(parts: SplitSignal) -> List[Baseline]:
    """Bilinear and bicubic interpolation of ``parts``' training pixels onto the whole image, with
    their metrics; ``[]`` for signals that are not 2D images, splits without test pixels and
    training pixels that are not a regular sub-grid."""
    signal = parts.signal
    if signal.kind != "image" or parts.test_mask is None or signal.dim != 2:
        return []
    values = signal.values.numpy().astype(np.float64)
    train = parts.train_mask.numpy()
    test = parts.test_mask.numpy()
    axes = _regular_axes(train)
    if axes is None:
        return []
    baselines = []
    for name, order in GRID_ORDERS.items():
        prediction = _on_grid(values, train, axes, order)
        metrics = {
            "train_psnr": None,  # an interpolant passes through the training pixels
            "test_psnr": _psnr(prediction[test], values[test]),
            "ssim": ssim(np.clip(prediction, 0, 1), values),
        }
        method = f"scipy.ndimage.map_coordinates (spline order {order}, mode mirror)"
        baselines.append(Baseline(name, method, prediction, metrics))
    return baselines
