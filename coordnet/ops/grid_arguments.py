"""Checks of the arguments that define a multiresolution grid's levels
(:func:`~coordnet.ops.hashgrid_reference.tcnn_levels`,
:func:`~coordnet.ops.hashgrid_reference.nerfstudio_levels`): each bad value is a ``ValueError``
(``TypeError`` for a wrong type) naming the argument, before any arithmetic can fail on it."""

from __future__ import annotations

import math

from coordnet.ops import limits
from coordnet.validation import check_choice, check_count, check_positive

GRID_TYPES = ("hash", "dense", "tiled")
#: Levels of one grid (tiny-cuda-nn's and nerfstudio's configs use 8-32).
MAX_LEVELS = 128
#: Largest ``log2_table_size``: a level's table holds at most ``2^31`` entries (uint32 indices).
MAX_LOG2_TABLE_SIZE = int(math.log2(limits.HASHGRID_MAX_LEVEL_SIZE))
#: Finest grid resolution (grid indices are 32-bit).
MAX_RESOLUTION = limits.HASHGRID_MAX_LEVEL_SIZE


def check_grid_arguments(
    fn: str,
    in_dim: int,
    num_levels: int,
    num_features_per_level: int,
    log2_table_size: int,
    min_resolution: int,
    growth: float,
    grid_type: str = "hash",
) -> None:
    """Raise for the first argument of ``fn`` (the caller's name, for the message) out of range:
    ``in_dim`` 1 to 4, ``num_levels`` 1 to :data:`MAX_LEVELS`, ``num_features_per_level`` ≥ 1,
    ``log2_table_size`` 0 to 31, ``min_resolution`` 1 to ``2^31``, ``growth`` a
    positive finite number that keeps every level's resolution in ``[1, 2^31]``, and
    ``grid_type`` one of :data:`GRID_TYPES`."""
    dims = limits.HASHGRID_MAX_DIMS
    check_count(f"{fn}: in_dim", in_dim, maximum=dims, why=f"the grid kernels handle d <= {dims}")
    check_count(f"{fn}: num_levels", num_levels, maximum=MAX_LEVELS)
    check_count(f"{fn}: num_features_per_level", num_features_per_level)
    check_count(
        f"{fn}: log2_table_size",
        log2_table_size,
        minimum=0,
        maximum=MAX_LOG2_TABLE_SIZE,
        why="a level holds at most 2^31 entries",
    )
    check_count(
        f"{fn}: min_resolution",
        min_resolution,
        maximum=MAX_RESOLUTION,
        why="grid indices are 32-bit",
    )
    growth = check_positive(f"{fn}: growth", growth)
    finest = math.log2(min_resolution) + (num_levels - 1) * math.log2(growth)
    if finest < 0 or finest > math.log2(MAX_RESOLUTION):
        raise ValueError(
            f"{fn}: growth={growth:g} over {num_levels} levels from min_resolution="
            f"{min_resolution} gives a finest resolution of 2^{finest:.3g}, outside [1, 2^31]"
        )
    check_choice(f"{fn}: grid_type", grid_type, GRID_TYPES)
