"""Renamed keyword arguments: the old name keeps working for one release with a ``DeprecationWarning``."""

from __future__ import annotations

import re
import warnings
from typing import Any, Dict, Mapping


def rename_kwargs(
    owner: str, kwargs: Dict[str, Any], renames: Mapping[str, str], stacklevel: int = 3
) -> Dict[str, Any]:
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
        warnings.warn(
            f"{owner}: keyword {old}= is deprecated, use {new}=",
            DeprecationWarning,
            stacklevel=stacklevel,
        )
        out[new] = out.pop(old)
    return out


def renamed_kwargs(
    owner: str,
    deprecated: Mapping[str, Any],
    renames: Mapping[str, str],
    given: Mapping[str, Any],
    defaults: Mapping[str, Any],
    stacklevel: int = 4,
) -> Dict[str, Any]:
    """The values of the new keywords of a constructor that collects stray keywords in ``**deprecated``.

    ``given`` maps each new name to what it received, ``defaults`` to its default, ``renames``
    old names to new. Each old name in ``deprecated`` supplies its new name's value, with a
    ``DeprecationWarning``. ``TypeError`` for any other stray keyword, and for an old name given
    while its new name is not at its default (both spellings passed).
    """
    values = dict(given)
    if not deprecated:
        return values
    unknown = sorted(set(deprecated) - set(renames))
    if unknown:
        raise TypeError(f"{owner} got an unexpected keyword argument {unknown[0]!r}")
    for old in deprecated:
        new = renames[old]
        if given[new] != defaults[new]:
            raise TypeError(f"{owner}: got both {old}= (deprecated) and {new}=; pass only {new}=")
    values.update(rename_kwargs(owner, dict(deprecated), renames, stacklevel=stacklevel))
    return values


def renamed_kwarg(
    owner: str, deprecated: Mapping[str, Any], old: str, new: str, value: Any, default: Any
) -> Any:
    """:func:`renamed_kwargs` for one renamed keyword: the value of ``new`` (``value`` as received,
    ``default`` its default), or that of ``old`` in ``deprecated`` with a ``DeprecationWarning``."""
    return renamed_kwargs(
        owner, deprecated, {old: new}, {new: value}, {new: default}, stacklevel=5
    )[new]


class renamed_attribute:
    """A class attribute ``old`` that reads (and writes) ``new`` with a ``DeprecationWarning``.

    ``class HashGrid: n_levels = renamed_attribute("n_levels", "num_levels")`` keeps
    ``grid.n_levels`` working for one release while the attribute is ``num_levels``.
    """

    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new

    def _warn(self, owner: type) -> None:
        warnings.warn(
            f"{owner.__name__}.{self.old} is deprecated, use .{self.new}",
            DeprecationWarning,
            stacklevel=3,
        )

    def __get__(self, instance: Any, owner: type) -> Any:
        if instance is None:
            return self
        self._warn(owner)
        return getattr(instance, self.new)

    def __set__(self, instance: Any, value: Any) -> None:
        self._warn(type(instance))
        setattr(instance, self.new, value)


def names_in_message(message: str, names: Mapping[str, str]) -> str:
    """``message`` with every whole-word occurrence of a key of ``names`` replaced by its value
    (an error raised under a constructor's argument names, told in a config's or spec's keys)."""
    if not names:
        return message
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b")
    return pattern.sub(lambda match: names[match.group(1)], message)
