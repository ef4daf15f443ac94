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


def renamed_kwarg(owner: str, deprecated: Mapping[str, Any], old: str, new: str, value: Any, default: Any) -> Any:
    """The value of keyword ``new`` for a constructor that collects stray keywords in ``**deprecated``.

    ``value`` (what ``new`` received) unless ``deprecated`` holds ``old``: then that value, with a
    ``DeprecationWarning``. ``TypeError`` for any other stray keyword, and for ``old`` given while
    ``new`` is not at its ``default`` (both spellings passed).
    """
    if not deprecated:
        return value
    unknown = sorted(set(deprecated) - {old})
    if unknown:
        raise TypeError(f"{owner} got an unexpected keyword argument {unknown[0]!r}")
    if value != default:
        raise TypeError(f"{owner}: got both {old}= (deprecated) and {new}=; pass only {new}=")
    return rename_kwargs(owner, dict(deprecated), {old: new}, stacklevel=4)[new]


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
