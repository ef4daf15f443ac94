"""``Signal``: sampled values on a regular grid over a box-shaped coordinate domain."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor

from coordnet.signals.errors import SignalError

KINDS = ("image", "audio", "1d", "volume")
KIND_DIMS = {"image": 2, "audio": 1, "1d": 1, "volume": 3}
DEFAULT_KIND = {1: "1d", 2: "image", 3: "volume"}

Domain = Tuple[Tuple[float, float], ...]


def grid_axis(low: float, high: float, n: int) -> Tensor:
    """Sample positions of one axis, Tancik et al.'s half-open grid ``linspace(low, high, n+1)[:-1]``.

    Returns a float32 tensor ``(n,)``: ``low + (high - low) * i / n`` for ``i = 0..n-1``.
    """
    return torch.linspace(low, high, n + 1, dtype=torch.float64)[:-1].float()


@dataclass(eq=False)
class Signal:
    """Values sampled on a regular ``d``-dimensional grid.

    Attributes:
        values: float32 tensor ``(*grid_shape, channels)``; grid axis ``k`` is coordinate ``k``
            (images: axis 0 = rows, axis 1 = columns). Images hold values in ``[0, 1]``,
            audio in ``[-1, 1]``; other kinds are not range-checked.
        domain: per-axis ``(low, high)``; default ``(0, 1)`` on every axis.
        name: a label (file stem or bundled name).
        kind: ``"image"`` (d=2), ``"audio"`` or ``"1d"`` (d=1), ``"volume"`` (d=3);
            ``None`` infers it from the number of grid axes.
        sample_rate: samples per second of audio signals (``None`` otherwise).

    Sample ``i`` along an axis of ``n`` samples sits at ``low + (high - low) * i / n``
    (the half-open grid of Tancik et al. 2020, ``linspace(low, high, n+1)[:-1]``): the first
    coordinate is ``low`` and the spacing is ``(high - low) / n``.

    ``values`` may be given as a numpy array or any float tensor; it is stored as a
    contiguous float32 tensor. Invalid fields raise :class:`SignalError`.
    """

    values: Tensor
    domain: Optional[Domain] = None
    name: str = "signal"
    kind: Optional[str] = None
    sample_rate: Optional[int] = None

    def __post_init__(self) -> None:
        values = self.values
        if isinstance(values, np.ndarray):
            values = torch.from_numpy(np.ascontiguousarray(values))
        if not isinstance(values, Tensor):
            raise SignalError(
                f"Signal values must be a torch.Tensor or numpy array, got {type(values).__name__}"
            )
        if values.is_complex():
            raise SignalError(f"Signal values must be real, got dtype {values.dtype}")
        if values.dim() < 2 or values.dim() > 4:
            raise SignalError(
                f"Signal values must have shape (*grid_shape, channels) with 1 to 3 grid axes, "
                f"got shape {tuple(values.shape)}"
            )
        if values.numel() == 0:
            raise SignalError(f"Signal values must not be empty, got shape {tuple(values.shape)}")
        values = values.detach().to(torch.float32).contiguous()
        if not torch.isfinite(values).all():
            raise SignalError(f"Signal {self.name!r}: values contain NaN or infinite entries")
        self.values = values
        d = values.dim() - 1

        kind = DEFAULT_KIND[d] if self.kind is None else self.kind
        if kind not in KINDS:
            raise SignalError(f"Signal kind must be one of {', '.join(KINDS)}, got {kind!r}")
        if KIND_DIMS[kind] != d:
            raise SignalError(
                f"a {kind!r} signal has {KIND_DIMS[kind]} grid axes, got values of shape {tuple(values.shape)}"
            )
        self.kind = kind
        if kind == "image":
            low, high = float(values.min()), float(values.max())
            if low < 0.0 or high > 1.0:
                raise SignalError(
                    f"image {self.name!r}: values must lie in [0, 1], got range [{low:g}, {high:g}]"
                )

        self.domain = self._check_domain(self.domain, d)
        if self.sample_rate is not None:
            rate = self.sample_rate
            if isinstance(rate, bool) or not isinstance(rate, (int, np.integer)) or rate <= 0:
                raise SignalError(f"sample_rate must be a positive integer or None, got {rate!r}")
            self.sample_rate = int(rate)
        if not isinstance(self.name, str):
            raise SignalError(f"Signal name must be a str, got {type(self.name).__name__}")

    @staticmethod
    def _check_domain(domain: Optional[Sequence[Sequence[float]]], d: int) -> Domain:
        if domain is None:
            return ((0.0, 1.0),) * d
        try:
            pairs = tuple((float(low), float(high)) for low, high in domain)
        except (TypeError, ValueError) as exc:
            raise SignalError(
                f"domain must be a sequence of {d} (low, high) pairs, got {domain!r}"
            ) from exc
        if len(pairs) != d:
            raise SignalError(
                f"domain must have one (low, high) pair per grid axis ({d}), got {domain!r}"
            )
        for low, high in pairs:
            if not (math.isfinite(low) and math.isfinite(high) and low < high):
                raise SignalError(f"domain pairs must be finite with low < high, got {domain!r}")
        return pairs

    @property
    def dim(self) -> int:
        """Number of coordinate axes ``d`` (1, 2 or 3)."""
        return self.values.dim() - 1

    @property
    def grid_shape(self) -> Tuple[int, ...]:
        """Number of samples along each axis, e.g. ``(H, W)`` for an image."""
        return tuple(self.values.shape[:-1])

    @property
    def channels(self) -> int:
        """Number of value channels ``C`` (1 gray, 3 RGB, 4 RGBA, audio channels, ...)."""
        return int(self.values.shape[-1])

    @property
    def num_points(self) -> int:
        """Number of grid points ``N = prod(grid_shape)``."""
        return int(math.prod(self.grid_shape))

    @property
    def box(self) -> Domain:
        """The per-axis ``(low, high)`` pairs: :attr:`domain` as validation set it."""
        if self.domain is None:  # pragma: no cover - __post_init__ always sets it
            raise SignalError("the signal has no domain")
        return self.domain

    def axis_coordinates(self, axis: int) -> Tensor:
        """Positions ``(n_axis,)`` of the samples along grid axis ``axis`` (float32)."""
        if not -self.dim <= axis < self.dim:
            raise SignalError(f"axis must be in [-{self.dim}, {self.dim}), got {axis!r}")
        low, high = self.box[axis]
        return grid_axis(low, high, self.grid_shape[axis])

    def coordinates(self) -> Tensor:
        """Coordinates of every sample: float32 ``(*grid_shape, d)``.

        ``coordinates()[i0, i1, ..., k]`` is the position of sample ``(i0, i1, ...)`` along
        axis ``k`` (``"ij"`` indexing). Tancik et al.'s notebook stacks ``meshgrid(x, x)``
        (``"xy"`` indexing: ``(column, row)``), i.e. the last dimension reversed; the two are
        equivalent for their isotropic Gaussian ``B``.
        """
        axes = [self.axis_coordinates(k) for k in range(self.dim)]
        return torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1)

    def flat(self) -> Tuple[Tensor, Tensor]:
        """``(coords (N, d), values (N, C))`` in row-major (C) order of the grid."""
        return self.coordinates().reshape(-1, self.dim), self.values.reshape(-1, self.channels)

    def __repr__(self) -> str:
        extra = f", sample_rate={self.sample_rate}" if self.sample_rate is not None else ""
        return (
            f"Signal(name={self.name!r}, kind={self.kind!r}, grid_shape={self.grid_shape}, "
            f"channels={self.channels}, domain={self.domain}{extra})"
        )
