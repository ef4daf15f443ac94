"""Boxes of input space and regular grids over them (coordnet.signals' grid convention)."""

from __future__ import annotations

import math
from typing import Any, List, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor, nn

from coordnet.nets.coordinate_net import CoordinateNet
from coordnet.signals.signal import grid_axis

Interval = Tuple[float, float]
Box = Tuple[Interval, ...]
DomainLike = Union[None, Interval, Sequence[Interval]]
ShapeLike = Union[int, Sequence[int]]


def _interval(name: str, value: Any) -> Interval:
    ok = isinstance(value, (tuple, list)) and len(value) == 2
    if ok:
        ok = all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            for v in value
        )
        ok = ok and value[0] < value[1]
    if not ok:
        raise ValueError(
            f"{name} must be an interval (low, high) of finite numbers with low < high, got {value!r}"
        )
    return float(value[0]), float(value[1])


def resolve_domain(domain: DomainLike, dim: int, net: Optional[nn.Module] = None) -> Box:
    """One ``(low, high)`` per coordinate.

    ``domain`` is ``(low, high)`` for every coordinate, one such pair per coordinate, or
    ``None``: the ``signal_domain`` of a :class:`~coordnet.nets.CoordinateNet` ``net``, else
    ``[0, 1]`` (coordnet's convention).
    """
    if domain is None:
        if isinstance(net, CoordinateNet) and len(net.signal_domain) == dim:
            return tuple(net.signal_domain)
        return ((0.0, 1.0),) * dim
    if (
        isinstance(domain, (tuple, list))
        and domain
        and all(isinstance(v, (tuple, list)) for v in domain)
    ):
        if len(domain) != dim:
            raise ValueError(
                f"domain must give one interval per coordinate ({dim}), got {len(domain)}: {domain!r}"
            )
        return tuple(_interval(f"domain[{k}]", v) for k, v in enumerate(domain))
    return (_interval("domain", domain),) * dim


def resolve_shape(shape: ShapeLike, dim: Optional[int] = None) -> Tuple[int, ...]:
    """Grid shape as a tuple of 1 to 3 positive ints (an int means ``dim`` axes of that size)."""
    if isinstance(shape, int) and not isinstance(shape, bool):
        shape = (shape,) * (dim or 1)
    if not isinstance(shape, (tuple, list, torch.Size)) or not (
        1 <= len(shape) <= 3
        and all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in shape)
    ):
        raise ValueError(
            f"shape must be 1 to 3 positive integers (grid samples per axis), got {shape!r}"
        )
    if dim is not None and len(shape) != dim:
        raise ValueError(
            f"shape {tuple(shape)} has {len(shape)} axes but the points have dimension {dim}"
        )
    return tuple(int(n) for n in shape)


def grid_axes(shape: Sequence[int], box: Box) -> Tuple[Tensor, ...]:
    """Sample positions of each axis, ``coordnet.signals.grid_axis(low, high, n)`` (float32 ``(n,)``)."""
    return tuple(grid_axis(low, high, n) for n, (low, high) in zip(shape, box))


class GridSource:
    """Grid points produced on demand, row-major (C) order, ``"ij"`` indexing (as ``Signal.flat``).

    ``source(start, end) -> (end - start, d)`` float32: flat sample ``i`` sits at grid index
    ``unravel(i, shape)`` and has coordinate ``axes[k][index_k]`` along axis ``k``, exactly the
    coordinates of a :class:`~coordnet.signals.Signal` of that grid shape and domain.
    """

    def __init__(self, shape: Sequence[int], box: Box) -> None:
        self.shape = tuple(shape)
        self.box = box
        self._axes: Optional[List[Tensor]] = None  # built on first use, after the memory check
        self.num_points = int(math.prod(self.shape))
        strides, stride = [], 1
        for n in reversed(self.shape):
            strides.append(stride)
            stride *= n
        self.strides = tuple(reversed(strides))

    @property
    def axes(self) -> List[Tensor]:
        """Coordinates along each axis: ``axes[k]`` is ``(shape[k],)`` float32."""
        if self._axes is None:
            self._axes = list(grid_axes(self.shape, self.box))
        return self._axes

    def __call__(self, start: int, end: int) -> Tensor:
        index = torch.arange(start, end, dtype=torch.int64)
        columns = [
            axis[(index // stride) % n]
            for axis, stride, n in zip(self.axes, self.strides, self.shape)
        ]
        return torch.stack(columns, dim=1)

    def points(self) -> Tensor:
        """All grid points ``(N, d)`` at once."""
        return self(0, self.num_points)
