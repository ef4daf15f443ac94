"""Bit-packed activation patterns of ReLU networks: sign -> pack -> hash -> dedupe.

The building blocks of activation-region counting (``coordnet.regions``). A pattern
is one bit per hidden unit in int64 words (layout in :mod:`coordnet.ops.regions_reference`);
a chunk of pre-activations is packed, and ReLU'd in place, in one pass, so no dense
boolean matrix is ever built:

>>> packed = torch.empty(n, sum(pattern_words(w) for w in widths), dtype=torch.int64)
>>> h = torch.addmm(b1, x, W1.t()); pack_signs_relu_(h, packed, 0)          # layer 1
>>> h = torch.addmm(b2, h, W2.t()); pack_signs_relu_(h, packed, pattern_words(w1))
>>> inverse, first = unique_patterns(packed)                                 # region ids

Backends (chosen by :func:`coordnet.ops.backend`): compiled CPU kernels (one parallel
vectorised pass for packing, an open-addressing hash table for :func:`unique_patterns`),
compiled CUDA kernels for packing and hashing with deduplication by device-side sorting
of the hashes (see :func:`unique_by_hash_sort`), or the pure-PyTorch reference. None of
these ops has a gradient.
"""

from __future__ import annotations

from typing import Tuple

import torch
from torch import Tensor

from coordnet.ops import _extension, fake_checks
from coordnet.ops.backend import backend
from coordnet.ops.regions_reference import (
    as_int64,
    hash_patterns_reference,
    pack_signs_relu_reference_,
    pattern_words,
    renumber_by_first_occurrence,
    unique_patterns_reference,
)

__all__ = [
    "hash_patterns",
    "pack_signs_relu_",
    "pattern_words",
    "unique_by_hash_sort",
    "unique_patterns",
]

# Rows compared per step when unique_by_hash_sort verifies its groups (bounds the extra memory).
VERIFY_CHUNK_ROWS = 1 << 16


def _register_compiled() -> None:
    """Fake kernels of ``torch.ops.coordnet.{pack_signs_relu_, hash_patterns, unique_patterns}``."""

    @torch.library.register_fake("coordnet::pack_signs_relu_")
    def _fake_pack(preact, packed, word_offset, relu):
        fake_checks.pack_inputs(preact, packed, word_offset)
        return None

    @torch.library.register_fake("coordnet::hash_patterns")
    def _fake_hash(packed, hash_mask):
        fake_checks.packed_patterns("hash_patterns", packed)
        return packed.new_empty((packed.shape[0],))

    @torch.library.register_fake("coordnet::unique_patterns")
    def _fake_unique(packed, hash_mask):
        fake_checks.packed_patterns("unique_patterns", packed)
        distinct = torch.library.get_ctx().new_dynamic_size()
        return packed.new_empty((packed.shape[0],)), packed.new_empty((distinct,))


if _extension.available():
    _register_compiled()


def _which(device: torch.device) -> str:
    return backend(device)


def _check_packed(fn: str, packed: Tensor) -> None:
    if not isinstance(packed, Tensor):
        raise TypeError(f"{fn}: packed must be a tensor, got {type(packed).__name__}")
    if packed.dtype != torch.int64:
        raise TypeError(f"{fn}: packed must be int64, got dtype {packed.dtype}")
    if packed.dim() != 2:
        raise ValueError(f"{fn}: packed must have shape (n, words), got {tuple(packed.shape)}")
    if not packed.is_contiguous():
        raise ValueError(f"{fn}: packed must be contiguous, got strides {packed.stride()}")


def _check_mask(fn: str, hash_mask: int) -> int:
    if (
        isinstance(hash_mask, bool)
        or not isinstance(hash_mask, int)
        or not -(1 << 63) <= hash_mask < 1 << 64
    ):
        raise ValueError(
            f"{fn}: hash_mask must be an integer in [-2**63, 2**64), got {hash_mask!r}"
        )
    return as_int64(hash_mask)


def pack_signs_relu_(preact: Tensor, packed: Tensor, word_offset: int, relu: bool = True) -> Tensor:
    """Pack the signs of one layer's pre-activations into pattern words, and ReLU them in place.

    Sets bit ``j % 64`` of ``packed[i, word_offset + j // 64]`` iff ``preact[i, j] > 0``
    (``0``, ``-0`` and NaN give 0). The ``pattern_words(w)`` words from ``word_offset`` on are
    overwritten (bits past unit ``w - 1`` are 0); other words are left alone. With ``relu`` the
    ReLU is applied to ``preact`` in place in the same pass, with ``torch.relu`` semantics
    (``-0`` and NaN are kept).

    Args:
        preact: (n, w) float32 or float64, contiguous: a hidden layer's pre-activations.
        packed: (n, words) int64, contiguous, on ``preact``'s device.
        word_offset: first word of this layer, ``0 <= word_offset <= words - pattern_words(w)``.
        relu: apply ReLU to ``preact`` in place.

    Returns:
        ``preact`` (ReLU'd if ``relu``).
    """
    fn = "pack_signs_relu_"
    if not isinstance(preact, Tensor):
        raise TypeError(f"{fn}: preact must be a tensor, got {type(preact).__name__}")
    if preact.dtype not in (torch.float32, torch.float64):
        raise TypeError(f"{fn}: preact must be float32 or float64, got dtype {preact.dtype}")
    if preact.dim() != 2:
        raise ValueError(f"{fn}: preact must have shape (n, w), got {tuple(preact.shape)}")
    if not preact.is_contiguous():
        raise ValueError(f"{fn}: preact must be contiguous, got strides {preact.stride()}")
    _check_packed(fn, packed)
    if packed.device != preact.device:
        raise ValueError(f"{fn}: packed is on {packed.device} but preact on {preact.device}")
    if packed.shape[0] != preact.shape[0]:
        raise ValueError(
            f"{fn}: packed has {packed.shape[0]} rows but preact has {preact.shape[0]}"
        )
    words = pattern_words(preact.shape[1])
    if isinstance(word_offset, bool) or not isinstance(word_offset, int):
        raise TypeError(f"{fn}: word_offset must be an int, got {word_offset!r}")
    if not 0 <= word_offset <= packed.shape[1] - words:
        raise ValueError(
            f"{fn}: word_offset={word_offset} out of range: a layer of {preact.shape[1]} units takes {words} "
            f"word(s), and packed has {packed.shape[1]}, so word_offset must lie in [0, {packed.shape[1] - words}]"
        )
    if _which(preact.device) == "reference":
        return pack_signs_relu_reference_(preact, packed, word_offset, bool(relu))
    torch.ops.coordnet.pack_signs_relu_(preact, packed, word_offset, bool(relu))
    return preact


def hash_patterns(packed: Tensor, hash_mask: int = -1) -> Tensor:
    """64-bit hash of each pattern row, ANDed with ``hash_mask``.

    Args:
        packed: (n, words) int64, contiguous.
        hash_mask: bits to keep (``-1``: all). Small masks force collisions (tests).

    Returns:
        (n,) int64; equal rows give equal hashes. The function is given in
        :mod:`coordnet.ops.regions_reference` and is the same on every backend.
    """
    _check_packed("hash_patterns", packed)
    mask = _check_mask("hash_patterns", hash_mask)
    if _which(packed.device) == "reference":
        return hash_patterns_reference(packed, mask)
    return torch.ops.coordnet.hash_patterns(packed, mask)


def unique_by_hash_sort(packed: Tensor, hashes: Tensor) -> Tuple[Tensor, Tensor]:
    """Exact distinct rows from precomputed row hashes, with device-side tensor ops only.

    Groups rows by ``torch.unique`` of their hashes, numbers groups by first occurrence and
    checks that every row equals its group's first row. Rows with different hashes differ,
    so when the check passes the grouping is exact; if any group mixes different rows (a
    hash collision) the exact ``torch.unique(packed, dim=0)`` path decides instead. One
    host synchronisation (the check). This is the CUDA path of :func:`unique_patterns`.

    Args:
        packed: (n, words) int64.
        hashes: (n,) int64, equal for equal rows (e.g. :func:`hash_patterns` of ``packed``).

    Returns:
        ``(inverse (n,), first (u,))`` as :func:`unique_patterns`.
    """
    n = packed.shape[0]
    if n == 0 or packed.shape[1] == 0:
        return unique_patterns_reference(packed)
    distinct, group = torch.unique(hashes, return_inverse=True)
    inverse, first = renumber_by_first_occurrence(group.to(torch.int64), distinct.shape[0])
    representative = first[inverse]
    mismatch = torch.zeros((), dtype=torch.bool, device=packed.device)
    for start in range(0, n, VERIFY_CHUNK_ROWS):
        rows = slice(start, min(start + VERIFY_CHUNK_ROWS, n))
        mismatch |= (packed[rows] != packed[representative[rows]]).any()
    if bool(mismatch):
        return unique_patterns_reference(packed)
    return inverse, first


def unique_patterns(packed: Tensor, hash_mask: int = -1) -> Tuple[Tensor, Tensor]:
    """Distinct pattern rows: a region id per row, numbered by first occurrence.

    Exact: rows are grouped by hash and hash collisions are resolved by comparing whole rows,
    so ``inverse[i] == inverse[j]`` iff ``packed[i]`` equals ``packed[j]``, whatever ``hash_mask``.
    CPU kernel: an open-addressing hash table in row order (expected O(n)). CUDA: hashes by
    kernel, then :func:`unique_by_hash_sort`. Reference: ``torch.unique(packed, dim=0)``.

    Args:
        packed: (n, words) int64, contiguous.
        hash_mask: bits of the row hash used to group rows (``-1``: all); smaller masks only
            cost time.

    Returns:
        ``(inverse, first)``: inverse (n,) int64 ids in ``[0, u)`` with ids counting up in
        order of first occurrence; first (u,) int64, ``first[k]`` the first row with id ``k``.
        ``u = first.numel()`` is the number of distinct patterns.
    """
    _check_packed("unique_patterns", packed)
    mask = _check_mask("unique_patterns", hash_mask)
    which = _which(packed.device)
    if which == "reference":
        return unique_patterns_reference(packed, mask)
    if which == "cuda":
        return unique_by_hash_sort(packed, torch.ops.coordnet.hash_patterns(packed, mask))
    inverse, first = torch.ops.coordnet.unique_patterns(packed, mask)
    return inverse, first
