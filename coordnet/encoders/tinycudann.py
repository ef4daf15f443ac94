"""Whether tiny-cuda-nn can run here, and the one switch every ``implementation="tcnn"`` goes through.

tiny-cuda-nn cannot be installed or run without CUDA. Modules that accept
``implementation="torch" | "tcnn"`` ask :func:`resolve_tinycudann` for the ``tinycudann``
module; it returns ``None`` (after one :class:`TinyCudaNNWarning` saying why) when the torch
path has to run instead, as nerfstudio falls back.
"""

from __future__ import annotations

import warnings
from types import ModuleType
from typing import Optional

import torch

IMPLEMENTATIONS = ("torch", "tcnn")


class TinyCudaNNWarning(UserWarning):
    """tiny-cuda-nn was asked for but is unavailable; the torch implementation runs instead."""


def tinycudann_unavailable_reason() -> Optional[str]:
    """``None`` when tiny-cuda-nn imports and a CUDA device exists, else why not.

    tiny-cuda-nn raises ``EnvironmentError``/``OSError`` (not only ``ImportError``) on
    machines without CUDA.
    """
    if not torch.cuda.is_available():
        return "no CUDA device"
    try:
        import tinycudann  # noqa: F401
    except (ImportError, OSError) as error:
        return f"tinycudann does not import ({type(error).__name__}: {error})"
    return None


def check_implementation(implementation: str) -> str:
    """``implementation`` if it is ``"torch"`` or ``"tcnn"``, else ``ValueError`` naming it."""
    if implementation not in IMPLEMENTATIONS:
        raise ValueError(f"implementation must be 'torch' or 'tcnn', got {implementation!r}")
    return implementation


def resolve_tinycudann(
    owner: str,
    implementation: str,
    fallback: str = "the torch implementation",
    *,
    stacklevel: int = 3,
) -> Optional[ModuleType]:
    """The ``tinycudann`` module for ``implementation="tcnn"`` when it runs here, else ``None``.

    Args:
        owner: who asks (starts the warning, e.g. ``"SHEncoding"``).
        implementation: ``"torch"`` (returns ``None`` silently) or ``"tcnn"``.
        fallback: what runs instead, for the warning.
        stacklevel: of the warning (3: the caller of the function calling this one).

    Raises:
        ValueError: ``implementation`` is neither ``"torch"`` nor ``"tcnn"``.
    """
    if check_implementation(implementation) == "torch":
        return None
    reason = tinycudann_unavailable_reason()
    if reason is None:
        import tinycudann

        return tinycudann
    message = f"{owner}: tiny-cuda-nn is unavailable ({reason}); using {fallback}"
    warnings.warn(message, TinyCudaNNWarning, stacklevel=stacklevel)
    return None


__all__ = [
    "IMPLEMENTATIONS",
    "TinyCudaNNWarning",
    "check_implementation",
    "resolve_tinycudann",
    "tinycudann_unavailable_reason",
]
