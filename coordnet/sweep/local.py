"""The local backend: a pool of worker processes, each fitting one run at a time."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import traceback
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Callable, Dict, List, Optional, Sequence

from coordnet.sweep.expand import Run
from coordnet.sweep.lifeline import bind_to_driver
from coordnet.sweep.run import execute, record_error, set_threads
from coordnet.validation import check_count


def cpu_count() -> int:
    """Cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def threads_per_worker(workers: int, cores: Optional[int] = None) -> int:
    """``cores // workers`` (at least 1): torch threads per worker, so the workers together do
    not oversubscribe the cores."""
    return max(1, (cores or cpu_count()) // max(1, workers))


ATTEMPTS = 2  # tries of a run whose worker process died
PRELOAD = [
    "coordnet.sweep.run",
    "coordnet.runs.run",
    "coordnet.plots",
    "coordnet.signals",
    "matplotlib.figure",
    "matplotlib.backends.backend_agg",
]


def pool_context():
    """``forkserver`` where available (workers forked from a clean server that imported
    :data:`PRELOAD` once: quick to start, no fork of a process holding threads), else ``spawn``."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        return context
    return multiprocessing.get_context("spawn")  # pragma: no cover - not POSIX


def check_parallelism(workers: int, threads: Optional[int], cores: Optional[int] = None) -> None:
    """``ValueError`` naming ``workers`` or ``threads`` when either is not an integer in
    ``[1, cores]`` (default :func:`cpu_count`): more would only oversubscribe the cores, and
    tens of thousands exhaust the process or thread limit."""
    bound = cores or cpu_count()
    check_count("workers", workers, maximum=bound, why=f"the {bound} cores of this machine")
    if threads is not None:
        check_count("threads", threads, maximum=bound, why=f"the {bound} cores of this machine")


def _initialise(threads: int, driver_pid: int) -> None:
    bind_to_driver(driver_pid)  # no worker outlives the driver, however the driver dies
    signal.signal(
        signal.SIGINT, signal.SIG_IGN
    )  # Ctrl-C reaches the whole group: the driver ends the workers
    os.environ["OMP_NUM_THREADS"] = str(threads)
    set_threads(threads)


def _end_workers(pool: ProcessPoolExecutor) -> None:
    """Kill the pool's worker processes now (the runs in flight are lost; their folders keep
    only atomically written files) and shut the pool down without waiting."""
    for process in list(
        (getattr(pool, "_processes", None) or {}).values()
    ):  # 3.14 has terminate_workers()
        with contextlib.suppress(Exception):
            process.kill()
    pool.shutdown(wait=False, cancel_futures=True)


def run_local(
    runs: Sequence[Run],
    out_dir: str,
    workers: int = 1,
    threads: Optional[int] = None,
    on_start: Callable[[Run], None] = lambda run: None,
    on_finish: Callable[[Run, Dict], None] = lambda run, record: None,
    on_requeue: Callable[[Run], None] = lambda run: None,
) -> List[Dict]:
    """Fit ``runs`` in ``workers`` processes (:func:`pool_context`, ``threads`` torch threads each, default
    :func:`threads_per_worker`), at most ``workers`` runs in flight; returns the records.

    A worker process that dies (killed, out of memory) breaks the pool: it is started afresh
    and the runs that were in flight are queued again, up to :data:`ATTEMPTS` times each, after
    which such a run is recorded as failed in its ``error.json``."""
    check_parallelism(workers, threads)
    threads = threads or threads_per_worker(workers)
    queue = list(runs)
    attempts: Dict[str, int] = {}
    records: List[Dict] = []
    context = pool_context()

    def new_pool() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=_initialise,
            initargs=(threads, os.getpid()),
        )

    pool = new_pool()
    in_flight: Dict[Future, Run] = {}
    try:
        while queue or in_flight:
            while queue and len(in_flight) < workers:
                run = queue.pop(0)
                attempts[run.hash] = attempts.get(run.hash, 0) + 1
                in_flight[pool.submit(execute, run.to_dict(), out_dir, threads)] = run
                on_start(run)
            finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            broken: List[Run] = []
            for future in finished:
                run = in_flight.pop(future)
                try:
                    record = future.result()
                except BrokenProcessPool:
                    broken.append(run)
                    continue
                except (
                    BaseException
                ) as error:  # raised outside execute's own guard (e.g. unpicklable)
                    record = record_error(
                        out_dir,
                        run,
                        f"{type(error).__name__}: {error}",
                        "".join(traceback.format_exception(error)),
                    )
                records.append(record)
                on_finish(run, record)
            if broken:
                broken += list(in_flight.values())  # the pool is gone: every run in flight is lost
                in_flight.clear()
                pool.shutdown(wait=False, cancel_futures=True)
                pool = new_pool()
                for run in reversed(broken):
                    if attempts[run.hash] < ATTEMPTS:
                        queue.insert(0, run)
                        on_requeue(run)
                    else:
                        record = record_error(
                            out_dir,
                            run,
                            f"a worker process died while fitting this run, "
                            f"{ATTEMPTS} times (killed, out of memory, or a crash)",
                        )
                        records.append(record)
                        on_finish(run, record)
    except BaseException:  # the driver is interrupted (Ctrl-C, SIGTERM turned into an exception)
        _end_workers(pool)
        raise
    pool.shutdown(wait=True, cancel_futures=True)
    return records
