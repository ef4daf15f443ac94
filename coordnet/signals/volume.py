"""3D occupancy volumes: procedural shapes on an ``n^3`` grid, ``.npy`` volumes, and IoU.

Procedural shapes are evaluated at the grid's sample coordinates
(``Signal.coordinates()``, half-open grid in ``[0, 1]^3``), so the stored occupancy is exactly
the shape's indicator at the coordinates a network is trained on.
"""

from __future__ import annotations

import math
from typing import Callable, Dict, Optional, Union

import numpy as np
import torch
from torch import Tensor

from coordnet.signals._files import (
    PathLike,
    check_volume_memory,
    existing_file,
    finite_float32,
    read_npy,
)
from coordnet.signals.errors import SignalError
from coordnet.signals.signal import Signal, grid_axis

DEFAULT_RESOLUTION = 64


def _sphere(x: Tensor, y: Tensor, z: Tensor) -> Tensor:
    """Ball of radius 0.35 centred at (0.5, 0.5, 0.5): ~18% of the cube."""
    return (x - 0.5) ** 2 + (y - 0.5) ** 2 + (z - 0.5) ** 2 <= 0.35**2


def _torus(x: Tensor, y: Tensor, z: Tensor) -> Tensor:
    """Torus around the axis-2 line through the centre: major radius 0.3, minor 0.12 (~8.5%)."""
    ring = torch.sqrt((x - 0.5) ** 2 + (y - 0.5) ** 2) - 0.3
    return ring**2 + (z - 0.5) ** 2 <= 0.12**2


def _gyroid(x: Tensor, y: Tensor, z: Tensor) -> Tensor:
    """Gyroid sheet with 4 periods per axis, ``|g| <= 0.4`` (~27%): high frequency everywhere."""
    k = 2.0 * math.pi * 4.0
    g = (
        torch.sin(k * x) * torch.cos(k * y)
        + torch.sin(k * y) * torch.cos(k * z)
        + torch.sin(k * z) * torch.cos(k * x)
    )
    return g.abs() <= 0.4


def _bumpy_sphere(x: Tensor, y: Tensor, z: Tensor) -> Tensor:
    """Ball whose radius 0.3 is modulated by ``±0.06 sin(6 θ) sin(6 φ)`` (~11%): fine surface detail."""
    dx, dy, dz = x - 0.5, y - 0.5, z - 0.5
    r = torch.sqrt(dx**2 + dy**2 + dz**2)
    theta = torch.acos(torch.clamp(dz / torch.clamp(r, min=1e-12), -1.0, 1.0))
    phi = torch.atan2(dy, dx)
    radius = 0.3 + 0.06 * torch.sin(6.0 * theta) * torch.sin(6.0 * phi)
    return r <= radius


SHAPES: Dict[str, Callable[[Tensor, Tensor, Tensor], Tensor]] = {
    "sphere": _sphere,
    "torus": _torus,
    "gyroid": _gyroid,
    "bumpy_sphere": _bumpy_sphere,
}
VOLUME_SHAPES = tuple(SHAPES)


def make_volume(shape: str, resolution: int = DEFAULT_RESOLUTION) -> Signal:
    """A procedural occupancy volume: ``values (n, n, n, 1)`` of 0/1 floats over ``[0, 1]^3``.

    Args:
        shape: one of :data:`VOLUME_SHAPES`: ``"sphere"``, ``"torus"``, ``"gyroid"``
            (high-frequency sheet), ``"bumpy_sphere"`` (ball with a rippled surface).
        resolution: ``n``, samples per axis (>= 2); a volume beyond the memory limit raises
            :class:`~coordnet.memory_limit.MemoryLimitError` before anything is allocated.
    """
    if shape not in SHAPES:
        raise SignalError(f"unknown volume shape {shape!r}; available: {', '.join(VOLUME_SHAPES)}")
    if (
        isinstance(resolution, bool)
        or not isinstance(resolution, (int, np.integer))
        or resolution < 2
    ):
        raise SignalError(f"resolution must be an int >= 2, got {resolution!r}")
    n = int(resolution)
    check_volume_memory(n, f"the {shape} volume")
    axis = grid_axis(0.0, 1.0, n).double()
    x, y, z = torch.meshgrid(axis, axis, axis, indexing="ij")
    occupancy = SHAPES[shape](x, y, z).to(torch.float32).unsqueeze(-1)
    return Signal(occupancy, name=shape, kind="volume")


def volume_from_array(
    array: np.ndarray,
    name: str = "volume",
    threshold: Optional[float] = None,
    source: str = "volume",
) -> Signal:
    """A volume :class:`Signal` ``(D, H, W, 1)`` from a ``(D, H, W)`` array.

    Args:
        threshold: ``None`` keeps the values, which must lie in ``[0, 1]`` (bools give 0/1);
            a number gives occupancy ``values > threshold`` as 0/1 floats.
    """
    array = np.asarray(array)
    if array.ndim != 3:
        raise SignalError(f"{source}: a volume must have shape (D, H, W), got {tuple(array.shape)}")
    if min(array.shape) == 0:
        raise SignalError(f"{source}: volume is empty, shape {tuple(array.shape)}")
    if not (array.dtype == np.bool_ or np.issubdtype(array.dtype, np.number)) or np.iscomplexobj(
        array
    ):
        raise SignalError(f"{source}: volume dtype must be real numeric or bool, got {array.dtype}")
    values = finite_float32(array, source)
    if threshold is not None:
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, (int, float))
            or not math.isfinite(threshold)
        ):
            raise SignalError(f"threshold must be a finite number or None, got {threshold!r}")
        values = (values > threshold).astype(np.float32)
    elif values.min() < 0.0 or values.max() > 1.0:
        raise SignalError(
            f"{source}: volume values must lie in [0, 1] (got [{values.min():g}, {values.max():g}]); "
            f"pass a threshold to binarise them"
        )
    return Signal(
        torch.from_numpy(np.ascontiguousarray(values)[..., None]), name=name, kind="volume"
    )


def load_volume(path: PathLike, threshold: Optional[float] = None) -> Signal:
    """Load a ``(D, H, W)`` ``.npy`` volume; see :func:`volume_from_array` for ``threshold``."""
    p = existing_file(path, ".npy")
    return volume_from_array(
        read_npy(p), name=p.stem, threshold=threshold, source=f"volume {str(p)!r}"
    )


def _occupancy(x: Union[Tensor, np.ndarray, Signal], argument: str) -> Tensor:
    if isinstance(x, Signal):
        x = x.values
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(x)
    if not isinstance(x, Tensor):
        raise TypeError(
            f"iou: {argument} must be a tensor, numpy array or Signal, got {type(x).__name__}"
        )
    return x.detach()


def iou(
    pred_occupancy: Union[Tensor, np.ndarray, Signal],
    target_occupancy: Union[Tensor, np.ndarray, Signal],
    threshold: float = 0.5,
) -> float:
    """Intersection over union of two occupancy grids of the same shape (any shape).

    A point is occupied where its value is ``> threshold``. Two empty grids have IoU 1.0
    (they agree everywhere).
    """
    pred = _occupancy(pred_occupancy, "pred_occupancy")
    target = _occupancy(target_occupancy, "target_occupancy")
    if pred.shape != target.shape:
        raise ValueError(
            f"iou: pred_occupancy shape {tuple(pred.shape)} differs from target_occupancy shape {tuple(target.shape)}"
        )
    p, t = pred > threshold, target > threshold
    union = int((p | t).sum())
    if union == 0:
        return 1.0
    return int((p & t).sum()) / union
