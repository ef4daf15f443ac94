"""Train/test splits of a signal's grid: full, Tancik et al.'s even/odd, random hold-out."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Tuple

import torch
from torch import Tensor

from coordnet.signals.errors import SignalError
from coordnet.signals.signal import Signal

SPLITS = ("full", "tancik", "holdout:<fraction>")
DEFAULT_HOLDOUT = 0.1


@dataclass(eq=False)
class SplitSignal:
    """A signal's points divided into a training and a test set.

    Attributes:
        signal: the signal that was split.
        split: the split specification, normalised (``"full"``, ``"tancik"``, ``"holdout:0.1"``).
        train_mask: bool ``grid_shape`` tensor, ``True`` at training points.
        test_mask: bool ``grid_shape`` tensor, ``True`` at test points; ``None`` for ``"full"``.
        train_coords: ``(N_train, d)`` float32, in row-major order of the grid.
        train_values: ``(N_train, C)`` float32.
        test_coords: ``(N_test, d)`` or ``None``.
        test_values: ``(N_test, C)`` or ``None``.
        train_grid_shape: grid shape the training points form when they are a regular
            sub-grid (``"full"``, ``"tancik"``), so ``train_values.reshape(*train_grid_shape, C)``
            is an image; ``None`` for random hold-outs.
        test_grid_shape: same for the test points.
    """

    signal: Signal
    split: str
    train_mask: Tensor
    test_mask: Optional[Tensor]
    train_coords: Tensor
    train_values: Tensor
    test_coords: Optional[Tensor]
    test_values: Optional[Tensor]
    train_grid_shape: Optional[Tuple[int, ...]]
    test_grid_shape: Optional[Tuple[int, ...]]

    @property
    def num_train(self) -> int:
        return int(self.train_coords.shape[0])

    @property
    def num_test(self) -> int:
        return 0 if self.test_coords is None else int(self.test_coords.shape[0])


def parse_split(split: str) -> Tuple[str, Optional[float]]:
    """``"full" -> ("full", None)``, ``"tancik"``, ``"holdout:0.2" -> ("holdout", 0.2)``.

    ``"holdout"`` alone means ``holdout:0.1``. Raises :class:`SignalError` (a ``ValueError``)
    for anything else, listing the valid splits.
    """
    if not isinstance(split, str):
        raise SignalError(f"split must be a str, one of {', '.join(SPLITS)}; got {split!r}")
    text = split.strip().lower()
    if text in ("full", "tancik"):
        return text, None
    if text == "holdout":
        return "holdout", DEFAULT_HOLDOUT
    if text.startswith("holdout:"):
        raw = text.split(":", 1)[1]
        try:
            fraction = float(raw)
        except ValueError:
            raise SignalError(
                f"split {split!r}: hold-out fraction must be a number in (0, 1), got {raw!r}"
            ) from None
        if not (math.isfinite(fraction) and 0.0 < fraction < 1.0):
            raise SignalError(
                f"split {split!r}: hold-out fraction must lie strictly between 0 and 1, got {fraction:g}"
            )
        return "holdout", fraction
    raise SignalError(f"unknown split {split!r}; valid splits: {', '.join(SPLITS)}")


def _parity_mask(grid_shape: Tuple[int, ...], parity: int) -> Tensor:
    mask = torch.ones(grid_shape, dtype=torch.bool)
    for axis, n in enumerate(grid_shape):
        along = (torch.arange(n) % 2) == parity
        shape = [1] * len(grid_shape)
        shape[axis] = n
        mask &= along.reshape(shape)
    return mask


def split_signal(signal: Signal, split: str = "full", seed: int = 0) -> SplitSignal:
    """Divide ``signal``'s grid points into training and test points.

    Splits:
        ``"full"``: train on every point, no test set.
        ``"tancik"``: Tancik et al. 2020's protocol: train on the points with even index on
            every axis (``values[::2, ::2]``), test on those with odd index on every axis
            (``values[1::2, 1::2]``), whose coordinates are the training ones shifted by one
            grid spacing, half the training spacing. Points with mixed parity are in neither
            set. Works for 1D (even/odd samples) and 3D alike; every axis needs >= 2 samples.
        ``"holdout:<f>"``: a random fraction ``f`` in (0, 1) of the points (rounded, at least
            one, leaving at least one) is the test set, drawn with ``torch.Generator`` seeded
            by ``seed``; the same seed gives the same split.

    Returns:
        :class:`SplitSignal` with masks over ``grid_shape`` and flattened ``(N, d)`` / ``(N, C)``
        coordinates and values in row-major grid order.
    """
    if not isinstance(signal, Signal):
        raise SignalError(f"signal must be a Signal, got {type(signal).__name__}")
    mode, fraction = parse_split(split)
    grid = signal.grid_shape
    coords = signal.coordinates()
    values = signal.values
    train_shape: Optional[Tuple[int, ...]] = None
    test_shape: Optional[Tuple[int, ...]] = None

    if mode == "full":
        name = "full"
        train_mask = torch.ones(grid, dtype=torch.bool)
        test_mask = None
        train_shape = grid
    elif mode == "tancik":
        name = "tancik"
        if min(grid) < 2:
            raise SignalError(
                f"split 'tancik' needs at least 2 samples along every axis, signal {signal.name!r} has grid {grid}"
            )
        train_mask = _parity_mask(grid, 0)
        test_mask = _parity_mask(grid, 1)
        train_shape = tuple((n + 1) // 2 for n in grid)
        test_shape = tuple(n // 2 for n in grid)
    else:
        assert fraction is not None
        name = f"holdout:{fraction:g}"
        n = signal.num_points
        if n < 2:
            raise SignalError(
                f"split {split!r} needs at least 2 points, signal {signal.name!r} has {n}"
            )
        n_test = min(max(int(round(fraction * n)), 1), n - 1)
        generator = torch.Generator().manual_seed(int(seed))
        order = torch.randperm(n, generator=generator)
        flat_test = torch.zeros(n, dtype=torch.bool)
        flat_test[order[:n_test]] = True
        test_mask = flat_test.reshape(grid)
        train_mask = ~test_mask

    test_coords = test_values = None
    if test_mask is not None:
        test_coords, test_values = coords[test_mask], values[test_mask]
    return SplitSignal(
        signal=signal,
        split=name,
        train_mask=train_mask,
        test_mask=test_mask,
        train_coords=coords[train_mask],
        train_values=values[train_mask],
        test_coords=test_coords,
        test_values=test_values,
        train_grid_shape=train_shape,
        test_grid_shape=test_shape,
    )
