"""The Ray backend: each run a Ray task on an existing cluster (``ray.init(address=...)``).

Needs the ``ray`` extra (``pip install coordnet[ray]``). Every node must import the same
coordnet and see the images (bundled names are always available); a run requests one GPU
when its device is CUDA. Each task writes its folder under the output folder; when that
folder is not shared with the node running the sweep, the driver still writes every
``result.json`` / ``error.json`` from the records the tasks return.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Sequence

from coordnet.extras import require
from coordnet.sweep.expand import Run, uses_cuda
from coordnet.sweep.reach import probe_ray_address
from coordnet.sweep.run import execute, record_error


def import_ray():
    """The ``ray`` module, or a ``RuntimeError`` saying how to install it."""
    return require("ray", "--ray")


def connect(address: Optional[str]):
    """Connect to the cluster at ``address`` (``"auto"``: the one this node belongs to), unless
    Ray is already initialised in this process (then ``address`` is ignored)."""
    ray = import_ray()
    if not ray.is_initialized():
        if address is not None:
            probe_ray_address(address)  # bounded: ray.init retries a dead address for minutes
        ray.init(address=address, log_to_driver=False, include_dashboard=False)
    return ray


def run_ray(
    runs: Sequence[Run],
    out_dir: str,
    address: Optional[str] = "auto",
    threads: int = 1,
    on_start: Callable[[Run], None] = lambda run: None,
    on_finish: Callable[[Run, Dict], None] = lambda run, record: None,
) -> List[Dict]:
    """Submit every run as a task (``num_cpus=threads``, ``num_gpus=1`` for CUDA runs) and
    collect the records as they finish. A task that fails inside Ray (its worker died, its
    node was lost after Ray's retries) is recorded as a failed run."""
    ray = connect(address)
    task = ray.remote(execute)
    pending: Dict[Any, Run] = {}
    for run in runs:
        options = {"num_cpus": threads, "num_gpus": 1 if uses_cuda(run) else 0}
        pending[task.options(**options).remote(run.to_dict(), out_dir, threads)] = run
        on_start(run)
    records: List[Dict] = []
    while pending:
        finished, _ = ray.wait(list(pending), num_returns=1)
        for ref in finished:
            run = pending.pop(ref)
            try:
                record = ray.get(ref)
            except Exception as error:  # RayTaskError, WorkerCrashedError, ...
                record = record_error(
                    out_dir, run, f"Ray task failed: {type(error).__name__}: {error}"
                )
            records.append(record)
            on_finish(run, record)
    return records
