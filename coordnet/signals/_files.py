"""File helpers shared by the loaders: path checks and ``.npy`` reading."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Union

import numpy as np

from coordnet.memory_limit import check_memory
from coordnet.signals.errors import SignalError

PathLike = Union[str, "os.PathLike[str]"]


def existing_file(path: PathLike, what: str) -> Path:
    """``path`` as a ``Path`` after checking it names an existing, non-empty regular file.

    Raises:
        SignalError: naming ``path`` when it is missing, a folder, or empty (0 bytes).
    """
    if not isinstance(path, (str, os.PathLike)):
        raise SignalError(f"{what} path must be a str or os.PathLike, got {type(path).__name__}")
    p = Path(path).expanduser()
    if not p.exists():
        raise SignalError(f"{what} file not found: {str(p)!r}")
    if not p.is_file():
        raise SignalError(f"{what} path is not a regular file: {str(p)!r}")
    if p.stat().st_size == 0:
        raise SignalError(f"{what} file is empty (0 bytes): {str(p)!r}")
    return p


def read_npy(path: PathLike) -> np.ndarray:
    """Read a numeric ``.npy`` array (no pickles), as stored.

    Raises:
        SignalError: naming ``path`` when it is missing, unreadable or not numeric.
    """
    p = existing_file(path, ".npy")
    try:
        array = np.load(p, allow_pickle=False)
    except Exception as exc:  # corrupt header, pickled object arrays, .npz, ...
        raise SignalError(f"cannot read .npy file {str(p)!r}: {exc}") from exc
    if not isinstance(array, np.ndarray):
        raise SignalError(f"{str(p)!r} does not hold a single array (got {type(array).__name__})")
    if not (array.dtype == np.bool_ or np.issubdtype(array.dtype, np.number)) or np.iscomplexobj(
        array
    ):
        raise SignalError(
            f"{str(p)!r}: array dtype must be real numeric or bool, got {array.dtype}"
        )
    return array


def check_max_samples(max_samples: Optional[int]) -> None:
    """Validate a ``max_samples`` argument: ``None`` or a positive int."""
    if max_samples is None:
        return
    if isinstance(max_samples, bool) or not isinstance(max_samples, int) or max_samples < 1:
        raise SignalError(f"max_samples must be a positive int or None, got {max_samples!r}")


def finite_float32(array: np.ndarray, source: str) -> np.ndarray:
    """``array`` as float32, checking every value is finite (``source`` names it in errors)."""
    with np.errstate(over="ignore", invalid="ignore"):  # reported below, in one line
        out = np.asarray(array, dtype=np.float32)
    if not np.isfinite(out).all():
        bad = int((~np.isfinite(out)).sum())
        raise SignalError(f"{source}: {bad} value(s) are NaN or infinite (or overflow float32)")
    return out


def check_image_pixels(height: int, width: int, source: str) -> None:
    """Refuse an image of more pixels than Pillow's ``Image.MAX_IMAGE_PIXELS`` (its
    decompression-bomb threshold) before decoding it.

    Raises:
        SignalError: "image too large (decompression bomb?)" naming ``source`` and the size.
    """
    from PIL import Image

    limit = Image.MAX_IMAGE_PIXELS
    if limit is not None and height * width > limit:
        raise SignalError(
            f"{source}: image too large (decompression bomb?): {width}x{height} = {height * width} "
            f"pixels, more than {limit}"
        )


def check_image_memory(height: int, width: int, channels: int, source: str) -> None:
    """Refuse (one-line ``MemoryLimitError`` with the estimate) an ``H x W x C`` image whose
    resizing and float copies would exceed the memory limit: float64 resize output and its
    anti-aliased input, the float32 signal, its pixel coordinates."""

    pixels = height * width
    check_memory(
        f"{source} at {width}x{height} pixels (--size)", pixels * (channels * (8 + 8 + 4) + 2 * 4)
    )


def check_volume_memory(resolution: int, source: str) -> None:
    """Refuse (one-line ``MemoryLimitError`` with the estimate) an ``n^3`` procedural volume
    whose float64 sample grid and the shape's intermediates (about nine ``n^3`` float64 arrays),
    the float32 occupancy and its float32 coordinates would exceed the memory limit."""
    samples = resolution**3
    check_memory(
        f"{source} at {resolution}^3 samples (--size)",
        samples * (9 * 8 + 4 + 3 * 4),
        f"{samples:,} samples x 88 bytes",
    )
