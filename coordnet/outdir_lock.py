"""One owner per output folder: an advisory lock on a file inside it, held for a job's life.

A job (``coordnet fit``, ``compare``, ``render``, ``regions``, a sweep driver) resolves its
output folder once with :func:`resolve_output_folder` (``~`` expanded, made absolute) and calls
:func:`output_folder_lock` on it before it writes anything there. The lock is ``fcntl.flock``
on an open descriptor of the folder itself: the operating system drops it when the holder
exits or is killed, so nothing left behind by a crashed job blocks the next one, and deleting
files inside the folder does not hand the lock to a second job. The holder writes its pid,
command line and start time into ``FOLDER/.coordnet.lock`` (opened with ``O_NOFOLLOW``: a
symbolic link placed there is refused, never written through), and a second job on the same
folder fails at once with an :class:`OutputFolderBusyError` naming them. Within one process the lock is re-entrant, so a
job may call a function that takes the same lock again.

A child forked by the holder (``os.fork``, ``multiprocessing``'s fork start method) closes its
inherited copies of the lock's descriptors at once, so the lock ends with the holder even
while such children live on (descriptors are also closed on ``exec``).

The lock is advisory and local: processes that do not take it, or folders on network file
systems without ``flock`` support, are not protected.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import json
import os
import stat
import sys
import threading
from typing import Dict, Iterator, List, Optional

LOCK_NAME = ".coordnet.lock"

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_held: Dict[str, List[int]] = {}  # real path of the folder -> [folder descriptor, depth]
_guard = threading.Lock()


def _close_inherited_locks() -> None:
    """In a freshly forked child: close the copies of the parent's lock descriptors (the child
    holds no lock; a shared open file description would otherwise keep the parent's flock)."""
    global _guard
    _guard = threading.Lock()  # the parent's lock may have been held by another thread at fork
    for fd, _depth in _held.values():
        try:
            os.close(fd)
        except OSError:
            pass
    _held.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_inherited_locks)


class OutputFolderBusyError(RuntimeError):
    """Another process holds the lock of the output folder."""


def _fcntl():
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory locks, no protection
        return None
    return fcntl


def resolve_output_folder(folder: "os.PathLike[str] | str") -> str:
    """``folder`` with ``~`` expanded, made absolute: the one path a job uses for its lock, its
    checkpoint and its other outputs (a literal ``~/out`` never becomes ``./~/out``)."""
    if not isinstance(folder, (str, os.PathLike)):
        raise TypeError(f"output folder must be a str or os.PathLike, got {type(folder).__name__}")
    text = os.fspath(folder)
    if not text or not text.strip() or "\0" in text:
        raise ValueError(f"output folder {text!r} is not a usable path")
    return os.path.abspath(os.path.expanduser(text))


def _describe_holder(path: str) -> str:
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW)
        with os.fdopen(fd) as handle:
            holder = json.loads(handle.read(65536) or "{}")
    except (OSError, ValueError):
        holder = {}
    if not isinstance(holder, dict) or "pid" not in holder:
        return "another process (it has not written its details yet)"
    command = holder.get("command") or "?"
    since = f" since {holder['started']}" if holder.get("started") else ""
    return f"pid {holder['pid']} ({command}){since}"


def _not_writable(folder: str, error: OSError) -> OSError:
    reason = error.strerror or type(error).__name__
    return OSError(error.errno, f"output folder {folder!r} is not writable ({reason})")


def _open_folder(folder: str) -> int:
    """An open descriptor of ``folder`` (created if missing): what the lock is held on."""
    try:
        os.makedirs(folder, exist_ok=True)
        return os.open(folder, os.O_RDONLY | _DIRECTORY)
    except OSError as error:
        raise _not_writable(folder, error) from None


def _write_holder(folder: str, command: str) -> None:
    """Write pid, command and start time into ``FOLDER/.coordnet.lock``, never through a link."""
    path = os.path.join(folder, LOCK_NAME)
    try:
        # O_NONBLOCK: a FIFO placed there fails at once instead of waiting for a reader
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | _NOFOLLOW | _NONBLOCK, 0o666)
    except OSError as error:
        if error.errno == errno.ELOOP or os.path.islink(path):
            raise OSError(
                errno.ELOOP,
                f"lock file {path!r} is a symbolic link; refusing to write through it (remove it)",
            ) from None
        reason = error.strerror or type(error).__name__
        raise OSError(error.errno, f"lock file {path!r} cannot be written ({reason})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, f"lock file {path!r} is not a regular file (remove it)")
        started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        record = json.dumps({"pid": os.getpid(), "command": command, "started": started}) + "\n"
        os.ftruncate(fd, 0)
        os.pwrite(fd, record.encode(), 0)
    except OSError as error:
        if error.errno == errno.EINVAL:
            raise
        raise _not_writable(folder, error) from None
    finally:
        os.close(fd)


def acquire(folder: str, command: Optional[str] = None) -> str:
    """Take the lock of ``folder`` (created if missing) without waiting; returns its real path.

    Raises:
        OutputFolderBusyError: another process holds it (the message names pid and command).
        OSError: the folder cannot be created or written (read-only, not a folder, ...).
    """
    key = os.path.realpath(folder)
    with _guard:
        if key in _held:
            _held[key][1] += 1
            return key
        fd = _open_folder(folder)
        try:
            _lock(fd, folder)
            _write_holder(
                folder,
                command or " ".join([os.path.basename(sys.argv[0] or "python"), *sys.argv[1:]]),
            )
        except BaseException:
            os.close(fd)
            raise
        _held[key] = [fd, 1]
        return key


def _lock(fd: int, folder: str) -> None:
    """``flock`` the folder descriptor ``fd`` without waiting, or raise :class:`OutputFolderBusyError`."""
    fcntl = _fcntl()
    if fcntl is None:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise
        holder = _describe_holder(os.path.join(folder, LOCK_NAME))
        raise OutputFolderBusyError(
            f"output folder {folder!r} is in use by {holder}; wait for it to finish or choose another folder"
        ) from None


def release(key: str) -> None:
    """Undo one :func:`acquire` (``key``: what it returned); the last one drops the lock."""
    with _guard:
        entry = _held.get(key)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] == 0:
            del _held[key]
            os.close(entry[0])  # closing the last descriptor releases the flock


@contextlib.contextmanager
def output_folder_lock(folder: str, command: Optional[str] = None) -> Iterator[str]:
    """Hold the lock of ``folder`` for the ``with`` block (see :func:`acquire`); yields its real path."""
    key = acquire(folder, command)
    try:
        yield key
    finally:
        release(key)


@contextlib.contextmanager
def folder_not_in_use(folder: str) -> Iterator[str]:
    """For a job that writes single, non-resumable files into an existing ``folder`` (``render``'s
    PNG): hold the folder's ``flock`` for the ``with`` block but write no lock file, so that a
    job that owns the folder (a running fit) stops this one, and nothing is left behind.
    Yields the folder's real path; raises :class:`OutputFolderBusyError` like :func:`acquire`."""
    key = os.path.realpath(folder)
    with _guard:
        held = key in _held
    if held:  # this process owns the folder already
        yield key
        return
    try:
        fd = os.open(folder, os.O_RDONLY | _DIRECTORY)
    except OSError as error:
        raise _not_writable(folder, error) from None
    try:
        _lock(fd, folder)
        yield key
    finally:
        os.close(fd)  # closing the descriptor releases the flock


def is_locked_here(folder: str) -> bool:
    """Whether this process holds the lock of ``folder``."""
    with _guard:
        return os.path.realpath(folder) in _held


__all__ = [
    "LOCK_NAME",
    "OutputFolderBusyError",
    "acquire",
    "folder_not_in_use",
    "is_locked_here",
    "output_folder_lock",
    "release",
    "resolve_output_folder",
]
