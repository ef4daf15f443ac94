"""One run of a sweep, in its own folder ``OUT/runs/<hash>``: ``config.json`` first, the fit's
outputs (:func:`coordnet.runs.run.run_fit`), then ``result.json`` (atomic) when it finished or
``error.json`` (with the traceback) when it failed."""

from __future__ import annotations

import json
import os
import socket
import sys
import time
import traceback
from typing import Any, Dict, Optional

from coordnet.atomic import write_json
from coordnet.sweep.expand import Run

RUNS = "runs"
RESULT = "result.json"
ERROR = "error.json"
CONFIG = "config.json"
DONE, FAILED, PENDING = "done", "failed", "pending"
RESULT_KEYS = ("train_psnr", "test_psnr", "full_psnr", "ssim", "iou", "steps", "seconds")


def run_directory(out_dir: str, run: Run) -> str:
    return os.path.join(out_dir, RUNS, run.hash)


UNREADABLE = "unreadable"


def _record_of(path: str, run: Run) -> Optional[Dict[str, Any]]:
    """The JSON object at ``path`` if it is a record of ``run`` (its hash), else ``None``."""
    try:
        with open(path) as handle:
            record = json.load(handle)
    except (OSError, ValueError, RecursionError):
        return None
    return record if isinstance(record, dict) and record.get("hash") == run.hash else None


def run_status(out_dir: str, run: Run) -> str:
    """``"done"`` (a readable ``result.json`` of this run), ``"failed"`` (a readable
    ``error.json``), ``"unreadable"`` (a ``result.json`` that cannot be read: truncated, not
    JSON, another run's; fitted again) or ``"pending"``."""
    directory = run_directory(out_dir, run)
    result = os.path.join(directory, RESULT)
    if os.path.exists(result):
        return DONE if _record_of(result, run) is not None else UNREADABLE
    if _record_of(os.path.join(directory, ERROR), run) is not None:
        return FAILED
    return PENDING


def read_result(out_dir: str, run: Run) -> Optional[Dict[str, Any]]:
    """The run's ``result.json``, or ``None`` if it has none (or it cannot be read)."""
    return _record_of(os.path.join(run_directory(out_dir, run), RESULT), run)


def read_error(out_dir: str, run: Run) -> Optional[Dict[str, Any]]:
    """The run's ``error.json``, or ``None`` if it has none (or it cannot be read)."""
    return _record_of(os.path.join(run_directory(out_dir, run), ERROR), run)


def record_error(out_dir: str, run: Run, error: str, details: str = "") -> Dict[str, Any]:
    """Write ``error.json`` for ``run`` (message and traceback); returns the record."""
    record = {**run.to_dict(), "status": FAILED, "error": error, "traceback": details}
    write_json(os.path.join(run_directory(out_dir, run), ERROR), record)
    return record


def set_threads(threads: Optional[int]) -> None:
    """Intra-op threads of torch in this process (``None``: leave torch's default)."""
    if threads is None:
        return
    import torch

    torch.set_num_threads(max(1, int(threads)))


def ray_node_id() -> Optional[str]:
    """The id of the Ray node this process runs on when it is a Ray worker, else ``None``."""
    ray = sys.modules.get("ray")
    if ray is None or not ray.is_initialized():
        return None
    return ray.get_runtime_context().get_node_id()


def execute(
    run_data: Dict[str, Any], out_dir: str, threads: Optional[int] = None
) -> Dict[str, Any]:
    """Fit one run (``Run.to_dict()``) into its folder; returns the record written to
    ``result.json`` (``status="done"``, the run's fields and metrics) or ``error.json``
    (``status="failed"``, ``error``, ``traceback``).

    Never raises for a failing fit: the exception (any ``BaseException``, ``KeyboardInterrupt``
    and ``SystemExit`` included) is recorded in ``error.json`` and returned as ``status="failed"``. A checkpoint left by an interrupted attempt is continued."""
    run = Run.from_dict(run_data)
    directory = run_directory(out_dir, run)
    os.makedirs(directory, exist_ok=True)
    for stale in (ERROR, RESULT):  # a retry, or a result.json that could not be read
        if os.path.exists(os.path.join(directory, stale)):
            os.unlink(os.path.join(directory, stale))
    write_json(os.path.join(directory, CONFIG), run.to_dict())
    set_threads(threads)
    started = time.perf_counter()
    try:
        from coordnet.runs.run import run_fit
        from coordnet.signals import load_signal
        from coordnet.training.trainer import TrainConfig

        config = run.config
        signal = load_signal(config["image"], size=config["size"])
        train = TrainConfig(**config["train"])
        outcome = run_fit(
            signal,
            config["spec"],
            train,
            directory,
            split=config["split"],
            resume=True,
            progress=False,
            checkpoint_every=train.steps,
            device=config["device"],
        )
    except (
        BaseException
    ) as error:  # any failure, KeyboardInterrupt and SystemExit too: recorded, the sweep goes on
        message = f"{type(error).__name__}: {error}".rstrip(": ")
        return record_error(out_dir, run, message, traceback.format_exc())
    metrics = outcome.metrics
    result = {
        **run.to_dict(),
        "status": DONE,
        **{key: metrics.get(key) for key in RESULT_KEYS},
        "num_parameters": metrics.get("params"),
        "wall_seconds": round(time.perf_counter() - started, 3),
        "threads": threads,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "ray_node": ray_node_id(),
    }
    write_json(os.path.join(directory, RESULT), result, allow_nan=True)
    return result


def settle(out_dir: str, record: Dict[str, Any]) -> None:
    """Make sure ``record`` (what :func:`execute` returned, possibly on another machine) is on
    disk under ``out_dir``: written when its folder lacks it, as on a cluster without a shared
    file system."""
    run = Run.from_dict(record)
    name = RESULT if record.get("status") == DONE else ERROR
    path = os.path.join(run_directory(out_dir, run), name)
    if not os.path.exists(path):
        write_json(path, record, allow_nan=True)
