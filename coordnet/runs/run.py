"""One fit from signal to output folder: what ``coordnet fit`` and ``coordnet compare`` run."""

from __future__ import annotations

import contextlib
import functools
import math
import os
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Union

import numpy as np
import torch

import coordnet
from coordnet import plots
from coordnet.atomic import remove_orphaned_temporaries, write_json
from coordnet.memory_limit import check_memory, format_bytes
from coordnet.nets import ModelSpec, build_model, parse_spec
from coordnet.outdir_lock import output_folder_lock
from coordnet.runs.probes import PROBES, FitProbe, ProbeContext, build_probe, default_probe_every
from coordnet.signals import Signal, iou, save_image, split_signal
from coordnet.training.callbacks import CheckpointCallback, ProgressBar, TensorBoardLogger
from coordnet.training.checkpoint import CheckpointError, load_checkpoint, load_weights
from coordnet.training.metrics import psnr, seconds_to_psnr, ssim
from coordnet.training.trainer import FitResult, Samples, TrainConfig, Trainer, predict

CHECKPOINT = "checkpoint.pt"
METRICS = "metrics.json"


@dataclass
class FitOutcome:
    """What a fit produced: its metrics (as written to metrics.json) and the full-grid prediction."""

    metrics: Dict[str, Any]
    prediction: np.ndarray  # (*grid_shape, C)
    history: Dict[str, list]


def _finite_or_none(value: Optional[float]) -> Optional[float]:
    return None if value is None or not math.isfinite(value) else float(value)


def output_activation_for(signal: Signal) -> str:
    """Images live in [0, 1]: a sigmoid output keeps predictions there."""
    return "sigmoid" if signal.kind == "image" else "none"


def _run_fit(
    locks: contextlib.ExitStack,
    signal: Signal,
    spec: Union[str, dict, ModelSpec],
    config: TrainConfig,
    out_dir: str,
    split: str = "tancik",
    resume: bool = False,
    progress: bool = True,
    checkpoint_every: int = 500,
    tensorboard: bool = False,
    device: str = "cpu",
    write_outputs: bool = True,
    probe: Optional[str] = None,
    probe_every: Optional[int] = None,
) -> FitOutcome:
    """Fit ``spec`` to ``signal`` and write the outputs into ``out_dir``.

    Writes ``checkpoint.pt`` (every ``checkpoint_every`` steps and at the end),
    ``metrics.json``, and for images ``reconstruction.png``, ``error.png``, ``curves.png``.
    With ``resume`` an existing checkpoint in ``out_dir`` is continued (it must come from the
    same spec, signal and settings); without it an existing checkpoint is an error, so that
    nothing is overwritten by accident.

    ``probe`` names a probe of :data:`coordnet.runs.probes.PROBES` (``"spectrum"``, ``"regions"``),
    recording every ``probe_every`` steps (default :func:`~coordnet.runs.probes.default_probe_every`);
    its records are kept in the checkpoint, add to the metrics and are written as its files. A
    resumed fit continues the probe's records from the checkpoint.

    Before anything is written, a fit whose model, activations and signal copies exceed the
    memory limit is refused (:func:`check_fit_memory`), and the lock of ``out_dir`` is taken
    for the whole fit (:func:`coordnet.outdir_lock.output_folder_lock`: a second job on the
    folder fails at once; an unwritable folder fails here). Temporaries of interrupted writes
    in ``out_dir`` are then removed. The checkpoint's content hash is verified on resume.
    """

    model_spec = spec if isinstance(spec, ModelSpec) else parse_spec(spec)
    if probe is not None and probe not in PROBES:
        raise ValueError(f"probe must be one of {', '.join(PROBES)}, got {probe!r}")
    parts = split_signal(
        signal, split, seed=config.seed
    )  # a bad split fails before anything is written
    checkpoint_path = os.path.join(out_dir, CHECKPOINT)
    samples = Samples(parts.train_coords, parts.train_values, parts.test_coords, parts.test_values)
    model_config = {
        "in_dim": signal.dim,
        "out_dim": signal.channels,
        "output_activation": output_activation_for(signal),
        "signal_domain": [list(interval) for interval in signal.domain],
    }
    run_config = {
        "model_spec": model_spec.to_dict(),
        "model_config": model_config,
        "train_config": config.to_dict(),
        "signal": {
            "name": signal.name,
            "kind": signal.kind,
            "shape": list(signal.values.shape),
            "split": split,
        },
    }
    torch.manual_seed(config.seed)
    model = build_model(
        model_spec,
        in_dim=signal.dim,
        out_dim=signal.channels,
        output_activation=model_config["output_activation"],
        signal_domain=tuple(tuple(interval) for interval in signal.domain),
    )
    grid_coords = signal.coordinates().reshape(-1, signal.dim)
    probes: List[FitProbe] = []
    if probe is not None:  # an unsupported signal or model fails before anything is written
        every = default_probe_every(config.steps) if probe_every is None else probe_every
        probes.append(build_probe(probe, ProbeContext(parts, model, grid_coords, every)))

    check_fit_memory(model, signal, parts, config)
    locks.enter_context(
        output_folder_lock(out_dir)
    )  # one owner per folder, before anything is written
    remove_orphaned_temporaries(out_dir)  # left by writes that an earlier run's kill interrupted

    def payload(trainer: Trainer) -> Dict[str, Any]:
        document = {
            **run_config,
            "coordnet_version": coordnet.__version__,
            "trainer": trainer.state_dict(),
        }
        for fit_probe in probes:
            document[fit_probe.checkpoint_key] = fit_probe.callback.state_dict()
        return document

    def render(trainer: Trainer) -> np.ndarray:
        prediction = predict(trainer.model, grid_coords, config.eval_chunk, trainer.bf16)
        return prediction.reshape(signal.values.shape).clamp(0, 1).numpy()

    callbacks = [ProgressBar(model_spec.label, enabled=progress)]
    callbacks += [
        fit_probe.callback for fit_probe in probes
    ]  # before the checkpoint: it holds the newest record
    callbacks.append(CheckpointCallback(checkpoint_path, checkpoint_every, payload))
    if tensorboard:
        callbacks.append(
            TensorBoardLogger(
                os.path.join(out_dir, "tensorboard"), render if signal.kind == "image" else None
            )
        )
    trainer = Trainer(model, samples, config, callbacks, device=device)

    if os.path.exists(checkpoint_path):
        if not resume:
            raise FileExistsError(
                f"{checkpoint_path} exists: pass --resume to continue it, or choose another --out"
            )
        document = load_checkpoint(checkpoint_path)
        for key in ("model_spec", "model_config", "train_config", "signal"):
            if document.get(key) != run_config[key]:
                raise CheckpointError(
                    f"cannot resume {checkpoint_path}: its {key} differs from this run's "
                    f"({document.get(key)!r} vs {run_config[key]!r})"
                )
        load_weights(trainer.model, document["trainer"]["model"], checkpoint_path)
        try:
            trainer.load_state_dict(document["trainer"])
        except (KeyError, TypeError, ValueError, RuntimeError) as error:
            detail = (
                f"lacks the entry 'trainer.{error.args[0]}'"
                if isinstance(error, KeyError)
                else f"its 'trainer' entry cannot be restored ({str(error).splitlines()[0]})"
            )
            raise CheckpointError(f"cannot resume {checkpoint_path}: {detail}") from None
        for fit_probe in probes:
            if fit_probe.checkpoint_key not in document:
                raise CheckpointError(
                    f"cannot resume {checkpoint_path} with --probe {probe}: it was written without "
                    "the probe, so the records of the steps already trained are missing"
                )
            fit_probe.callback.load_state_dict(document[fit_probe.checkpoint_key])

    result: FitResult = trainer.fit()
    prediction_tensor = predict(trainer.model, grid_coords, config.eval_chunk, trainer.bf16)
    prediction = prediction_tensor.reshape(signal.values.shape).numpy()
    target = signal.values.numpy()
    metrics: Dict[str, Any] = {
        "model": model_spec.label,
        "train_psnr": _finite_or_none(result.train_psnr),
        "test_psnr": _finite_or_none(result.test_psnr),
        "full_psnr": _finite_or_none(
            psnr(prediction_tensor.reshape(signal.values.shape), signal.values)
        ),
        "ssim": ssim(np.clip(prediction, 0, 1), target) if signal.kind == "image" else None,
        "iou": iou(prediction, target) if signal.kind == "volume" else None,
        "steps": result.steps,
        "seconds": round(result.seconds, 3),
        "wall_seconds": round(result.wall_seconds, 3),
        "stopped": result.stopped,
        "bf16": trainer.bf16,
        "seconds_to_psnr": {
            "train": seconds_to_psnr(result.eval_seconds, result.history.train_psnr),
            "test": seconds_to_psnr(result.eval_seconds, result.history.test_psnr),
        },
        "params": sum(p.numel() for p in trainer.model.parameters()),
        "config": run_config,
        "coordnet_version": coordnet.__version__,
    }
    for fit_probe in probes:
        metrics.update(fit_probe.metrics())
    if write_outputs:
        if signal.kind == "image":
            save_image(os.path.join(out_dir, "reconstruction.png"), np.clip(prediction, 0, 1))
            plots.save_error_map(
                os.path.join(out_dir, "error.png"), np.clip(prediction, 0, 1), target
            )
        elif signal.kind in ("audio", "1d"):
            plots.save_series(
                os.path.join(out_dir, "reconstruction.png"), target, prediction, model_spec.label
            )
        plots.save_curves(
            os.path.join(out_dir, "curves.png"), {model_spec.label: result.history.to_dict()}
        )
        for fit_probe in probes:
            fit_probe.write(out_dir, trainer.model, signal, model_spec.label)
        write_json(os.path.join(out_dir, METRICS), {**metrics, "history": result.history.to_dict()})
    return FitOutcome(metrics, prediction, result.history.to_dict())


@functools.wraps(_run_fit, assigned=("__doc__", "__annotations__"))
def run_fit(*args: Any, **kwargs: Any) -> FitOutcome:
    with contextlib.ExitStack() as locks:
        return _run_fit(locks, *args, **kwargs)


def check_fit_memory(model: torch.nn.Module, signal: Signal, parts, config: TrainConfig) -> None:
    """Refuse (one-line :class:`~coordnet.memory_limit.MemoryLimitError` with the estimate) a
    fit whose model, optimiser state, activations and signal copies exceed the memory limit."""

    params = sum(p.numel() for p in model.parameters())
    widest = max([p.shape[0] for p in model.parameters() if p.dim() == 2] or [1])
    layers = max(1, sum(1 for p in model.parameters() if p.dim() == 2))
    samples = int(signal.values[..., 0].numel())
    train = int(parts.train_coords.shape[0])
    batch = train if config.batch_size is None else min(config.batch_size, train)
    model_bytes = params * 4 * 4  # weights, gradients, Adam's two moments
    activations = 3 * 4 * batch * widest * layers + 4 * min(config.eval_chunk, samples) * widest * 2
    grid = (
        4 * samples * (signal.dim + signal.channels) * 4
    )  # coordinates, values, split copies, predictions
    check_memory(
        f"fitting {model_params_text(params)} parameters on {samples} samples",
        model_bytes + activations + grid,
        f"model and optimiser {format_bytes(model_bytes)}, activations {format_bytes(activations)}, "
        f"signal and predictions {format_bytes(grid)}",
    )


def model_params_text(count: int) -> str:
    return f"{count:,}"
