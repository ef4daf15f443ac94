"""Pure-PyTorch reference of the activation-pattern ops: the oracle of the kernels.

Notation (shared with ``csrc/include/coordnet/regions.h``): the activation pattern of a
sample is one bit per hidden unit, stored in int64 words. A hidden layer of ``w`` units
takes :func:`pattern_words` ``(w) = ceil(w / 64)`` words and starts at a fresh word; unit
``j`` of a layer whose words start at ``word_offset`` is bit ``j % 64`` of word
``word_offset + j // 64``, set iff its pre-activation is ``> 0`` (so ``0``, ``-0`` and NaN
give 0). Bits past the layer's last unit are 0.

The row hash is a chain of the splitmix64 finaliser over the words, with the word index
mixed in (all arithmetic modulo 2^64)::

    h = SEED
    for k, w in enumerate(words):
        h = mix(h ^ w ^ (k + 1) * GOLDEN)
    hash = h & hash_mask

Here torch's int64 arithmetic wraps like uint64, and logical right shifts are arithmetic
shifts followed by a mask, so the values are bit-for-bit those of the kernels.
"""

from __future__ import annotations

import functools
from typing import Tuple

import torch
from torch import Tensor

from coordnet.ops.limits import PATTERN_WORD_BITS as WORD_BITS

GOLDEN = 0x9E3779B97F4A7C15
SEED = 0x243F6A8885A308D3
MIX_1 = 0xBF58476D1CE4E5B9
MIX_2 = 0x94D049BB133111EB


def pattern_words(width: int) -> int:
    """Number of int64 words one layer of ``width`` hidden units takes: ``ceil(width / 64)``."""
    if isinstance(width, bool) or not isinstance(width, int) or width < 0:
        raise ValueError(f"pattern_words: width must be an integer >= 0, got {width!r}")
    return -(-width // WORD_BITS)


def as_int64(value: int) -> int:
    """The signed int64 with the same 64 bits as ``value`` (taken modulo 2^64)."""
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >= 1 << 63 else value


def _shift_right(z: Tensor, bits: int) -> Tensor:
    """Logical right shift of int64 words (torch's ``>>`` is arithmetic on signed integers)."""
    return (z >> bits) & ((1 << (WORD_BITS - bits)) - 1)


def mix_reference(z: Tensor) -> Tensor:
    """splitmix64 finaliser on int64 words (bijective on 64 bits), any shape."""
    z = z ^ _shift_right(z, 30)
    z = z * as_int64(MIX_1)
    z = z ^ _shift_right(z, 27)
    z = z * as_int64(MIX_2)
    return z ^ _shift_right(z, 31)


@functools.lru_cache(maxsize=None)
def _bit_weights(device: torch.device) -> Tensor:
    """(64,) int64 ``1 << b``; ``1 << 63`` is the int64 minimum, which sums exactly with the others."""
    return torch.bitwise_left_shift(
        torch.ones(WORD_BITS, dtype=torch.int64, device=device),
        torch.arange(WORD_BITS, device=device),
    )


def pack_signs_relu_reference_(
    preact: Tensor, packed: Tensor, word_offset: int, relu: bool = True
) -> Tensor:
    """Write the sign bits of ``preact`` (n, w) into ``packed[:, word_offset : word_offset + ceil(w/64)]``.

    ``packed`` is (n, words) int64; the covered words are overwritten. With ``relu`` the
    ReLU is then applied to ``preact`` in place (``torch.relu`` semantics). Returns ``preact``.
    """
    n, width = preact.shape
    words = pattern_words(width)
    if words:
        bits = torch.nn.functional.pad((preact > 0).to(torch.int64), (0, words * WORD_BITS - width))
        block = (bits.view(n, words, WORD_BITS) * _bit_weights(preact.device)).sum(-1)
        packed[:, word_offset : word_offset + words] = block
    if relu:
        torch.relu_(preact)
    return preact


def hash_patterns_reference(packed: Tensor, hash_mask: int = -1) -> Tensor:
    """Hash of each row of ``packed`` (n, words) int64 -> (n,) int64, ANDed with ``hash_mask``."""
    h = torch.full((packed.shape[0],), as_int64(SEED), dtype=torch.int64, device=packed.device)
    for k in range(packed.shape[1]):
        h = mix_reference(h ^ packed[:, k] ^ as_int64((k + 1) * GOLDEN))
    return h & as_int64(hash_mask)


def renumber_by_first_occurrence(group: Tensor, groups: int) -> Tuple[Tensor, Tensor]:
    """Relabel group ids so they count up in order of first occurrence.

    Args:
        group: (n,) int64 ids in ``[0, groups)``, every id used.
        groups: number of distinct ids ``u``.

    Returns:
        ``(inverse (n,), first (u,))``: the new id of each row, and for each new id the
        index of its first row.
    """
    n = group.shape[0]
    device = group.device
    first_of_group = torch.full((groups,), n, dtype=torch.int64, device=device)
    first_of_group.scatter_reduce_(0, group, torch.arange(n, device=device), reduce="amin")
    order = torch.argsort(first_of_group)
    rank = torch.empty_like(order)
    rank[order] = torch.arange(groups, device=device)
    return rank[group], first_of_group[order]


def _unique_rows(rows: Tensor) -> Tuple[Tensor, Tensor]:
    """Distinct rows of a 2-D tensor via ``torch.unique(dim=0)``, numbered by first occurrence."""
    n = rows.shape[0]
    if n == 0:
        empty = torch.zeros(0, dtype=torch.int64, device=rows.device)
        return empty, empty.clone()
    if rows.shape[1] == 0:  # every row is the empty pattern
        zeros = torch.zeros(n, dtype=torch.int64, device=rows.device)
        return zeros, zeros[:1].clone()
    distinct, group = torch.unique(rows, dim=0, return_inverse=True)
    return renumber_by_first_occurrence(group.to(torch.int64), distinct.shape[0])


def unique_patterns_reference(packed: Tensor, hash_mask: int = -1) -> Tuple[Tensor, Tensor]:
    """Distinct rows of ``packed`` (n, words) int64 -> ``(inverse (n,), first (u,))``.

    Ids count up in order of first occurrence; ``first[k]`` is the first row with id ``k``.
    ``hash_mask`` is accepted for symmetry with the kernel and has no effect (rows are
    compared whole).
    """
    del hash_mask
    return _unique_rows(packed)


def unique_patterns_dense(patterns: Tensor) -> Tuple[Tensor, Tensor]:
    """Distinct rows of a dense boolean pattern matrix (n, units) -> ``(inverse (n,), first (u,))``.

    The unpacked baseline: ``torch.unique(dim=0)`` on one bool per hidden unit, numbered
    like :func:`unique_patterns_reference`.
    """
    if patterns.dim() != 2:
        raise ValueError(
            f"unique_patterns_dense: patterns must have shape (n, units), got {tuple(patterns.shape)}"
        )
    return _unique_rows(patterns)
