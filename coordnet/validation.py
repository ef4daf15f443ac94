"""Argument checks shared by every layer: errors name the argument and the value.

Every check raises :class:`ArgumentTypeError` (a ``TypeError`` that is also a ``ValueError``,
so callers catching either see it) for a value of the wrong kind (a string, a float where an
integer is meant; ``bool`` is never a number here) and ``ValueError`` for one out of range,
never ``OverflowError``: a huge integer or an infinite float is reported as out of range.
"""

from __future__ import annotations

import math
import numbers
from typing import Optional, Sequence

SEED_MAX = (
    2**63 - 1
)  # torch.Generator.manual_seed takes seeds in [-2^63, 2^64); one sign keeps them simple
FLOAT32_MAX = 3.4028234663852886e38


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong type; a ``ValueError`` too, for callers that catch bad values."""


def _is_integer(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check_int(
    name: str,
    value: int,
    minimum: Optional[int] = None,
    maximum: Optional[int] = None,
    why: Optional[str] = None,
) -> int:
    """``int(value)`` if it is an integer (not a bool, not a float) in ``[minimum, maximum]``
    (either bound optional); ``ArgumentTypeError`` for another type, ``ValueError`` out of range, both
    naming ``name``. ``why`` explains the upper bound in the message."""
    low = f" >= {minimum}" if minimum is not None else ""
    because = f" ({why})" if why else ""
    if not _is_integer(value):
        raise ArgumentTypeError(f"{name} must be an integer{low}, got {_short(value)}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be an integer{low}, got {_short(value)}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be an integer <= {maximum}{because}, got {_short(value)}")
    return value


def check_count(
    name: str,
    value: int,
    minimum: int = 1,
    maximum: Optional[int] = None,
    why: Optional[str] = None,
) -> int:
    """``value`` if it is an integer in ``[minimum, maximum]``, else ``ValueError`` naming ``name``
    (``TypeError`` for a non-integer: a bool, a float, a string)."""
    return check_int(name, value, minimum, maximum, why)


def check_seed(name: str, value: int) -> int:
    """A seed: an integer in ``[0, 2^63 - 1]`` (``TypeError`` for bools, floats, strings)."""
    return check_int(name, value, 0, SEED_MAX, why="seeds are 63-bit")


def check_real(name: str, value: float) -> float:
    """``float(value)`` if ``value`` is a finite real number (not a bool), else ``TypeError`` /
    ``ValueError`` naming ``name``."""
    if not _is_real(value):
        raise ArgumentTypeError(
            f"{name} must be a number, got {type(value).__name__} {_short(value)}"
        )
    try:
        result = float(value)
    except OverflowError:  # an int beyond float range
        raise ValueError(f"{name} must be a finite number, got {_short(value)}") from None
    if not math.isfinite(result):
        raise ValueError(f"{name} must be a finite number, got {_short(value)}")
    return result


def check_interval(
    name: str,
    value: float,
    low: Optional[float] = None,
    high: Optional[float] = None,
    low_open: bool = False,
    high_open: bool = False,
    why: Optional[str] = None,
) -> float:
    """``float(value)`` if it is a finite number in the interval from ``low`` to ``high`` (either
    optional; ``*_open`` excludes the end), else ``TypeError`` / ``ValueError`` naming ``name``."""
    result = check_real(name, value)
    below = low is not None and (result <= low if low_open else result < low)
    above = high is not None and (result >= high if high_open else result > high)
    if below or above:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        span = f"{left}{'-inf' if low is None else f'{low:g}'}, {'inf' if high is None else f'{high:g}'}{right}"
        because = f" ({why})" if why else ""
        raise ValueError(f"{name} must be in {span}{because}, got {_short(value)}")
    return result


def check_positive(
    name: str, value: float, maximum: Optional[float] = None, why: Optional[str] = None
) -> float:
    """``float(value)`` if it is a positive finite number (at most ``maximum`` if given), else
    ``ValueError`` naming ``name`` (``TypeError`` for a non-number)."""
    if not _is_real(value):
        raise ArgumentTypeError(f"{name} must be a positive finite number, got {_short(value)}")
    try:
        result = float(value)
    except OverflowError:
        result = math.inf
    if not math.isfinite(result) or result <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {_short(value)}")
    if maximum is not None and result > maximum:
        because = f" ({why})" if why else ""
        raise ValueError(f"{name} must be at most {maximum:g}{because}, got {_short(value)}")
    return result


def check_choice(name: str, value: str, choices: Sequence[str]) -> str:
    """``value`` if it is one of ``choices``, else ``ValueError`` naming ``name`` and the choices."""
    try:
        known = value in choices
    except TypeError:  # unhashable
        known = False
    if not known:
        raise ValueError(
            f"{name} must be one of {', '.join(map(repr, choices))}, got {_short(value)}"
        )
    return value


def check_bool(name: str, value: bool) -> bool:
    """``value`` if it is a bool, else ``TypeError`` naming ``name``."""
    if not isinstance(value, bool):
        raise ArgumentTypeError(
            f"{name} must be True or False, got {type(value).__name__} {_short(value)}"
        )
    return value
