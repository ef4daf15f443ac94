"""Budgets: frozen dataclasses holding an experiment's settings, with typed overrides."""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from typing import Any, Sequence, TypeVar

Self = TypeVar("Self", bound="Budget")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _parse_scalar(kind: Any, text: str) -> Any:
    """``text`` converted to ``kind`` (int, float, bool or str); ``ValueError`` otherwise."""
    if kind is bool:
        lowered = text.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(f"expected a boolean (true/false), got {text!r}")
    if kind is int:
        return int(text.strip())
    if kind is float:
        return float(text.strip())
    if kind is str:
        return text
    raise ValueError(f"settings of type {kind!r} cannot be overridden from text")


def _parse(annotation: Any, text: str) -> Any:
    """``text`` parsed by a field annotation: scalars, ``Optional[...]`` and homogeneous tuples."""
    origin = typing.get_origin(annotation)
    if origin is typing.Union or (hasattr(types, "UnionType") and origin is types.UnionType):
        arguments = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(arguments) != len(typing.get_args(annotation)) and text.strip().lower() in {
            "none",
            "null",
            "",
        }:
            return None
        if len(arguments) != 1:
            raise ValueError(
                f"unions of several types ({annotation!r}) cannot be overridden from text"
            )
        return _parse(arguments[0], text)
    if origin is tuple:
        members = typing.get_args(annotation)
        if len(members) == 2 and members[1] is Ellipsis:
            items = [item for item in text.split(",") if item.strip() != ""]
            return tuple(
                _parse_scalar(members[0], item.strip() if members[0] is str else item)
                for item in items
            )
        items = text.split(",")
        if len(items) != len(members):
            raise ValueError(f"expected {len(members)} comma-separated values, got {len(items)}")
        return tuple(_parse_scalar(kind, item) for kind, item in zip(members, items))
    return _parse_scalar(annotation, text)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    return value


@dataclasses.dataclass(frozen=True)
class Budget:
    """Base of an experiment's settings; subclass it as a frozen dataclass with typed fields.

    Contract: every field is a JSON-able scalar, ``Optional`` scalar or tuple of scalars, so a
    budget round-trips through ``as_dict`` and ``with_overrides``."""

    def with_overrides(self: Self, assignments: Sequence[str]) -> Self:
        """A copy with ``"key=value"`` assignments applied, each parsed by its field's annotation
        (int, float, bool, str, Optional[...], tuples as comma-separated values).

        Raises ``ValueError`` naming the key (and listing the valid keys) for an unknown key (with
        the nearest valid key), a missing ``=`` or a value that does not parse."""
        hints = typing.get_type_hints(type(self))
        names = [field.name for field in dataclasses.fields(self)]
        valid = ", ".join(names)
        changes: dict[str, Any] = {}
        for assignment in assignments:
            key, separator, text = assignment.partition("=")
            key = key.strip()
            if not separator:
                raise ValueError(f"override {assignment!r} is not KEY=VALUE (valid keys: {valid})")
            if key not in names:
                close = difflib.get_close_matches(key, names, n=1, cutoff=0.5)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise ValueError(f"unknown setting {key!r} ({hint}valid keys: {valid})")
            try:
                changes[key] = _parse(hints[key], text)
            except ValueError as error:
                raise ValueError(f"bad value for {key!r}: {error} (valid keys: {valid})") from None
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        """The settings as a JSON-able dict (tuples become lists)."""
        return {
            field.name: _jsonable(getattr(self, field.name)) for field in dataclasses.fields(self)
        }

    def differences(self, other: "Budget") -> list[str]:
        """``"key: ours vs paper"`` for every field whose value differs from ``other``'s (fields
        that ``other`` lacks are listed with ``-`` as its value)."""
        ours = self.as_dict()
        theirs = other.as_dict()
        lines = []
        for key, value in ours.items():
            if key not in theirs:
                lines.append(f"{key}: {_show(value)} vs -")
            elif theirs[key] != value:
                lines.append(f"{key}: {_show(value)} vs {_show(theirs[key])}")
        return lines


def _show(value: Any) -> str:
    """A setting as text; a run of 4 or more consecutive integers as ``first…last``."""
    if isinstance(value, list):
        if (
            len(value) >= 4
            and all(type(v) is int for v in value)
            and value == list(range(value[0], value[-1] + 1))
        ):
            return f"{value[0]}…{value[-1]}"
        return ",".join(str(item) for item in value)
    return str(value)
