"""Reconstruction metrics: PSNR and SSIM."""

from __future__ import annotations

import math
from typing import Dict, Optional, Sequence

import numpy as np
import torch
from torch import Tensor


def mse(prediction: Tensor, target: Tensor) -> float:
    """Mean squared error over all elements of two same-shaped tensors."""
    if prediction.shape != target.shape:
        raise ValueError(
            f"prediction shape {tuple(prediction.shape)} differs from target shape {tuple(target.shape)}"
        )
    return float(torch.mean((prediction.double() - target.double()) ** 2))


def psnr(prediction: Tensor, target: Tensor, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB, ``10 log10(range² / MSE)`` (``inf`` for a perfect fit)."""
    error = mse(prediction, target)
    if error == 0.0:
        return math.inf
    return 10.0 * math.log10(data_range**2 / error)


def psnr_from_mse(error: float, data_range: float = 1.0) -> float:
    """``10 log10(range² / error)`` (``inf`` for ``error <= 0``)."""
    return math.inf if error <= 0 else 10.0 * math.log10(data_range**2 / error)


def ssim(prediction: np.ndarray, target: np.ndarray, data_range: float = 1.0) -> Optional[float]:
    """Structural similarity of two images ``(H, W)`` or ``(H, W, C)`` (scikit-image's implementation).

    Returns ``None`` for images too small for the 7x7 window.
    """
    from skimage.metrics import structural_similarity

    if prediction.shape != target.shape:
        raise ValueError(
            f"prediction shape {prediction.shape} differs from target shape {target.shape}"
        )
    if min(prediction.shape[:2]) < 7:
        return None
    channel_axis = -1 if prediction.ndim == 3 else None
    if channel_axis is not None and prediction.shape[-1] == 1:
        prediction, target, channel_axis = prediction[..., 0], target[..., 0], None
    return float(
        structural_similarity(
            prediction.astype(np.float64),
            target.astype(np.float64),
            data_range=data_range,
            channel_axis=channel_axis,
        )
    )


#: PSNR levels (dB) whose first crossing ``metrics.json`` records.
PSNR_MILESTONES = (25.0, 30.0)


def seconds_to_psnr(
    seconds: Sequence[float],
    psnrs: Sequence[Optional[float]],
    levels: Sequence[float] = PSNR_MILESTONES,
) -> Dict[str, Optional[float]]:
    """Wall seconds at the first evaluation whose PSNR reached each level: ``{"25": s, "30": None}``
    (``None``: never reached). ``seconds`` and ``psnrs`` are per-evaluation curves of equal length."""
    if len(seconds) != len(psnrs):
        raise ValueError(
            f"seconds ({len(seconds)}) and psnrs ({len(psnrs)}) must have equal lengths"
        )
    reached: Dict[str, Optional[float]] = {}
    for level in levels:
        first = next((t for t, p in zip(seconds, psnrs) if p is not None and p >= level), None)
        reached[f"{level:g}"] = None if first is None else round(float(first), 3)
    return reached
