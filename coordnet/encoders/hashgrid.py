"""instant-NGP's multiresolution hash encoding (Müller et al. 2022) as an ``nn.Module``.

:class:`HashGrid` reproduces tiny-cuda-nn's ``HashGrid``/``Grid`` encoding (default,
``convention="tcnn"``) or nerfstudio's torch ``HashEncoding`` (``convention="nerfstudio"``);
the geometry of both is described in :mod:`coordnet.ops.hashgrid_reference`.
"""

from __future__ import annotations

import math
from typing import Optional, Tuple

import numpy as np
import torch
from torch import Tensor, nn

from coordnet.encoders.base import Encoder, like_input, no_autocast
from coordnet.ops.grid_arguments import MAX_LEVELS, MAX_RESOLUTION
from coordnet.ops.hashgrid import hashgrid_encode
from coordnet.ops.hashgrid_reference import (
    CONVENTIONS,
    GRID_TYPES,
    INTERPOLATIONS,
    MAX_DIMS,
    MAX_ENTRIES,
    GridLevels,
    nerfstudio_levels,
    tcnn_levels,
)
from coordnet.validation import check_choice, check_count, check_positive, check_seed

DEFAULT_INIT_SCALE = {"tcnn": 1e-4, "nerfstudio": 1e-3}


def _lower(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {type(value).__name__}")
    return value.strip().lower()


MAX_FEATURES_PER_LEVEL = 64


def nerfstudio_growth(num_levels: int, min_res: int, max_res: int) -> float:
    """nerfstudio's ``HashEncoding`` growth factor ``exp((ln max_res - ln min_res) / (num_levels - 1))``
    (a numpy float64, as nerfstudio computes it; the int ``1`` for one level), with errors naming
    nerfstudio's arguments."""
    check_count("num_levels", num_levels)
    check_count("min_res", min_res)
    check_count("max_res", max_res)
    return np.exp((np.log(max_res) - np.log(min_res)) / (num_levels - 1)) if num_levels > 1 else 1


def _check_sizes(
    num_levels: int,
    num_features_per_level: int,
    log2_table_size: int,
    min_resolution: int,
    growth: float,
) -> float:
    """Check the sizes of a grid (errors name the argument); ``growth`` as a float."""
    check_count("num_levels", num_levels, maximum=MAX_LEVELS)
    check_count("num_features_per_level", num_features_per_level, maximum=MAX_FEATURES_PER_LEVEL)
    check_count("log2_table_size", log2_table_size, maximum=30)
    check_count(
        "min_resolution", min_resolution, maximum=MAX_RESOLUTION, why="grid indices are 32-bit"
    )
    growth = check_positive("growth", growth)
    finest = math.log2(min_resolution) + (num_levels - 1) * math.log2(growth)
    if min(finest, math.log2(min_resolution)) < 0 or finest < 0:
        raise ValueError(
            f"growth {growth:g} over {num_levels} levels from min_resolution "
            f"{min_resolution} gives levels of resolution below 1"
        )
    if finest > math.log2(MAX_RESOLUTION):
        raise ValueError(
            f"growth {growth:g} over {num_levels} levels from min_resolution "
            f"{min_resolution} gives a finest resolution of 2^{finest:.3g}, beyond 2^31 "
            "(grid indices are 32-bit)"
        )
    return growth


def _grid_levels(
    in_dim: int,
    sizes: Tuple[int, int, int, int, float],
    interpolation: str,
    convention: str,
    grid_type: str,
) -> GridLevels:
    """The level geometry of a grid of ``sizes`` (levels, features per level, log2 table size,
    minimum resolution, growth) under ``convention``; ``ValueError`` beyond 2^31 parameters."""
    if convention == "nerfstudio":
        if grid_type != "hash":
            raise ValueError(
                f"convention='nerfstudio' hashes every level: grid_type must be 'hash', got {grid_type!r}"
            )
        if interpolation != "linear":
            raise ValueError(
                "convention='nerfstudio' supports only linear interpolation (as nerfstudio's torch "
                f"HashEncoding), got interpolation={interpolation!r}"
            )
        levels = nerfstudio_levels(in_dim, *sizes)
    else:
        levels = tcnn_levels(in_dim, *sizes, grid_type)
    if levels.num_params > MAX_ENTRIES:
        raise ValueError(
            f"the {grid_type} grid needs {levels.num_params} parameters (more than 2^31); "
            "use grid_type='hash', fewer levels or a smaller growth"
        )
    return levels


def _initial_table(
    levels: GridLevels,
    convention: str,
    init_scale: float,
    seed: Optional[int],
    generator: Optional[torch.Generator],
) -> Tensor:
    """The initial flat table ``(num_params,)`` float32, ``U(-init_scale, init_scale)`` drawn as the
    convention's library draws it, from ``generator`` (else a generator seeded with ``seed``)."""
    if generator is None:
        generator = torch.Generator().manual_seed(0 if seed is None else check_seed("seed", seed))
    elif not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    if convention == "nerfstudio":  # nerfstudio draws (P, F) with torch.rand * 2 - 1, then scales
        shape: Tuple[int, ...] = (levels.num_entries, levels.num_features_per_level)
    else:
        shape = (levels.num_params,)
    return ((torch.rand(shape, generator=generator) * 2 - 1) * init_scale).reshape(-1)


class HashGrid(Encoder):
    """Multiresolution grid of trainable features, hashed where a level is too fine to store densely.

    Each of ``num_levels`` levels maps ``x`` to a grid of growing resolution and interpolates the
    ``num_features_per_level`` features stored at the surrounding ``2^d`` vertices; the output
    concatenates the levels (level-major).

    The arguments are tiny-cuda-nn's under coordnet's names: ``num_levels`` (``n_levels``),
    ``num_features_per_level`` (``n_features_per_level``), ``log2_table_size``
    (``log2_hashmap_size``), ``min_resolution`` (``base_resolution``), ``growth``
    (``per_level_scale``); :func:`coordnet.encoders.config.from_config` reads tiny-cuda-nn's
    spellings from configs.

    Args:
        in_dim: ``d``, 1 to 4.
        num_levels: ``L``, 1 to 128.
        num_features_per_level: ``F`` (tiny-cuda-nn supports 1, 2, 4, 8; any ``F`` in 1..64 works here).
        log2_table_size: at most ``2^log2_table_size`` entries per hashed level, 1 to 30.
        min_resolution: ``N_min``, the resolution scale of the coarsest level.
        growth: growth factor ``b`` of the resolution between levels (> 0; every level's
            resolution must stay within ``[1, 2^31]``).
        interpolation: ``"linear"``, ``"nearest"`` or ``"smoothstep"`` (case-insensitive).
        convention: ``"tcnn"``: tiny-cuda-nn's exact semantics (scale ``N_min b^l - 1`` in float32,
            resolution ``ceil(scale) + 1``, the half-cell offset, dense levels where ``R^d`` entries
            (rounded up to a multiple of 8) fit, its prime hash, flat parameter layout and
            initialisation ``U(-1e-4, 1e-4)``): a parameter vector trained with tiny-cuda-nn gives
            the same features here. ``"nerfstudio"``: nerfstudio's torch ``HashEncoding`` (scales
            ``floor(N_min b^l)``, no offset, every level hashed into its own table, init
            ``U(-1e-3, 1e-3)``, linear interpolation only).
        grid_type: ``"hash"``, ``"dense"`` or ``"tiled"`` (tiny-cuda-nn's ``Grid`` types; tcnn only).
        init_scale: the table is drawn from ``U(-init_scale, init_scale)`` (default per convention).
        param_dtype: dtype of the table, ``torch.float32`` (default) or ``torch.float16`` as
            tiny-cuda-nn keeps it (CUDA kernels read half and accumulate in float32; the CPU
            upcasts); features are computed in the input's dtype either way.
        seed, generator: randomness of the initial table (``generator`` wins; default seed 0).
            With ``convention="nerfstudio"``, ``seed=s`` gives the table nerfstudio draws after
            ``torch.manual_seed(s)``.

    Attributes:
        params: ``(num_params,)`` flat trainable parameter vector (tiny-cuda-nn's layout).
        levels: the :class:`~coordnet.ops.hashgrid_reference.GridLevels` geometry.

    Shapes: ``x (..., d) -> (..., L·F)``. The nominal domain is ``[0, 1]^d``; outside it hashed
    levels hash the vertex and dense levels wrap around, so any finite input gives finite features.
    """

    input_domain = (0.0, 1.0)

    def __init__(
        self,
        in_dim: int,
        num_levels: int = 16,
        num_features_per_level: int = 2,
        log2_table_size: int = 19,
        min_resolution: int = 16,
        growth: float = 2.0,
        interpolation: str = "linear",
        convention: str = "tcnn",
        grid_type: str = "hash",
        *,
        init_scale: Optional[float] = None,
        param_dtype: torch.dtype = torch.float32,
        seed: Optional[int] = 0,
        generator: Optional[torch.Generator] = None,
    ) -> None:
        check_count("in_dim", in_dim)
        if param_dtype not in (torch.float32, torch.float16):
            raise ValueError(
                f"param_dtype must be torch.float32 or torch.float16, got {param_dtype!r}"
            )
        if in_dim > MAX_DIMS:
            raise ValueError(f"in_dim must be between 1 and {MAX_DIMS}, got {in_dim}")
        super().__init__(in_dim)
        growth = _check_sizes(
            num_levels, num_features_per_level, log2_table_size, min_resolution, growth
        )
        interpolation = check_choice(
            "interpolation", _lower("interpolation", interpolation), INTERPOLATIONS
        )
        convention = check_choice("convention", _lower("convention", convention), CONVENTIONS)
        grid_type = check_choice("grid_type", _lower("grid_type", grid_type), GRID_TYPES)
        sizes = (num_levels, num_features_per_level, log2_table_size, min_resolution, growth)
        levels = _grid_levels(in_dim, sizes, interpolation, convention, grid_type)
        init_scale = (
            DEFAULT_INIT_SCALE[convention]
            if init_scale is None
            else check_positive("init_scale", init_scale)
        )
        table = _initial_table(levels, convention, init_scale, seed, generator)
        self.params = nn.Parameter(table.reshape(-1).to(param_dtype))
        self.levels = levels
        self.num_levels = num_levels
        self.num_features_per_level = num_features_per_level
        self.log2_table_size = log2_table_size
        self.min_resolution = min_resolution
        self.growth = growth
        self.interpolation = interpolation
        self.convention = convention
        self.grid_type = grid_type
        self.init_scale = init_scale
        self.out_dim = levels.out_dim

    @classmethod
    def from_nerfstudio(
        cls,
        num_levels: int = 16,
        min_res: int = 16,
        max_res: int = 1024,
        log2_hashmap_size: int = 19,
        features_per_level: int = 2,
        hash_init_scale: float = 0.001,
        *,
        in_dim: int = 3,
        seed: Optional[int] = 0,
        generator: Optional[torch.Generator] = None,
    ) -> "HashGrid":
        """The grid of nerfstudio's ``HashEncoding(num_levels, min_res, max_res, log2_hashmap_size,
        features_per_level, hash_init_scale, implementation="torch")``: same arguments, same growth
        factor ``exp((ln max_res - ln min_res) / (num_levels - 1))``, same features for the same table."""
        growth = float(nerfstudio_growth(num_levels, min_res, max_res))
        return cls(
            in_dim,
            num_levels,
            features_per_level,
            log2_hashmap_size,
            min_res,
            growth,
            convention="nerfstudio",
            init_scale=hash_init_scale,
            seed=seed,
            generator=generator,
        )

    @property
    def table(self) -> Tensor:
        """``(num_entries, F)`` view of :attr:`params` (nerfstudio's ``hash_table`` layout)."""
        return self.params.view(-1, self.num_features_per_level)

    @property
    def num_params(self) -> int:
        """Number of trainable parameters (entries of :attr:`params`)."""
        return self.levels.num_params

    def forward(self, x: Tensor) -> Tensor:
        """``x (..., in_dim) -> (..., num_levels · num_features_per_level)`` in float32 (or float64)."""
        x = self.check_input(x)
        with no_autocast(x.device):
            half_table = self.params.dtype == torch.float16 and x.dtype == torch.float32
            table = (
                self.table if self.params.dtype == x.dtype or half_table else self.table.to(x.dtype)
            )
            return hashgrid_encode(x, like_input(table, x), self.levels, self.interpolation)

    def extra_repr(self) -> str:
        return (
            f"{super().extra_repr()}, num_levels={self.num_levels}, "
            f"num_features_per_level={self.num_features_per_level}, log2_table_size={self.log2_table_size}, "
            f"min_resolution={self.min_resolution}, growth={self.growth:g}, interpolation={self.interpolation!r}, "
            f"convention={self.convention!r}, grid_type={self.grid_type!r}, num_params={self.num_params}"
        )
