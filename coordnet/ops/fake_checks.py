"""The argument checks of the compiled ops (``csrc/checks.h``, ``csrc/hashgrid_checks.h``) as
``torch._check`` calls, for their fake kernels: tracing (``torch.compile``, ``opcheck``) refuses
what the kernels refuse, with the same messages. Device placement is left to the kernels."""

from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import Tensor

from coordnet.ops.limits import (
    FOURIER_INPUT_LAST,
    FOURIER_INPUT_NONE,
    HASHGRID_INTERPOLATIONS,
    HASHGRID_LEVEL_FIELDS,
    HASHGRID_MAX_DIMS,
    HASHGRID_MAX_LEVEL_SIZE,
    HASHGRID_MAX_RESOLUTION,
    HASHGRID_MODE_DENSE,
    HASHGRID_MODE_ZERO,
)

FLOATS = (torch.float32, torch.float64)
LEVEL_FIELDS = HASHGRID_LEVEL_FIELDS  # (offset, size, resolution, mode) per level


def _check(condition: bool, message: str) -> None:
    torch._check(condition, lambda: message)


def fourier_inputs(
    x: Tensor, B: Tensor, amplitude: Optional[Tensor], group: int, input_mode: int
) -> None:
    """``check_fourier_inputs``: x (N, d), B (M, d) of x's float dtype, group dividing M, input_mode 0..2."""
    _check(x.dim() == 2, f"fourier_features: x must have shape (N, d), got {tuple(x.shape)}")
    _check(B.dim() == 2, f"fourier_features: B must have shape (M, d), got {tuple(B.shape)}")
    _check(
        B.shape[1] == x.shape[1],
        f"fourier_features: B has {B.shape[1]} columns but x has d = {x.shape[1]}",
    )
    _check(x.dtype in FLOATS, f"fourier_features: x must be float32 or float64, got {x.dtype}")
    _check(
        B.dtype == x.dtype, f"fourier_features: B dtype {B.dtype} differs from x dtype {x.dtype}"
    )
    _check(
        group >= 1 and B.shape[0] % group == 0,
        f"fourier_features: group = {group} must be positive and divide M = {B.shape[0]}",
    )
    _check(
        FOURIER_INPUT_NONE <= input_mode <= FOURIER_INPUT_LAST,
        f"fourier_features: input_mode must be 0 (none), 1 (first) or 2 (last), got {input_mode}",
    )
    if amplitude is not None:
        _check(
            amplitude.dim() == 1 and amplitude.shape[0] == B.shape[0],
            f"fourier_features: amplitude must have shape (M,) = ({B.shape[0]},), got {tuple(amplitude.shape)}",
        )
        _check(
            amplitude.dtype == x.dtype,
            f"fourier_features: amplitude must be a contiguous {x.dtype} tensor",
        )


def grad_output(op: str, grad_out: Tensor, x: Tensor, columns: int) -> None:
    """``check_fourier_grad`` / ``check_hashgrid_grad``: grad_out (N, columns) of x's dtype."""
    _check(
        grad_out.dim() == 2 and grad_out.shape[0] == x.shape[0] and grad_out.shape[1] == columns,
        f"{op}: grad_out must have shape ({x.shape[0]}, {columns}), got {tuple(grad_out.shape)}",
    )
    _check(grad_out.dtype == x.dtype, f"{op}: grad_out must be a contiguous {x.dtype} tensor")


def pack_inputs(preact: Tensor, packed: Tensor, word_offset: int) -> None:
    """``check_pack_inputs``: preact (n, w) float, packed (n, words) int64, the layer's words in range."""
    _check(
        preact.dim() == 2,
        f"pack_signs_relu_: preact must have shape (n, w), got {tuple(preact.shape)}",
    )
    _check(
        packed.dim() == 2,
        f"pack_signs_relu_: packed must have shape (n, words), got {tuple(packed.shape)}",
    )
    _check(
        preact.dtype in FLOATS,
        f"pack_signs_relu_: preact must be float32 or float64, got {preact.dtype}",
    )
    _check(
        packed.dtype == torch.int64, f"pack_signs_relu_: packed must be int64, got {packed.dtype}"
    )
    _check(
        packed.shape[0] == preact.shape[0],
        f"pack_signs_relu_: packed has {packed.shape[0]} rows but preact has {preact.shape[0]}",
    )
    words = (preact.shape[1] + 63) // 64
    _check(
        word_offset >= 0 and word_offset + words <= packed.shape[1],
        f"pack_signs_relu_: word_offset = {word_offset} out of range: a layer of {preact.shape[1]} units takes "
        f"{words} word(s) and packed has {packed.shape[1]}",
    )


def packed_patterns(op: str, packed: Tensor) -> None:
    """``check_packed_patterns``: packed (n, words) int64."""
    _check(packed.dim() == 2, f"{op}: packed must have shape (n, words), got {tuple(packed.shape)}")
    _check(packed.dtype == torch.int64, f"{op}: packed must be int64, got {packed.dtype}")


def hashgrid_inputs(
    x: Tensor, table: Tensor, scales: Sequence[float], levels: Sequence[int], interpolation: int
) -> None:
    """``check_hashgrid_inputs``: x (N, d ≤ 4) float, table (P, F) of x's dtype (or float16 with
    float32 x, on CUDA), interpolation 0..2, four integers per level with the level inside the table."""
    _check(
        x.dim() == 2 and 1 <= x.shape[1] <= HASHGRID_MAX_DIMS,
        f"hashgrid: x must have shape (N, d) with 1 <= d <= {HASHGRID_MAX_DIMS}, got {tuple(x.shape)}",
    )
    _check(x.dtype in FLOATS, f"hashgrid: x must be float32 or float64, got {x.dtype}")
    _check(
        table.dim() == 2 and table.shape[1] >= 1,
        f"hashgrid: table must have shape (P, F) with F >= 1, got {tuple(table.shape)}",
    )
    half = table.dtype == torch.float16 and x.dtype == torch.float32 and x.device.type == "cuda"
    _check(
        table.dtype == x.dtype or half,
        f"hashgrid: table dtype {table.dtype} differs from x dtype {x.dtype} "
        "(float16 tables need float32 x and a CUDA device)",
    )
    _check(
        0 <= interpolation < len(HASHGRID_INTERPOLATIONS),
        f"hashgrid: interpolation must be 0 (nearest), 1 (linear) or 2 (smoothstep), got {interpolation}",
    )
    _check(
        len(levels) == LEVEL_FIELDS * len(scales),
        f"hashgrid: levels must hold 4 integers (offset, size, resolution, mode) per scale; got {len(levels)} "
        f"integers for {len(scales)} scales",
    )
    for level in range(len(levels) // LEVEL_FIELDS):
        offset, size, resolution, mode = levels[LEVEL_FIELDS * level : LEVEL_FIELDS * (level + 1)]
        _check(
            1 <= size <= HASHGRID_MAX_LEVEL_SIZE
            and offset >= 0
            and offset + size <= table.shape[0],
            f"hashgrid: level {level} (offset {offset}, size {size}) does not fit a table of {table.shape[0]} entries",
        )
        _check(
            1 <= resolution <= HASHGRID_MAX_RESOLUTION,
            f"hashgrid: level {level} has resolution {resolution}",
        )
        _check(
            HASHGRID_MODE_DENSE <= mode <= HASHGRID_MODE_ZERO,
            f"hashgrid: level {level} has mode {mode} (0 dense, 1 hash, 2 zero)",
        )
