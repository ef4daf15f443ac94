"""Reading small text files (model specs, sweep files, encoding configs) with bounded cost.

:func:`read_text_file` refuses what is not a regular file (``/dev/zero``, a FIFO, a folder),
reads at most :data:`MAX_CONFIG_BYTES` and decodes UTF-8 strictly, so a binary or UTF-16 file
gives one line naming the file and the byte offset instead of a bare codec error.
:func:`parse_nested` runs a parser and reports a too-deeply nested document in one line
instead of Python's ``maximum recursion depth exceeded``.
"""

from __future__ import annotations

import os
import stat
from typing import Callable, TypeVar

#: The largest config file read (bytes): specs and sweep files are a few KiB.
MAX_CONFIG_BYTES = 16 * 1024 * 1024

T = TypeVar("T")


class ConfigFileError(ValueError):
    """A config file that cannot be read as text."""


def _utf16_hint(data: bytes) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or (len(data) > 1 and b"\x00" in data[:64]):
        return " (it looks like UTF-16 or binary data: save it as UTF-8)"
    return " (a binary file?)"


def read_text_file(path: "os.PathLike[str] | str", what: str) -> str:
    """The UTF-8 text of the regular file ``path`` (a leading byte-order mark dropped).

    Raises:
        ConfigFileError: naming ``what`` and ``path``: not a regular file, larger than
            :data:`MAX_CONFIG_BYTES`, or not UTF-8 (with the offset of the first bad byte).
        OSError: missing or unreadable (the caller names it).
    """
    name = os.fspath(path)
    with open(name, "rb") as handle:
        mode = os.fstat(handle.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise ConfigFileError(f"{what} {name!r} is not a regular file")
        data = handle.read(MAX_CONFIG_BYTES + 1)
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigFileError(
            f"{what} {name!r} is larger than {MAX_CONFIG_BYTES // (1024 * 1024)} MiB; "
            "a config file is a few KiB"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigFileError(
            f"{what} {name!r} is not UTF-8 text: byte {error.start} is {data[error.start : error.start + 1]!r}"
            + _utf16_hint(data)
        ) from None
    if "\x00" in text:
        raise ConfigFileError(
            f"{what} {name!r} holds a NUL character at offset {text.index(chr(0))}"
            + _utf16_hint(data)
        )
    return text[1:] if text.startswith("\ufeff") else text


def parse_nested(parse: Callable[[str], T], text: str, what: str) -> T:
    """``parse(text)``, with a document nested too deeply for the parser reported as a
    :class:`ConfigFileError` naming ``what`` (instead of ``RecursionError``)."""
    try:
        return parse(text)
    except RecursionError:
        raise ConfigFileError(
            f"{what} is nested too deeply (arrays or tables inside one another)"
        ) from None


__all__ = ["MAX_CONFIG_BYTES", "ConfigFileError", "parse_nested", "read_text_file"]
