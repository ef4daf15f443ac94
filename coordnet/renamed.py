"""Renamed keyword arguments: the old name keeps working for one release with a ``DeprecationWarning``."""
from __future__ import annotations

import warnings
from typing import Any, Dict, Mapping


def rename_kwargs(owner: str, kwargs: Dict[str, Any], renames: Mapping[str, str], stacklevel: int = 3) -> Dict[str, Any]:
    """``kwargs`` with each old name in ``renames`` (old -> new) replaced by its new name.

    Every old name found warns (``DeprecationWarning`` naming ``owner``, the old and the new name);
    passing both spellings of one argument raises ``TypeError`` naming both. Keys not in ``renames``
    pass through unchanged. ``kwargs`` is not modified; a new dict is returned.
    """
    out = dict(kwargs)
    for old, new in renames.items():
        if old not in out:
            continue
        if new in out:
            raise TypeError(f"{owner}: got both {old}= (deprecated) and {new}=; pass only {new}=")
        warnings.warn(f"{owner}: keyword {old}= is deprecated, use {new}=", DeprecationWarning,
                      stacklevel=stacklevel)
        out[new] = out.pop(old)
    return out
