"""JSON config files as tiny-cuda-nn and instant-NGP write them: comments and ``"parent"`` files.

:func:`load_json_config` reads a JSON object from a file after removing ``//`` line comments and
``/* */`` block comments (never inside strings), then resolves ``"parent"``: a path relative to
the file's folder whose config the child is merged over, key by key and recursively (a child's
``null`` removes the parent's key, as JSON merge patches do). Parents may have parents; a cycle
is an error naming the files. :func:`parse_json_text` is the same without a file (``"parent"`` is
then resolved relative to the working directory).

Every failure is a :class:`~coordnet.config_errors.ConfigError` naming the file, and for bad
JSON the line and column.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Mapping, Optional

from coordnet.config_errors import ConfigError
from coordnet.config_files import ConfigFileError, read_text_file

#: Longest chain of ``"parent"`` files followed.
MAX_PARENT_DEPTH = 32


def strip_comments(text: str, source: str = "config") -> str:
    """``text`` with every ``// ...`` and ``/* ... */`` outside strings replaced by spaces
    (newlines kept, so line and column numbers of later errors stay right).

    Raises:
        ConfigError: a ``/*`` without its ``*/`` (naming ``source`` and the line).
    """
    out: List[str] = []
    i, n, in_string = 0, len(text), False
    while i < n:
        c = text[i]
        if in_string:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 1
            elif c == '"':
                in_string = False
            i += 1
        elif c == '"':
            in_string = True
            out.append(c)
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append(" " * (end - i))
            i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                line = text.count("\n", 0, i) + 1
                raise ConfigError(source, f"line {line}", "a /* comment is never closed by */")
            out.append("".join(ch if ch == "\n" else " " for ch in text[i : end + 2]))
            i = end + 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def merge_patch(parent: Mapping[str, Any], child: Mapping[str, Any]) -> Dict[str, Any]:
    """``parent`` with ``child`` merged over it: objects merge key by key, recursively; any other
    child value replaces the parent's; a child ``None`` (JSON ``null``) removes the key."""
    merged = dict(parent)
    for key, value in child.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_patch(merged[key], value)
        else:
            merged[key] = value
    return merged


def _decode(text: str, source: str) -> Any:
    try:
        return json.loads(strip_comments(text, source))
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        raise ConfigError(source, "", f"not valid JSON: {error.msg} at {where}") from None
    except RecursionError:
        raise ConfigError(source, "", "nested too deeply") from None


def _read(path: str, source: str) -> str:
    """The UTF-8 text of ``path`` (:func:`coordnet.config_files.read_text_file`: a regular
    file of bounded size); errors name ``source`` (the file, and whose parent it is)."""
    try:
        return read_text_file(path, source)
    except ConfigFileError as error:
        problem = str(error).replace(f"{source} {path!r} ", "", 1)
        raise ConfigError(source, "", problem) from None
    except OSError as error:
        raise ConfigError(source, "", f"cannot read it: {error.strerror or error}") from None


def _resolve(data: Any, base_dir: str, source: str, what: str, chain: List[str]) -> Dict[str, Any]:
    if not isinstance(data, Mapping):
        raise ConfigError(source, "", f"must be a JSON object, got {type(data).__name__}")
    if "parent" not in data:
        return dict(data)
    parent = data["parent"]
    if not isinstance(parent, str) or not parent:
        raise ConfigError(source, "key 'parent'", f"must be a file path, got {parent!r}")
    path = os.path.normpath(os.path.join(base_dir, parent))
    if path in chain:
        cycle = " -> ".join([*chain, path])
        raise ConfigError(source, "key 'parent'", f"parent files form a cycle: {cycle}")
    if len(chain) >= MAX_PARENT_DEPTH:
        raise ConfigError(source, "key 'parent'", f"more than {MAX_PARENT_DEPTH} parent files")
    parent_source = f"{what} {path!r} (parent of {source})"
    parent_data = _resolve(
        _decode(_read(path, parent_source), parent_source),
        os.path.dirname(path),
        parent_source,
        what,
        [*chain, path],
    )
    child = {k: v for k, v in data.items() if k != "parent"}
    return merge_patch(parent_data, child)


def load_json_config(path: "os.PathLike[str] | str", what: str = "config file") -> Dict[str, Any]:
    """The JSON object of the file ``path``, comments removed and ``"parent"`` files merged
    under it (see the module docstring). ``what`` names the file in errors.

    Raises:
        ConfigError: unreadable file, bad JSON (line and column), not an object, a bad or
            cyclic ``"parent"``.
    """
    name = os.path.normpath(os.fspath(path))
    source = f"{what} {name!r}"
    data = _decode(_read(name, source), source)
    return _resolve(data, os.path.dirname(name), source, what, [name])


def parse_json_text(
    text: str, source: str = "config string", base_dir: Optional[str] = None
) -> Dict[str, Any]:
    """The JSON object of ``text`` (comments allowed), ``"parent"`` resolved relative to
    ``base_dir`` (default: the working directory)."""
    data = _decode(text, source)
    return _resolve(data, base_dir or os.getcwd(), source, "config file", [])


__all__ = [
    "MAX_PARENT_DEPTH",
    "load_json_config",
    "merge_patch",
    "parse_json_text",
    "strip_comments",
]
