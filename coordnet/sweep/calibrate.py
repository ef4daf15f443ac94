"""A short calibration: the seconds per optimiser step of each distinct model size on this machine."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple

from coordnet.sweep.expand import Run
from coordnet.sweep.run import set_threads

if TYPE_CHECKING:
    from coordnet.signals import Signal

WARMUP_STEPS = 2
TIMED_STEPS = 5


def signal_key(run: Run) -> str:
    """Runs with equal keys fit the same signal: the image source and the size it is loaded at."""
    import json

    return json.dumps([run.config["image"], run.config["size"]])


def cost_key(run: Run, shape: Sequence[int]) -> str:
    """Runs with equal keys cost the same per step: the loaded signal's ``shape`` (its values'
    ``(*grid_shape, channels)``), the split, batch size, precision, device and the spec without
    its real-valued arguments (a scale σ changes no shapes). Images of one shape share a key."""
    import json

    spec = run.config["spec"]
    shape_only = {
        role: {k: v for k, v in part.items() if not isinstance(v, float)}
        for role, part in spec.items()
    }
    train = run.config["train"]
    key = [
        [int(n) for n in shape],
        run.config["split"],
        shape_only,
        train["batch_size"],
        train["bf16"],
        run.config["device"],
    ]
    return json.dumps(key, sort_keys=True)


@dataclass
class Calibration:
    """Measured costs: ``step_seconds[cost_key]`` (one optimiser step), ``eval_seconds[cost_key]``
    (one evaluation on the train and test points) and ``overhead_seconds[cost_key]`` (the rest
    of a run: loading the signal, building the model, writing the outputs and figures);
    ``startup_seconds``: a fresh worker process's imports, paid once per worker;
    ``seconds``: how long the calibration took; ``threads``: torch threads it ran with;
    ``shapes[signal_key]``: the shape of each loaded signal (what :func:`cost_key` needs)."""

    step_seconds: Dict[str, float] = field(default_factory=dict)
    eval_seconds: Dict[str, float] = field(default_factory=dict)
    overhead_seconds: Dict[str, float] = field(default_factory=dict)
    startup_seconds: float = 0.0
    seconds: float = 0.0
    threads: Optional[int] = None
    shapes: Dict[str, Tuple[int, ...]] = field(default_factory=dict)

    def run_seconds(self, run: Run) -> float:
        """Estimated seconds of ``run``: steps x step time + evaluations + overhead."""
        key = cost_key(run, self.shapes[signal_key(run)])
        train = run.config["train"]
        evaluations = train["steps"] // train["eval_every"] + 1
        return (
            train["steps"] * self.step_seconds[key]
            + evaluations * self.eval_seconds[key]
            + self.overhead_seconds[key]
        )


def startup_seconds() -> float:
    """Seconds a fresh Python process takes to import what a worker imports before its first fit."""
    import subprocess
    import sys

    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import coordnet.sweep.run, coordnet.runs.run, coordnet.plots, skimage.data",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def _warm_up() -> None:
    """Import and initialise what the first fit of a process would (figures), untimed."""
    import tempfile

    from coordnet.plots.figure import save_figure, subplots

    fig, ax = subplots()
    ax.plot([0, 1])
    with tempfile.TemporaryDirectory() as folder:
        save_figure(fig, f"{folder}/warm-up.png")


def _fit_seconds(run: Run, signal: "Signal", steps: int) -> Dict[str, float]:
    """Wall and training seconds of the whole pipeline (:func:`coordnet.runs.run.run_fit`,
    outputs included) for ``steps`` steps of ``run`` on its loaded ``signal``, in a temporary folder."""
    import tempfile

    from coordnet.runs.run import run_fit
    from coordnet.training.trainer import TrainConfig

    config = run.config
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="coordnet-calibrate-") as folder:
        train = TrainConfig(**{**config["train"], "steps": steps, "eval_every": steps})
        outcome = run_fit(
            signal,
            config["spec"],
            train,
            folder,
            split=config["split"],
            progress=False,
            checkpoint_every=steps,
            device=config["device"],
        )
        wall = time.perf_counter() - started
    return {"wall": wall, "train": float(outcome.metrics["seconds"])}


def _measure(run: Run, signal: "Signal", steps: int) -> Dict[str, float]:
    """Seconds of one optimiser step, of one evaluation and of the rest of a run (``overhead``)
    for ``run`` on its loaded ``signal``."""
    import torch

    from coordnet.nets import build_model
    from coordnet.runs.run import output_activation_for
    from coordnet.signals import split_signal
    from coordnet.training.trainer import Samples, TrainConfig, Trainer

    config = run.config
    parts = split_signal(signal, config["split"], seed=0)
    samples = Samples(parts.train_coords, parts.train_values, parts.test_coords, parts.test_values)
    torch.manual_seed(0)
    model = build_model(
        config["spec"],
        in_dim=signal.dim,
        out_dim=signal.channels,
        output_activation=output_activation_for(signal),
        signal_domain=signal.box,
    )
    train = TrainConfig(
        **{**config["train"], "steps": WARMUP_STEPS + steps, "eval_every": WARMUP_STEPS + steps}
    )
    trainer = Trainer(model, samples, train, device=config["device"])
    for _ in range(WARMUP_STEPS):
        trainer.train_step()
    started = time.perf_counter()
    for _ in range(steps):
        trainer.train_step()
    step_seconds = (time.perf_counter() - started) / steps
    started = time.perf_counter()
    trainer.evaluate()
    evaluation = time.perf_counter() - started
    pipeline = _fit_seconds(run, signal, 1)  # one step, one evaluation, every output written
    overhead = max(0.0, pipeline["wall"] - pipeline["train"] - evaluation)
    return {"step": step_seconds, "eval": evaluation, "overhead": overhead}


def calibrate(
    runs: Sequence[Run],
    threads: Optional[int] = None,
    steps: int = TIMED_STEPS,
    measure_startup: bool = True,
) -> Calibration:
    """Time ``steps`` optimiser steps (after :data:`WARMUP_STEPS`) of one run per distinct
    :func:`cost_key` among ``runs``, in this process with ``threads`` torch threads (as a
    worker would have; restored afterwards), and with ``measure_startup`` the imports of a
    fresh process (:func:`startup_seconds`). Each image is loaded once (runs in image-major order)."""
    import torch

    from coordnet.signals import load_signal

    previous = torch.get_num_threads()
    set_threads(threads)
    calibration = Calibration(threads=torch.get_num_threads())
    started = time.perf_counter()
    try:
        if runs:
            calibration.startup_seconds = startup_seconds() if measure_startup else 0.0
            _warm_up()
        loaded: Dict[str, "Signal"] = {}  # the last signal loaded
        for run in runs:
            source = signal_key(run)
            if source not in calibration.shapes:  # its shape picks the cost key
                loaded = {source: load_signal(run.config["image"], size=run.config["size"])}
                calibration.shapes[source] = tuple(int(n) for n in loaded[source].values.shape)
            key = cost_key(run, calibration.shapes[source])
            if key in calibration.step_seconds:
                continue
            if (
                source not in loaded
            ):  # runs out of image-major order (:func:`expand` gives that order)
                loaded = {source: load_signal(run.config["image"], size=run.config["size"])}
            measured = _measure(run, loaded[source], steps)
            calibration.step_seconds[key] = measured["step"]
            calibration.eval_seconds[key] = measured["eval"]
            calibration.overhead_seconds[key] = measured["overhead"]
    finally:
        set_threads(previous)
    calibration.seconds = time.perf_counter() - started
    return calibration


def estimate(runs: Sequence[Run], calibration: Calibration, workers: int = 1) -> Dict[str, Any]:
    """``{"run_seconds": [...], "total_seconds": sum, "wall_seconds": ...}`` for ``runs`` on
    ``workers`` parallel workers: ``sum / workers`` plus one process start-up (imports)."""
    seconds: List[float] = [calibration.run_seconds(run) for run in runs]
    total = float(sum(seconds))
    lanes = max(1, min(workers, len(seconds)))
    wall = total / lanes + (calibration.startup_seconds if seconds else 0.0)
    return {"run_seconds": seconds, "total_seconds": total, "wall_seconds": wall}
