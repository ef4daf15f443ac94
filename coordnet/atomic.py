"""Atomic file writes: a temporary file in the destination folder, then ``os.replace``."""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from typing import Callable, Iterator, List

TEMPORARY_PREFIX = ".tmp-"
# What :func:`atomic_path` creates: the prefix, ``tempfile.mkstemp``'s 8 random characters,
# and the destination's extension.
_TEMPORARY = re.compile(re.escape(TEMPORARY_PREFIX) + r"[a-z0-9_]{8}(\.[A-Za-z0-9]{1,16})?")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str) -> Iterator[str]:
    """Yield a temporary path next to ``path``; on success it replaces ``path`` atomically,
    on failure it is removed and ``path`` is left as it was."""
    directory = os.path.dirname(os.path.abspath(path)) or "."
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
        with open(temporary, "rb") as handle:  # the data reaches the disk before the rename
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def write_atomically(path: str, write: Callable[[str], None]) -> None:
    """Call ``write(temporary_path)`` and move the result to ``path`` atomically."""
    with atomic_path(path) as temporary:
        write(temporary)


def write_json(path: str, payload: object, allow_nan: bool = False) -> None:
    """JSON with indentation, written atomically (NaN/inf refused unless ``allow_nan``)."""

    def write(temporary: str) -> None:
        with open(temporary, "w") as handle:
            json.dump(payload, handle, indent=2, allow_nan=allow_nan, default=str)
            handle.write("\n")

    write_atomically(path, write)


def write_text(path: str, text: str) -> None:
    """``text`` written atomically as is (no newline translation)."""

    def write(temporary: str) -> None:
        with open(temporary, "w", newline="") as handle:
            handle.write(text)

    write_atomically(path, write)


def remove_orphaned_temporaries(folder: str) -> List[str]:
    """Delete the temporary files that interrupted :func:`atomic_path` writes left in ``folder``
    (not its subfolders); returns their paths. Only names of the form ``.tmp-XXXXXXXX[.ext]``
    are touched. Call it only while no other writer uses ``folder`` (e.g. holding
    :func:`coordnet.outdir_lock.output_folder_lock`)."""
    removed = []
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
