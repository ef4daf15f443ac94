"""Device parametrisation of the op tests: every kernel test runs on ``cpu`` and on ``cuda``.

``@on_devices`` adds a ``device`` argument; its ``cuda`` case carries the ``cuda`` marker
(``pytest -m cuda`` selects it) and is skipped where no GPU or no CUDA kernel is available.
"""

from __future__ import annotations

import pytest
import torch

import coordnet.ops as ops

CUDA_AVAILABLE = torch.cuda.is_available()

_no_cuda = pytest.mark.skipif(
    not CUDA_AVAILABLE, reason="no CUDA device (torch.cuda.is_available() is False)"
)
_no_cuda_kernels = pytest.mark.skipif(
    CUDA_AVAILABLE and not ops.has_cuda_kernels(),
    reason="coordnet._C was built without its CUDA kernels",
)

DEVICES = [
    pytest.param("cpu", id="cpu"),
    pytest.param("cuda", id="cuda", marks=[pytest.mark.cuda, _no_cuda, _no_cuda_kernels]),
]

on_devices = pytest.mark.parametrize("device", DEVICES)


def to(device: str, *tensors):
    """The tensors on ``device`` (``None`` kept), drawn on the CPU first so every device sees the same values."""
    moved = tuple(None if t is None else t.to(device) for t in tensors)
    return moved if len(moved) != 1 else moved[0]
