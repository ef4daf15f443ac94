"""Multiresolution grid encoding (instant-NGP's hash grid): level geometry and pure-PyTorch reference.

The reference is the oracle of the compiled kernels (``csrc/include/coordnet/hashgrid.h``) and
the path used where they are missing. Notation shared with the kernels:

* ``x`` ``(N, d)`` positions, ``d`` in 1..4; ``table`` ``(P, F)`` feature vectors, the levels'
  tables one after the other (level ``l`` owns entries ``offset_l .. offset_l + size_l - 1``);
  this is tiny-cuda-nn's flat parameter layout and nerfstudio's ``hash_table``.
* Level ``l`` has a float scale ``s_l``. A coordinate maps to ``p = s_l x + shift`` (tiny-cuda-nn:
  ``shift = 0.5``, one fused multiply-add in float32; nerfstudio: ``shift = 0``). The cell is
  ``c = floor(p)``, the fraction ``t = p - c``; interpolation weights are ``t`` (linear),
  ``t² (3 - 2t)`` (smoothstep), or the single vertex ``c`` (nearest, i.e. the vertex nearest to
  ``s_l x`` with tiny-cuda-nn's half-cell shift).
* Integer vertex coordinates are taken modulo 2³² (tiny-cuda-nn's ``uint32`` arithmetic). A
  vertex ``v`` maps to the entry ``index(v) mod size_l`` with ``index`` either the dense
  row-major index ``Σ_j v_j R^j`` (``R`` the level's resolution, modulo 2³²) or the hash
  ``XOR_j v_j π_j`` (modulo 2³², ``π = 1, 2654435761, 805459861, 3674653429``), or 0 for
  tiny-cuda-nn's dense/tiled levels too fine to index without overflow.
* Output ``(N, L·F)``: level-major, the ``F`` features of a level contiguous.
* float64 inputs are computed in float64 throughout (with the same float32-valued scales).

Scales of the ``"tcnn"`` geometry are the correctly rounded float32 values of tiny-cuda-nn's
formula, as its host code computes them; its GPU kernels recompute them with the device
``exp2f`` (up to 2 ulp off), so for per-level scales that are not powers of two tiny-cuda-nn
itself can differ from this by about 1e-7 relative in the grid position.

Inputs outside ``[0, 1]``: hashed levels hash any vertex; dense and tiled levels wrap (the index
is taken modulo 2³² and then modulo the level size), exactly as tiny-cuda-nn does. Positions
``p`` are clamped to ``[-2³⁰, 2³⁰]`` first, so every finite or infinite input gives finite
features (and a zero gradient where clamped); NaN inputs give NaN features for linear and
smoothstep interpolation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor

from coordnet.ops import grid_arguments, limits
from coordnet.ops.grid_arguments import check_grid_arguments

INTERPOLATIONS = limits.HASHGRID_INTERPOLATIONS
GRID_TYPES = grid_arguments.GRID_TYPES
CONVENTIONS = ("tcnn", "nerfstudio")

MODE_DENSE = limits.HASHGRID_MODE_DENSE
MODE_HASH = limits.HASHGRID_MODE_HASH
MODE_ZERO = limits.HASHGRID_MODE_ZERO
PRIMES = (1, 2654435761, 805459861, 3674653429)
MAX_DIMS = limits.HASHGRID_MAX_DIMS
# Largest resolution whose dense index tiny-cuda-nn computes without uint32 overflow, per d.
MAX_DENSE_RESOLUTION = {1: 0xFFFFFFFF, 2: 0xFFFF, 3: 0x659, 4: 0xFF}
# Positions are clamped to this magnitude before the cell is taken (any float with |p| >= 2^24
# is an integer, so this only matters for inputs far outside the domain).
POSITION_LIMIT = limits.HASHGRID_POSITION_LIMIT
MASK32 = 0xFFFFFFFF
MAX_ENTRIES = limits.HASHGRID_MAX_LEVEL_SIZE


@dataclass(frozen=True)
class GridLevels:
    """Geometry of a multiresolution grid: everything but the table values.

    Attributes:
        in_dim: ``d``.
        num_features_per_level: ``F``.
        scales: per level, the float ``s_l`` multiplying the input (exactly representable in float32).
        resolutions: per level, vertices per axis ``R_l`` (the dense index stride).
        sizes: per level, table entries ``size_l``.
        offsets: per level, index of the level's first entry in the table.
        modes: per level, ``MODE_DENSE``, ``MODE_HASH`` or ``MODE_ZERO``.
        shift: added to ``s_l x`` (0.5 for tiny-cuda-nn, 0 for nerfstudio).
        ceil_corner: the upper vertex is ``ceil(p)`` rather than ``floor(p) + 1`` (nerfstudio: at
            integer ``p`` both vertices coincide).
    """

    in_dim: int
    num_features_per_level: int
    scales: Tuple[float, ...]
    resolutions: Tuple[int, ...]
    sizes: Tuple[int, ...]
    offsets: Tuple[int, ...]
    modes: Tuple[int, ...]
    shift: float
    ceil_corner: bool

    @property
    def num_levels(self) -> int:
        return len(self.scales)

    @property
    def num_entries(self) -> int:
        """Rows of the table ``P``."""
        return self.offsets[-1] + self.sizes[-1]

    @property
    def num_params(self) -> int:
        """``P · F``: length of the flat parameter vector."""
        return self.num_entries * self.num_features_per_level

    @property
    def out_dim(self) -> int:
        return self.num_levels * self.num_features_per_level

    def flat_levels(self) -> List[int]:
        """``offset, size, resolution, mode`` of every level in one list (the kernels' ``levels``)."""
        return [
            v for row in zip(self.offsets, self.sizes, self.resolutions, self.modes) for v in row
        ]

    @classmethod
    def from_flat(
        cls,
        in_dim: int,
        num_features_per_level: int,
        scales: Sequence[float],
        flat: Sequence[int],
        shift: float,
        ceil_corner: bool,
    ) -> "GridLevels":
        """Inverse of :meth:`flat_levels` (with the scales and the other fields given)."""
        rows = [tuple(flat[i : i + 4]) for i in range(0, len(flat), 4)]
        offsets, sizes, resolutions, modes = (tuple(int(r[k]) for r in rows) for k in range(4))
        return cls(
            in_dim,
            num_features_per_level,
            tuple(float(s) for s in scales),
            resolutions,
            sizes,
            offsets,
            modes,
            float(shift),
            bool(ceil_corner),
        )


def next_multiple(value: int, divisor: int) -> int:
    """The smallest multiple of ``divisor`` that is ``>= value`` (tiny-cuda-nn's ``next_multiple``)."""
    return (value + divisor - 1) // divisor * divisor


def tcnn_levels(
    in_dim: int,
    num_levels: int,
    num_features_per_level: int,
    log2_table_size: int,
    min_resolution: int,
    growth: float,
    grid_type: str = "hash",
) -> GridLevels:
    """tiny-cuda-nn's level geometry (``GridEncodingTemplated``).

    Scale ``s_l = 2^(l · log2 b) · N_min - 1`` in float32 (the ``-1`` makes ``N_min`` count
    vertices, not cells), resolution ``ceil(s_l) + 1``; a level needs ``R^d`` entries rounded up
    to a multiple of 8, capped at ``2^log2_table_size`` for hash grids (the level is hashed
    when that cap bites) and at ``N_min^d`` for tiled grids (the dense index wraps).
    Bad arguments: ``ValueError`` naming them (:func:`~coordnet.ops.grid_arguments.check_grid_arguments`).
    """
    check_grid_arguments(
        "tcnn_levels",
        in_dim,
        num_levels,
        num_features_per_level,
        log2_table_size,
        min_resolution,
        growth,
        grid_type,
    )
    f32 = np.float32
    # log2 and exp2 evaluated in double and rounded once to float32: the correctly rounded
    # float32 results that tiny-cuda-nn's host code (std::log2, exp2f) computes.
    log2_scale = f32(math.log2(float(f32(growth))))
    scales, resolutions, sizes, offsets, modes = [], [], [], [], []
    offset = 0
    max_params = MASK32 // 2
    for level in range(num_levels):
        scale = f32(f32(2.0 ** float(f32(level) * log2_scale)) * f32(min_resolution)) - f32(1.0)
        resolution = int(math.ceil(float(scale))) + 1
        dense = (
            max_params
            if float(f32(resolution)) ** in_dim > float(f32(max_params))
            else resolution**in_dim
        )
        size = next_multiple(dense, 8)
        if grid_type == "tiled":
            size = min(size, min_resolution**in_dim)
        elif grid_type == "hash":
            size = min(size, 1 << log2_table_size)
        stride = resolution**in_dim if resolution <= MAX_DENSE_RESOLUTION[in_dim] else MASK32
        if grid_type == "hash" and size < stride:
            mode = MODE_HASH
        elif resolution > MAX_DENSE_RESOLUTION[in_dim]:
            mode = MODE_ZERO
        else:
            mode = MODE_DENSE
        scales.append(float(scale))
        resolutions.append(resolution)
        sizes.append(size)
        offsets.append(offset)
        modes.append(mode)
        offset += size
    return GridLevels(
        in_dim,
        num_features_per_level,
        tuple(scales),
        tuple(resolutions),
        tuple(sizes),
        tuple(offsets),
        tuple(modes),
        0.5,
        False,
    )


def nerfstudio_levels(
    in_dim: int,
    num_levels: int,
    num_features_per_level: int,
    log2_table_size: int,
    min_resolution: int,
    growth: float,
) -> GridLevels:
    """nerfstudio's torch ``HashEncoding`` geometry: scales ``floor(N_min · b^l)`` (computed as it
    does, in float32), every level hashed into its own ``2^log2_table_size`` entries, no shift.
    Bad arguments: ``ValueError`` naming them (:func:`~coordnet.ops.grid_arguments.check_grid_arguments`)."""
    check_grid_arguments(
        "nerfstudio_levels",
        in_dim,
        num_levels,
        num_features_per_level,
        log2_table_size,
        min_resolution,
        growth,
    )
    scalings = torch.floor(min_resolution * float(growth) ** torch.arange(num_levels))
    scales = tuple(float(s) for s in scalings.tolist())
    size = 1 << log2_table_size
    return GridLevels(
        in_dim,
        num_features_per_level,
        scales,
        tuple(int(s) + 1 for s in scales),
        (size,) * num_levels,
        tuple(level * size for level in range(num_levels)),
        (MODE_HASH,) * num_levels,
        0.0,
        True,
    )


def _mul32(a: Tensor, b: int) -> Tensor:
    """``a · b mod 2³²`` for int64 ``a`` in ``[0, 2³²)`` and ``b`` in ``[0, 2³²)``, without int64 overflow."""
    low = (a & 0xFFFF) * b
    high = (((a >> 16) * b) & 0xFFFF) << 16
    return (low + high) & MASK32


def _smoothstep(t: Tensor) -> Tensor:
    return t * t * (3.0 - 2.0 * t)


def _positions(x: Tensor, scale: float, shift: float) -> Tensor:
    """``scale · x + shift`` rounded once (tiny-cuda-nn's ``fmaf``) and clamped: ``(N, d)``."""
    if x.dtype == torch.float32:
        p = (x.double() * scale + shift).float()
    else:
        p = x * scale + shift
    return p.clamp(-POSITION_LIMIT, POSITION_LIMIT)


def _axis_terms(vertex: Tensor, j: int, mode: int, resolution: int, size: int) -> Tensor:
    """Index contribution of vertex coordinates (uint32 values in int64) along axis ``j``.

    Hashed levels have power-of-two sizes, so only the low ``log2(size)`` bits of the hash
    matter and they are computed without overflow on operands reduced to those bits."""
    if mode == MODE_HASH and size & (size - 1) == 0:
        mask = size - 1
        return (vertex & mask) * (PRIMES[j] & mask)
    factor = PRIMES[j] if mode == MODE_HASH else pow(resolution, j, 2**32)
    return vertex if factor == 1 else _mul32(vertex, factor)


def _level_rows(
    cell: Tensor, upper: Tensor, levels: GridLevels, level: int, corners: int
) -> Tensor:
    """Table rows of the ``corners`` vertices around each point, ``(N, corners)``: corner ``c``
    takes the upper vertex along axis ``j`` when bit ``j`` of ``c`` is set."""
    n, d = cell.shape
    size, offset, mode = levels.sizes[level], levels.offsets[level], levels.modes[level]
    if mode == MODE_ZERO:
        return torch.full((n, corners), offset, dtype=torch.int64, device=cell.device)
    resolution = levels.resolutions[level]
    index = None
    for j in range(d):
        lo = _axis_terms(cell[:, j : j + 1], j, mode, resolution, size)
        if corners == 1:
            parts = lo
        else:
            parts = torch.cat(
                (lo, _axis_terms(upper[:, j : j + 1], j, mode, resolution, size)), dim=1
            )
        if index is None:
            index = parts
        elif mode == MODE_HASH:
            index = (index[:, None, :] ^ parts[:, :, None]).flatten(1)
        else:
            index = ((index[:, None, :] + parts[:, :, None]) & MASK32).flatten(1)
    assert index is not None  # d >= 1 axes
    if mode == MODE_HASH and size & (size - 1) == 0:
        return (index & (size - 1)) + offset
    return index % size + offset


def _level_weights(w: Tensor) -> Tensor:
    """``(N, 2^d)`` products of ``1 - w_j`` or ``w_j`` over the axes, in corner order."""
    weights = None
    for j in range(w.shape[1]):
        pair = torch.stack((1 - w[:, j], w[:, j]), dim=1)
        weights = pair if weights is None else (weights[:, None, :] * pair[:, :, None]).flatten(1)
    assert weights is not None  # d >= 1 axes
    return weights


def hashgrid_reference(
    x: Tensor, table: Tensor, levels: GridLevels, interpolation: str = "linear"
) -> Tensor:
    """Multiresolution grid features of ``x``.

    Args:
        x: ``(N, d)`` positions (float32 or float64), ``d = levels.in_dim``.
        table: ``(levels.num_entries, F)`` features, same dtype as ``x``.
        levels: the grid's geometry (:func:`tcnn_levels`, :func:`nerfstudio_levels`).
        interpolation: ``"nearest"``, ``"linear"`` or ``"smoothstep"``.

    Returns:
        ``(N, L·F)`` features, differentiable with respect to ``table`` and ``x`` (to any order).
    """
    n, d = x.shape
    corners = 1 if interpolation == "nearest" else 1 << d
    outputs = []
    for level in range(levels.num_levels):
        p = _positions(x, levels.scales[level], levels.shift)
        floor = torch.floor(p).detach()
        t = p - floor
        cell = torch.nan_to_num(floor, nan=0.0).long() & MASK32
        step = (t > 0).long() if levels.ceil_corner else 1
        upper = (cell + step) & MASK32
        rows = _level_rows(cell, upper, levels, level, corners)
        values = table[rows]  # (N, corners, F)
        if interpolation == "nearest":
            outputs.append(values[:, 0])
            continue
        weights = _level_weights(_smoothstep(t) if interpolation == "smoothstep" else t)
        outputs.append((values * weights[:, :, None]).sum(dim=1))
    return torch.cat(outputs, dim=1) if outputs else x.new_zeros((n, 0))
