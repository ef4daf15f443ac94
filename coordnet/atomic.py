"""Atomic file writes: a temporary file in the destination folder, then ``os.replace``.

The destination is never written through: the temporary file is created anew (``O_EXCL``,
reopened only with ``O_NOFOLLOW``) and renamed over the destination, and a destination that
exists but is not a regular file (a symbolic link, a device, a FIFO, a folder) is refused
with :class:`NotRegularFileError` before anything is written.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import stat
import tempfile
from typing import Callable, Iterator, List, Optional

TEMPORARY_PREFIX = ".tmp-"
# What :func:`atomic_path` creates: the prefix, ``tempfile.mkstemp``'s 8 random characters,
# and the destination's extension.
_TEMPORARY = re.compile(re.escape(TEMPORARY_PREFIX) + r"[a-z0-9_]{8}(\.[A-Za-z0-9]{1,16})?")


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class NotRegularFileError(ValueError):
    """The destination of a write exists and is not a regular file."""


def check_replaceable(path: str) -> None:
    """Raise :class:`NotRegularFileError` (one line naming ``path``) when ``path`` exists and is
    not a regular file: a symbolic link, a device, a FIFO, a socket or a folder is never replaced."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as error:
        raise NotRegularFileError(
            f"cannot check {path!r} before replacing it ({error.strerror})"
        ) from None
    if stat.S_ISREG(mode):
        return
    kind = (
        "a symbolic link"
        if stat.S_ISLNK(mode)
        else "a folder"
        if stat.S_ISDIR(mode)
        else "a device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "a FIFO"
        if stat.S_ISFIFO(mode)
        else "not a regular file"
    )
    raise NotRegularFileError(f"refusing to replace {path!r}: it is {kind}, not a regular file")


def open_nofollow(path: str, mode: str = "rb", **kwargs):
    """``open(path, mode)`` that refuses to follow a symbolic link at ``path`` (``O_NOFOLLOW``)."""
    return open(
        path, mode, opener=lambda name, flags: os.open(name, flags | _NOFOLLOW, 0o666), **kwargs
    )


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str) -> Iterator[str]:
    """Yield a temporary path next to ``path``; on success it replaces ``path`` atomically,
    on failure it is removed and ``path`` is left as it was."""
    directory = os.path.dirname(os.path.abspath(path)) or "."
    check_replaceable(path)
    os.makedirs(directory, exist_ok=True)
    fd, temporary = tempfile.mkstemp(
        dir=directory, prefix=TEMPORARY_PREFIX, suffix=os.path.splitext(path)[1]
    )
    os.close(fd)
    try:
        os.chmod(
            temporary, 0o666 & ~_umask()
        )  # mkstemp's 0600 would make the outputs private to their owner
        yield temporary
        with open_nofollow(temporary) as handle:  # the data reaches the disk before the rename
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise NotRegularFileError(f"temporary file {temporary!r} was replaced meanwhile")
            os.fsync(handle.fileno())
        check_replaceable(path)
        os.replace(temporary, path)
    finally:
        if os.path.lexists(temporary):
            os.unlink(temporary)


#: Free bytes below which a failed write is reported as a full disk.
NEARLY_FULL = 1024 * 1024


def _free_bytes(directory: str) -> Optional[int]:
    try:
        info = os.statvfs(directory)
    except (OSError, AttributeError):
        return None
    return info.f_bavail * info.f_frsize


def _write_failure(path: str, error: Exception) -> OSError:
    """One-line ``OSError`` naming ``path`` for a failed write (a full disk said so plainly,
    instead of e.g. torch's ``[enforce fail at inline_container.cc:...]``)."""
    free = _free_bytes(os.path.dirname(os.path.abspath(path)) or ".")
    if (isinstance(error, OSError) and error.errno == errno.ENOSPC) or (
        free is not None and free < NEARLY_FULL
    ):
        return OSError(errno.ENOSPC, f"cannot write {path!r}: no space left on the device")
    text = str(error).strip()
    first = text.splitlines()[0] if text else type(error).__name__
    first = re.sub(r"^\[enforce fail at [^\]]*\]\s*\.?\s*", "", first)
    code = error.errno if isinstance(error, OSError) and error.errno else errno.EIO
    return OSError(code, f"cannot write {path!r}: {first}")


def write_atomically(path: str, write: Callable[[str], None]) -> None:
    """Call ``write(temporary_path)`` and move the result to ``path`` atomically.

    A write that fails on an ``OSError`` or a library's ``RuntimeError`` (torch.save's writer)
    raises one ``OSError`` naming ``path`` (a full disk says so); ``path`` is left as it was."""
    with atomic_path(path) as temporary:
        try:
            write(temporary)
        except (OSError, RuntimeError) as error:
            raise _write_failure(path, error) from error


def write_json(path: str, payload: object, allow_nan: bool = False) -> None:
    """JSON with indentation, written atomically (NaN/inf refused unless ``allow_nan``)."""

    def write(temporary: str) -> None:
        with open_nofollow(temporary, "w") as handle:
            json.dump(payload, handle, indent=2, allow_nan=allow_nan, default=str)
            handle.write("\n")

    write_atomically(path, write)


def write_text(path: str, text: str) -> None:
    """``text`` written atomically as is (no newline translation)."""

    def write(temporary: str) -> None:
        with open_nofollow(temporary, "w", newline="") as handle:
            handle.write(text)

    write_atomically(path, write)


def remove_orphaned_temporaries(folder: str) -> List[str]:
    """Delete the temporary files that interrupted :func:`atomic_path` writes left in ``folder``
    (not its subfolders); returns their paths. Only names of the form ``.tmp-XXXXXXXX[.ext]``
    are touched. Call it only while no other writer uses ``folder`` (e.g. holding
    :func:`coordnet.outdir_lock.output_folder_lock`)."""
    removed: List[str] = []
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return removed
    for name in names:
        path = os.path.join(folder, name)
        if _TEMPORARY.fullmatch(name) and os.path.isfile(path) and not os.path.islink(path):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
                removed.append(path)
    return removed
