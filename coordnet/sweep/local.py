"""The local backend: a pool of worker processes, each fitting one run at a time."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import traceback
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Callable, Dict, List, Optional, Sequence, Tuple

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


class _Pool:
    """The state of :func:`run_local`: a process pool, the queue, the runs in flight and the records."""

    def __init__(
        self,
        runs: Sequence[Run],
        out_dir: str,
        workers: int,
        threads: int,
        callbacks: Tuple[Callable[[Run], None], Callable[[Run, Dict], None], Callable[[Run], None]],
    ) -> None:
        self.out_dir, self.workers, self.threads = out_dir, workers, threads
        self.on_start, self.on_finish, self.on_requeue = callbacks
        self.queue = list(runs)
        self.attempts: Dict[str, int] = {}
        self.records: List[Dict] = []
        self.in_flight: Dict[Future, Run] = {}
        self.context = pool_context()
        self.pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=self.context,
            initializer=_initialise,
            initargs=(self.threads, os.getpid()),
        )

    def _finish(self, run: Run, record: Dict) -> None:
        self.records.append(record)
        self.on_finish(run, record)

    def submit(self) -> None:
        """Start queued runs until ``workers`` are in flight."""
        while self.queue and len(self.in_flight) < self.workers:
            run = self.queue.pop(0)
            self.attempts[run.hash] = self.attempts.get(run.hash, 0) + 1
            future = self.pool.submit(execute, run.to_dict(), self.out_dir, self.threads)
            self.in_flight[future] = run
            self.on_start(run)

    def collect(self) -> List[Run]:
        """Wait for at least one run; record the finished ones; return those whose worker died."""
        finished, _ = wait(self.in_flight, return_when=FIRST_COMPLETED)
        broken: List[Run] = []
        for future in finished:
            run = self.in_flight.pop(future)
            try:
                record = future.result()
            except BrokenProcessPool:
                broken.append(run)
                continue
            except BaseException as error:  # raised outside execute's own guard (e.g. unpicklable)
                record = record_error(
                    self.out_dir,
                    run,
                    f"{type(error).__name__}: {error}",
                    "".join(traceback.format_exception(error)),
                )
            self._finish(run, record)
        return broken

    def recover(self, broken: List[Run]) -> None:
        """A worker died: start a fresh pool, queue the lost runs again (or record them as failed
        after :data:`ATTEMPTS` tries)."""
        broken += list(self.in_flight.values())  # the pool is gone: every run in flight is lost
        self.in_flight.clear()
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.pool = self._new_pool()
        for run in reversed(broken):
            if self.attempts[run.hash] < ATTEMPTS:
                self.queue.insert(0, run)
                self.on_requeue(run)
            else:
                problem = (
                    f"a worker process died while fitting this run, "
                    f"{ATTEMPTS} times (killed, out of memory, or a crash)"
                )
                self._finish(run, record_error(self.out_dir, run, problem))


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
    state = _Pool(runs, out_dir, workers, threads, (on_start, on_finish, on_requeue))
    try:
        while state.queue or state.in_flight:
            state.submit()
            broken = state.collect()
            if broken:
                state.recover(broken)
    except BaseException:  # the driver is interrupted (Ctrl-C, SIGTERM turned into an exception)
        _end_workers(state.pool)
        raise
    state.pool.shutdown(wait=True, cancel_futures=True)
    return state.records
