"""Loading of the compiled extension ``coordnet._C`` (the only place that imports it)."""

from __future__ import annotations

import importlib
import warnings
from types import ModuleType
from typing import Optional

#: The interface version this Python side expects of ``coordnet._C`` (its ``ABI_VERSION``, set
#: from ``csrc/include/coordnet/version.h``): the set of ops, their schemas and semantics.
EXPECTED_ABI_VERSION = 3


class ExtensionWarning(UserWarning):
    """The compiled extension could not be loaded; coordnet runs on the pure-PyTorch path."""


def stale_build_error(module: ModuleType, expected: int = EXPECTED_ABI_VERSION) -> Optional[str]:
    """Why ``module`` (a loaded ``coordnet._C``) cannot serve this Python side, or ``None``."""
    found = getattr(module, "ABI_VERSION", None)
    if found == expected:
        return None
    return (
        f"stale build: coordnet._C has interface version {found if found is not None else 'none (older)'}, "
        f"this coordnet expects {expected}; rebuild it"
    )


def _load() -> "tuple[Optional[ModuleType], Optional[str]]":
    import torch  # noqa: F401  (loads libc10/libtorch, which _C links against)

    try:
        _C = importlib.import_module("coordnet._C")  # registers torch.ops.coordnet.*
    except Exception as error:  # any failure (missing file, ABI mismatch) means: no extension
        return None, f"{type(error).__name__}: {error}"
    stale = stale_build_error(_C)
    if stale is not None:
        return None, stale
    return _C, None


_module, load_error = _load()
_warned = False


def available() -> bool:
    """True when ``coordnet._C`` loaded and its ops are registered."""
    return _module is not None


def has_cuda_kernels() -> bool:
    """True when the extension was built with its CUDA kernels."""
    return _module is not None and bool(getattr(_module, "WITH_CUDA", 0))


def warn_once_if_missing() -> None:
    """Say once per process why the compiled path is unavailable."""
    global _warned
    if _module is None and not _warned:
        _warned = True
        warnings.warn(
            f"coordnet's compiled extension is unavailable ({load_error}); using the pure-PyTorch "
            "reference path, which is slower. Reinstall with `pip install --no-build-isolation .` to build it.",
            ExtensionWarning,
            stacklevel=3,
        )
