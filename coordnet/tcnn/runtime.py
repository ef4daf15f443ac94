"""tiny-cuda-nn's module-level helpers, for code that calls them through ``import tinycudann``."""

from __future__ import annotations

import enum
import gc
import os
from typing import Union

import torch


class Precision(enum.Enum):
    """tiny-cuda-nn's ``_C.Precision``: the precision of a module's parameters and outputs."""

    Fp32 = "fp32"
    Fp16 = "fp16"


def torch_precision(precision: Precision) -> torch.dtype:
    """``Precision.Fp16 -> torch.half``, ``Precision.Fp32 -> torch.float``."""
    return torch.half if precision is Precision.Fp16 else torch.float


def preferred_precision() -> Precision:
    """What tiny-cuda-nn picks for ``dtype=None``: ``Fp16`` where CUDA runs (its fast path), else ``Fp32``."""
    return Precision.Fp16 if torch.cuda.is_available() else Precision.Fp32


def supports_jit_fusion() -> bool:
    """Whether modules can fuse into one runtime-compiled kernel: never here (``False``)."""
    return False


def free_temporary_memory() -> None:
    """Release cached memory: Python garbage first, then torch's CUDA cache where CUDA runs."""
    gc.collect()
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.empty_cache()


def batch_size_granularity() -> int:
    """The batch multiple tiny-cuda-nn pads to internally; these modules take any batch size (1)."""
    return 1


def default_loss_scale(precision: Precision) -> float:
    """tiny-cuda-nn's loss scale: 128 for ``Fp16`` parameters, 1 for ``Fp32``."""
    return 128.0 if precision is Precision.Fp16 else 1.0


def rtc_set_cache_dir(path: Union[str, "os.PathLike[str]", None]) -> None:
    """Accepted for compatibility (there is no runtime compilation); ``OSError`` if ``path`` is given
    and is not a folder, as tiny-cuda-nn checks it."""
    if path and not os.path.isdir(os.fspath(path)):
        raise OSError(f"Missing RTC cache directory {os.fspath(path)}")


__all__ = [
    "Precision",
    "batch_size_granularity",
    "default_loss_scale",
    "free_temporary_memory",
    "preferred_precision",
    "rtc_set_cache_dir",
    "supports_jit_fusion",
    "torch_precision",
]
