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


class renamed_attribute:
    """A class attribute ``old`` that reads (and writes) ``new`` with a ``DeprecationWarning``.

    ``class HashGrid: n_levels = renamed_attribute("n_levels", "num_levels")`` keeps
    ``grid.n_levels`` working for one release while the attribute is ``num_levels``.
    """

    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new

    def _warn(self, owner: type) -> None:
        warnings.warn(f"{owner.__name__}.{self.old} is deprecated, use .{self.new}", DeprecationWarning, stacklevel=3)

    def __get__(self, instance: Any, owner: type) -> Any:
        if instance is None:
            return self
        self._warn(owner)
        return getattr(instance, self.new)

    def __set__(self, instance: Any, value: Any) -> None:
        self._warn(type(instance))
        setattr(instance, self.new, value)
