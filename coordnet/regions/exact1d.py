"""Exact count of the activation regions a line segment crosses: a walk from breakpoint to breakpoint.

Along a segment ``x(t) = start + t (end - start)``, ``t ∈ [0, 1]``, every pre-activation is
affine in ``t`` as long as the activation pattern is fixed. The walk, in float64, takes each
unit's value and slope at the current point (the slope by composing the layers' linear maps
under the current pattern), jumps to the smallest root ahead over all units (the next
breakpoint), decides there which units are at zero and sets each of them from the sign of
its slope with the new states of the layers before it (so simultaneous crossings of several
units, and units that only touch zero, come out right), and counts the breakpoints where
the pattern changes. Activation regions are convex, so the segment meets each region in at
most one piece: the number of pieces is the number of regions it crosses.

Units whose pre-activation is identically zero along (part of) the segment count as off, as
everywhere in :mod:`coordnet.regions` (a unit is on iff its pre-activation is ``> 0``).
Regions are counted when the segment passes through them along a piece of positive length;
a pattern seen at a single point only (a segment end on a boundary, a crossing point) is
not a region crossed.

Input map rule: the walk runs in the input space of the first hidden layer, so the map from
input points to it must be affine: none, ``CoordinateNet``'s coordinate scaling, or an
:class:`~coordnet.encoders.Identity` encoder. For any other encoder (Fourier features,
positional encoding, ...) the pre-activations are not piecewise affine along the segment
and a ``ValueError`` is raised; count sampled points instead
(:func:`~coordnet.regions.count_regions`, or :func:`~coordnet.regions.region_density` with
``samples_per_line``).
"""

from __future__ import annotations

from typing import List, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor

from coordnet.regions.network import ReluNetwork, relu_network

PointLike = Union[Tensor, Sequence[float], np.ndarray]

#: Pre-activations within this fraction of their magnitude scale of zero count as zero at a
#: breakpoint (crossing there). The scale is the sum of absolute terms that formed the value,
#: ``|W| s + |b|`` with ``s = |p0| + t |v|`` at the input, propagated layer by layer; float64
#: rounding is ~1e-16 of it. Slopes within this fraction of ``|W| |dh|`` count as flat.
ZERO_TOLERANCE = 1e-10
#: The walk stops with an error after this many breakpoints (a safeguard, never reached
#: by networks of realistic size).
MAX_BREAKPOINTS = 10_000_000


def _point(name: str, value: PointLike, dim: int) -> Tensor:
    try:
        raw = value.detach().cpu() if isinstance(value, Tensor) else value
        point = torch.as_tensor(np.asarray(raw, dtype=np.float64))
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be a point of {dim} numbers, got {value!r:.80}") from error
    if point.dim() == 0 and dim == 1:
        point = point.reshape(1)
    if point.shape != (dim,):
        raise ValueError(f"{name} must have shape ({dim},), got {tuple(point.shape)}")
    if not torch.isfinite(point).all():
        raise ValueError(f"{name} must be finite, got {point.tolist()}")
    return point


class _Walker:
    """The float64 layers of a network and one step of the walk."""

    def __init__(self, network: ReluNetwork) -> None:
        self.weights: List[np.ndarray] = []
        self.abs_weights: List[np.ndarray] = []
        self.biases: List[np.ndarray] = []
        for layer in network.hidden:
            weight = layer.weight.detach().to("cpu", torch.float64).numpy()
            bias = np.zeros(weight.shape[0])
            if layer.bias is not None:
                bias = layer.bias.detach().to("cpu", torch.float64).numpy()
            self.weights.append(weight)
            self.abs_weights.append(np.abs(weight))
            self.biases.append(bias)

    def state(
        self,
        x: np.ndarray,
        v: np.ndarray,
        magnitude: np.ndarray,
        forced: Tuple[int, int] = (-1, -1),
    ):
        """Values, slopes and pattern just after the point ``x`` when moving along ``v``.

        ``magnitude`` bounds the size of the terms that formed ``x`` (``|p0| + t |v|``): the
        rounding error of every value is judged against the same sum of absolute terms
        propagated through the layers. ``forced = (layer, unit)`` is a unit known to cross
        here (treated as zero). Returns per layer ``(z, dz, on, at_zero)``: value, slope with
        the right-hand pattern, the right-hand pattern, and which units sit at zero here.
        """
        layers = []
        h, dh, size = x, v, magnitude
        for index, (weight, abs_weight, bias) in enumerate(
            zip(self.weights, self.abs_weights, self.biases)
        ):
            z = weight @ h + bias
            dz = weight @ dh
            scale = abs_weight @ size + np.abs(bias)
            at_zero = np.abs(z) <= ZERO_TOLERANCE * scale
            if forced[0] == index:
                at_zero[forced[1]] = True
            rising = dz > ZERO_TOLERANCE * (abs_weight @ np.abs(dh))
            on = np.where(at_zero, rising, z > 0)
            z = np.where(at_zero, 0.0, z)
            h = np.where(on, z, 0.0)
            dh = np.where(on, dz, 0.0)
            size = np.where(on, scale, 0.0)
            layers.append((z, dz, on, at_zero))
        return layers

    @staticmethod
    def next_crossing(layers) -> Tuple[float, Tuple[int, int]]:
        """Smallest ``Δt > 0`` at which a unit reaches zero on the current affine piece, and that unit."""
        best, where = np.inf, (-1, -1)
        for index, (z, dz, on, at_zero) in enumerate(layers):
            heading = ~at_zero & np.where(on, dz < 0, dz > 0)
            if not heading.any():
                continue
            steps = np.full(z.shape, np.inf)
            steps[heading] = np.abs(z[heading]) / np.abs(dz[heading])
            unit = int(np.argmin(steps))
            if steps[unit] < best:
                best, where = float(steps[unit]), (index, unit)
        return best, where


def _segment(
    network: ReluNetwork, start: PointLike, end: PointLike
) -> Tuple[np.ndarray, np.ndarray]:
    """``(p0, v)``: the segment's start and direction in the first hidden layer's input space."""
    if not network.input_map_is_affine:
        raise ValueError(
            f"exact counting along a segment needs an affine input map, but the network's encoder is "
            f"{network.input_map_name}, which is not affine; count sampled points instead "
            "(count_regions, or region_density with samples_per_line)"
        )
    ends = torch.stack([_point("start", start, network.in_dim), _point("end", end, network.in_dim)])
    with torch.no_grad():
        encoded = network.encode(ends, dtype=torch.float64).cpu().numpy().astype(np.float64)
    return encoded[0], encoded[1] - encoded[0]


def breakpoints_1d(net, start: PointLike, end: PointLike) -> Tensor:
    """Where the segment ``start -> end`` passes from one activation region to the next.

    Args:
        net: a ReLU model (see :func:`~coordnet.regions.relu_network`) whose input map is
            affine (see the module docstring).
        start, end: ``(d,)`` points in input space (signal coordinates for a ``CoordinateNet``).

    Returns:
        ``(K,)`` float64 parameters ``t`` in ``(0, 1)``, increasing: at ``start + t (end -
        start)`` the activation pattern changes. The segment crosses ``K + 1`` regions.
    """
    network = relu_network(net)
    p0, v = _segment(network, start, end)
    walker = _Walker(network)
    found: List[float] = []
    if not walker.weights:
        return torch.zeros(0, dtype=torch.float64)
    t = 0.0
    layers = walker.state(p0, v, np.abs(p0))
    while True:
        step, unit = walker.next_crossing(layers)
        t_next = t + step
        if not t_next < 1.0:
            break
        if t_next <= t:  # a crossing closer than float64 resolves: move by one ulp
            t_next = float(np.nextafter(t, 2.0))
        following = walker.state(p0 + t_next * v, v, np.abs(p0) + t_next * np.abs(v), unit)
        if any(np.any(a[2] != b[2]) for a, b in zip(layers, following)):
            found.append(t_next)
            if len(found) > MAX_BREAKPOINTS:
                raise RuntimeError(
                    f"breakpoints_1d: more than {MAX_BREAKPOINTS} breakpoints; stopped"
                )
        t, layers = t_next, following
    return torch.tensor(found, dtype=torch.float64)


def exact_count_1d(net, start: PointLike, end: PointLike) -> int:
    """Exact number of activation regions the segment ``start -> end`` crosses.

    Walks from ``t = 0`` to ``t = 1`` breakpoint to breakpoint in float64 (see
    :mod:`coordnet.regions.exact1d`, including the rule for encoders: the input map must be
    affine, else ``ValueError``). ``len(breakpoints_1d(net, start, end)) + 1``.
    """
    return int(breakpoints_1d(net, start, end).numel()) + 1
