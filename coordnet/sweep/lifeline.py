"""Worker processes that cannot outlive the sweep driver.

A worker of the local pool is forked by multiprocessing's fork server, not by the driver, and
every worker holds the fork server's "alive" pipe open, so the fork server does not exit when
the driver dies and a parent-death signal on the worker alone would never fire. A worker
therefore watches the driver itself: :func:`bind_to_driver` opens a process file descriptor of
the driver (``pidfd_open``, Linux >= 5.3; polling the pid elsewhere) and a daemon thread ends
the worker the moment the driver has exited, however it died (SIGKILL, SIGTERM, SIGINT, a
crash). On Linux the worker also gets ``PR_SET_PDEATHSIG`` (``SIGKILL`` when its parent, the
fork server, dies). A killed worker writes nothing more: every file of a run is written
atomically (:mod:`coordnet.atomic`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
POLL_SECONDS = 0.2  # driver liveness check where pidfd_open is unavailable
EXIT_STATUS = 128 + signal.SIGKILL


def set_parent_death_signal(signum: int = signal.SIGKILL) -> bool:
    """Ask Linux to send ``signum`` to this process when its parent dies; ``False`` where
    ``prctl`` is unavailable (not Linux)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0) == 0
    except (OSError, AttributeError):  # pragma: no cover - no libc / no prctl
        return False


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet reaped, counts as exited)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - another user's process took the pid
        return False
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):  # no /proc: trust kill(0)
        return True


def _die() -> None:
    os._exit(EXIT_STATUS)


def _watch_pidfd(fd: int) -> None:
    select.select([fd], [], [])  # readable once the process has exited
    _die()


def _watch_polling(pid: int) -> None:
    while _alive(pid):
        time.sleep(POLL_SECONDS)
    _die()


def bind_to_driver(driver_pid: int) -> None:
    """End this process as soon as the process ``driver_pid`` exits (see the module docstring);
    ends it at once if that process has already gone. Call it first thing in a worker."""
    set_parent_death_signal(signal.SIGKILL)
    try:
        fd = os.pidfd_open(driver_pid)
    except ProcessLookupError:
        _die()
    except (AttributeError, OSError):  # no pidfd_open (old kernel, not Linux): poll the pid
        if not _alive(driver_pid):
            _die()
        threading.Thread(
            target=_watch_polling, args=(driver_pid,), name="coordnet-lifeline", daemon=True
        ).start()
        return
    if not _alive(driver_pid):  # exited, not yet reaped, before the descriptor was opened
        _die()
    threading.Thread(target=_watch_pidfd, args=(fd,), name="coordnet-lifeline", daemon=True).start()
