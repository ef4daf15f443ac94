"""One fit from signal to results, and to an output folder when one is given: what
:func:`coordnet.fit`, ``coordnet fit`` and ``coordnet compare`` run.

The steps, in order: :func:`plan_run` (split, model, probes: everything that can fail before a
file is written), :func:`check_fit_memory`, the folder's lock and clean-up, :func:`restore`
(resume validation, the checkpoint's state), training (or nothing, for a finished fit),
:func:`fit_metrics`, :func:`save_outputs`.

Resume rules (``resume=True`` with a ``checkpoint.pt`` in the folder):

- model, signal (name, kind, shape, split) and training settings must equal the checkpoint's;
  a difference names the keys that differ, with both values;
- ``steps`` and ``time_limit`` may change: they only say where training stops. A larger
  ``steps`` (or a longer ``time_limit``) extends a finished fit. The learning-rate schedule
  is a function of ``step / steps``: from the resumed step on it follows the schedule of the
  *new* length (a ``stable-decay`` fit of N steps extended to 2N returns to the full rate until
  80% of 2N, then decays), so an extended fit equals a fresh fit of the new length only with the
  ``constant`` schedule;
- a finished fit (its checkpoint records why it stopped: ``steps``, ``plateau`` or
  ``time_limit``) resumed with the same limits trains nothing; :attr:`FitOutcome.note` says so.
  An early-stopped (``plateau``) fit extended by ``steps`` keeps its patience (``patience``
  also chooses the validation split, so it cannot change on resume): its validation curve has
  plateaued, so it stops again at its next evaluation unless that one beats the best before it.
"""

from __future__ import annotations

import contextlib
import math
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Union

import numpy as np
import torch
from torch import nn

import coordnet
from coordnet import plots
from coordnet.atomic import remove_orphaned_temporaries, write_json
from coordnet.memory_limit import check_memory, format_bytes
from coordnet.nets import ModelSpec, build_model, parse_spec
from coordnet.outdir_lock import output_folder_lock, resolve_output_folder
from coordnet.runs.probes import PROBES, FitProbe, ProbeContext, build_probe, default_probe_every
from coordnet.signals import Signal, iou, save_image, split_signal
from coordnet.training.callbacks import CheckpointCallback, ProgressBar, TensorBoardLogger
from coordnet.training.checkpoint import CheckpointError, load_checkpoint, load_weights
from coordnet.training.metrics import psnr, seconds_to_psnr, ssim
from coordnet.training.trainer import (
    Callback,
    FitResult,
    History,
    Samples,
    TrainConfig,
    Trainer,
    predict,
)

CHECKPOINT = "checkpoint.pt"
METRICS = "metrics.json"
#: Training settings that only say where a fit stops: they may change when it is resumed.
STOPPING_KEYS = ("steps", "time_limit")
#: How options are spelled in messages: Python argument names (the default) or CLI flags.
PYTHON_WORDING: Dict[str, str] = {
    "resume": "resume=True",
    "out": "out",
    "steps": "steps",
    "time": "time_limit",
    "probes": "probes",
    "signal": "signal",
}
STOP_WORDS = {
    "steps": "trained all its steps",
    "plateau": "stopped early (the validation PSNR stopped improving)",
    "time_limit": "stopped at its time limit",
}


@dataclass
class FitOutcome:
    """What a fit produced.

    Attributes:
        metrics: as written to ``metrics.json`` (without the history).
        prediction: the full-grid prediction ``(*grid_shape, C)``.
        history: the curves (:class:`coordnet.training.trainer.History` as a dict).
        model: the trained model (eval mode).
        probes: each probe's records by probe name (its ``state_dict``).
        note: a remark on how the fit went, e.g. that a resumed fit was finished already.
    """

    metrics: Dict[str, Any]
    prediction: np.ndarray
    history: Dict[str, list]
    model: Optional[nn.Module] = None
    probes: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    note: Optional[str] = None


@dataclass
class RunPlan:
    """Everything a fit needs, built before a file is written (:func:`plan_run`)."""

    signal: Signal
    spec: ModelSpec
    config: TrainConfig
    samples: Samples
    model: nn.Module
    grid_coords: torch.Tensor  # (N, d)
    probes: Dict[str, FitProbe]
    run_config: Dict[str, Any]
    parts: Any
    probe_every: int


def _finite_or_none(value: Optional[float]) -> Optional[float]:
    return None if value is None or not math.isfinite(value) else float(value)


def output_activation_for(signal: Signal) -> str:
    """Images live in [0, 1]: a sigmoid output keeps predictions there."""
    return "sigmoid" if signal.kind == "image" else "none"


def describe_run(
    signal: Signal,
    spec: ModelSpec,
    config: TrainConfig,
    split: str,
    signal_origin: Optional[Mapping[str, Any]] = None,
) -> Dict[str, Any]:
    """The run's settings as checkpoints and ``metrics.json`` store them: ``model_spec``,
    ``model_config``, ``train_config`` and ``signal`` (name, kind, shape, split and, from
    ``signal_origin``, the ``source`` and ``size`` that load it again)."""
    return {
        "model_spec": spec.to_dict(),
        "model_config": {
            "in_dim": signal.dim,
            "out_dim": signal.channels,
            "output_activation": output_activation_for(signal),
            "signal_domain": [list(interval) for interval in signal.domain or ()],
        },
        "train_config": config.to_dict(),
        "signal": {
            "name": signal.name,
            "kind": signal.kind,
            "shape": list(signal.values.shape),
            "split": split,
            **dict(signal_origin or {}),
        },
    }


def plan_run(
    signal: Signal,
    spec: Union[str, dict, ModelSpec],
    config: TrainConfig,
    split: str = "tancik",
    probes: Sequence[str] = (),
    probe_every: Optional[int] = None,
    signal_origin: Optional[Mapping[str, Any]] = None,
) -> RunPlan:
    """Split ``signal``, build the model (seeded by ``config.seed``) and the probes; a bad split,
    spec, probe name or a probe that does not apply fails here, before anything is written.
    ``signal_origin`` (``source``, ``size``) is stored so that a resume can reload the signal."""
    model_spec = spec if isinstance(spec, ModelSpec) else parse_spec(spec)
    for name in probes:
        if name not in PROBES:
            raise ValueError(f"probe must be one of {', '.join(PROBES)}, got {name!r}")
    parts = split_signal(signal, split, seed=config.seed)
    samples = Samples(parts.train_coords, parts.train_values, parts.test_coords, parts.test_values)
    run_config = describe_run(signal, model_spec, config, split, signal_origin)
    torch.manual_seed(config.seed)
    model = build_model(
        model_spec,
        in_dim=signal.dim,
        out_dim=signal.channels,
        output_activation=run_config["model_config"]["output_activation"],
        signal_domain=signal.domain or (),
    )
    grid_coords = signal.coordinates()  # (*grid_shape, d): the convention of every probe
    every = default_probe_every(config.steps) if probe_every is None else probe_every
    built = {
        name: build_probe(name, ProbeContext(parts, model, grid_coords, every)) for name in probes
    }
    flat = grid_coords.reshape(-1, signal.dim)
    return RunPlan(
        signal, model_spec, config, samples, model, flat, built, run_config, parts, every
    )


class _StopRecorder(Callback):
    """Keeps why the fit stopped, for the final checkpoint (it runs before the checkpoint callback)."""

    def __init__(self) -> None:
        self.stop: Optional[Dict[str, Any]] = None

    def on_start(self, trainer: Trainer) -> None:
        self.stop = None

    def on_end(self, trainer: Trainer, result: FitResult) -> None:
        self.stop = {"reason": result.stopped or "steps", "step": result.steps}


def _callbacks(
    plan: RunPlan,
    out_dir: Optional[str],
    progress: bool,
    checkpoint_every: int,
    tensorboard: bool,
) -> List[Callback]:
    """Progress bar, probes, stop recorder, then (with a folder) checkpoints and TensorBoard."""
    callbacks: List[Callback] = [ProgressBar(plan.spec.label, enabled=progress)]
    callbacks += [probe.callback for probe in plan.probes.values()]  # before the checkpoint
    recorder = _StopRecorder()
    callbacks.append(recorder)
    if out_dir is None:
        return callbacks

    def payload(trainer: Trainer) -> Dict[str, Any]:
        document = {
            **plan.run_config,
            "coordnet_version": coordnet.__version__,
            "trainer": trainer.state_dict(),
            "stop": recorder.stop,
            "probes": list(plan.probes),
            "probe_every": plan.probe_every,
        }
        for probe in plan.probes.values():
            document[probe.checkpoint_key] = probe.callback.state_dict()
        return document

    callbacks.append(
        CheckpointCallback(os.path.join(out_dir, CHECKPOINT), checkpoint_every, payload)
    )
    if tensorboard:
        render = _renderer(plan) if plan.signal.kind == "image" else None
        callbacks.append(TensorBoardLogger(os.path.join(out_dir, "tensorboard"), render))
    return callbacks


def _renderer(plan: RunPlan) -> Callable[[Trainer], np.ndarray]:
    def render(trainer: Trainer) -> np.ndarray:
        prediction = predict(trainer.model, plan.grid_coords, plan.config.eval_chunk, trainer.bf16)
        return prediction.reshape(plan.signal.values.shape).clamp(0, 1).numpy()

    return render


def _differences(stored: Any, current: Any, prefix: str) -> List[str]:
    """``"key (checkpoint A, this run B)"`` for each leaf where two nested dicts differ."""
    if isinstance(stored, Mapping) and isinstance(current, Mapping):
        found: List[str] = []
        for key in sorted(set(stored) | set(current), key=str):
            found += _differences(stored.get(key), current.get(key), f"{prefix}.{key}")
        return found
    if stored == current or (
        isinstance(stored, (list, tuple)) and list(stored) == list(current or [])
    ):
        return []
    return [f"{prefix} (checkpoint {stored!r}, this run {current!r})"]


def check_resumable(document: Mapping[str, Any], run_config: Mapping[str, Any], path: str) -> None:
    """A :class:`CheckpointError` naming every setting of this run that differs from the
    checkpoint's, besides :data:`STOPPING_KEYS` and the signal's origin (``source``, ``size``)."""
    differing: List[str] = []
    for key in ("model_spec", "model_config"):
        differing += _differences(document.get(key), run_config[key], key)
    stored_signal = dict(document.get("signal") or {})
    for key in ("name", "kind", "shape", "split"):
        differing += _differences(
            stored_signal.get(key), run_config["signal"].get(key), f"signal.{key}"
        )
    stored_train = {
        k: v for k, v in dict(document.get("train_config") or {}).items() if k not in STOPPING_KEYS
    }
    current_train = {k: v for k, v in run_config["train_config"].items() if k not in STOPPING_KEYS}
    differing += _differences(stored_train, current_train, "train_config")
    if differing:
        raise CheckpointError(f"cannot resume {path}: this run differs in " + "; ".join(differing))


def _stop_of(document: Mapping[str, Any]) -> Optional[Dict[str, Any]]:
    """Why the checkpoint's fit stopped (``None``: interrupted); older checkpoints without the
    record count as finished when they trained all their steps."""
    stop = document.get("stop")
    if isinstance(stop, Mapping):
        return dict(stop)
    step, steps = (
        document["trainer"].get("step", 0),
        (document.get("train_config") or {}).get("steps"),
    )
    return {"reason": "steps", "step": step} if steps is not None and step >= steps else None


def _stopped_at_save(trainer: Trainer) -> Optional[Dict[str, Any]]:
    """A stop that the trainer would have decided right after the checkpoint was saved (a
    checkpoint written at an evaluation comes before the stopping checks of that step)."""
    config, step = trainer.config, trainer.step
    evaluated = bool(trainer.history.steps) and trainer.history.steps[-1] == step
    if evaluated and config.time_limit is not None and trainer.elapsed() >= config.time_limit:
        return {"reason": "time_limit", "step": step}
    plateaued = getattr(trainer, "_plateaued", None)
    if evaluated and plateaued is not None and plateaued():
        return {"reason": "plateau", "step": step}
    return None


def _finished(document: Mapping[str, Any], trainer: Trainer) -> Optional[Dict[str, Any]]:
    """The checkpoint's stop record when this run trains nothing more: a finished fit whose
    stopping limits are unchanged, or any fit already at ``config.steps``."""
    config, step = trainer.config, trainer.step
    stop = _stop_of(document)
    stored = document.get("train_config") or {}
    unchanged = all(stored.get(key) == getattr(config, key) for key in STOPPING_KEYS)
    if stop is None and unchanged and step < config.steps:
        stop = _stopped_at_save(trainer)
    if stop is not None and unchanged:
        return {**stop, "steps": config.steps}
    if step >= config.steps:
        return stop or {"reason": "steps", "step": step}
    return None


def _restart_schedule(trainer: Trainer) -> None:
    """Set the learning rate to the (possibly longer) schedule's value at the resumed step."""
    scheduler = trainer.scheduler
    for group, base, factor in zip(
        trainer.optimizer.param_groups, scheduler.base_lrs, scheduler.lr_lambdas
    ):
        group["lr"] = base * factor(trainer.step)


def restore(
    trainer: Trainer, plan: RunPlan, path: str, wording: Mapping[str, str]
) -> Optional[Dict[str, Any]]:
    """Load the checkpoint at ``path`` into ``trainer`` and the probes after checking that it
    belongs to this run; returns its stop record when there is nothing left to train."""
    document = load_checkpoint(path)
    check_resumable(document, plan.run_config, path)
    load_weights(trainer.model, document["trainer"]["model"], path)
    try:
        trainer.load_state_dict(document["trainer"])
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        detail = (
            f"lacks the entry 'trainer.{error.args[0]}'"
            if isinstance(error, KeyError)
            else f"its 'trainer' entry cannot be restored ({str(error).splitlines()[0]})"
        )
        raise CheckpointError(f"cannot resume {path}: {detail}") from None
    for name, probe in plan.probes.items():
        if probe.checkpoint_key not in document:
            raise CheckpointError(
                f"cannot resume {path} with the {name!r} probe ({wording['probes']}): it was "
                "written without the probe, so the records of the steps already trained are missing"
            )
        probe.callback.load_state_dict(document[probe.checkpoint_key])
    if trainer.step > plan.config.steps:
        raise CheckpointError(
            f"cannot resume {path}: {wording['steps']} {plan.config.steps} is fewer than the "
            f"{trainer.step} steps it has trained"
        )
    stored = document.get("train_config") or {}
    if any(stored.get(key) != getattr(plan.config, key) for key in STOPPING_KEYS):
        _restart_schedule(trainer)
    return _finished(document, trainer)


def finished_note(path: str, stop: Mapping[str, Any], wording: Mapping[str, str]) -> str:
    """The remark of a resume that had nothing to train, with what would train further:
    ``{"reason", "step"}`` and, for an early stop, ``"steps"`` (the configured count)."""
    reason, step = str(stop.get("reason")), stop.get("step")
    how = {
        "time_limit": f"pass a longer {wording['time']}, or 0 for none, to train further",
        "plateau": f"pass {wording['steps']} other than its {stop.get('steps')} to train "
        "further; its patience still applies",
    }.get(reason, f"pass {wording['steps']} larger than {step} to extend it")
    words = STOP_WORDS.get(reason, f"stopped ({reason})")
    return f"{path} is finished: it {words} at step {step}; nothing was trained ({how})"


def _result_of(trainer: Trainer, stop: Mapping[str, Any]) -> FitResult:
    """The :class:`FitResult` of a restored trainer that trains no further."""
    history = trainer.history
    return FitResult(
        steps=trainer.step,
        seconds=trainer.seconds,
        train_psnr=history.train_psnr[-1] if history.train_psnr else math.nan,
        test_psnr=history.test_psnr[-1] if history.test_psnr else None,
        final_loss=trainer.last_loss,
        history=history,
        wall_seconds=trainer.wall_seconds,
        eval_seconds=list(trainer.eval_seconds),
        stopped=None if stop.get("reason") == "steps" else stop.get("reason"),
    )


def fit_metrics(
    plan: RunPlan, trainer: Trainer, result: FitResult, prediction: torch.Tensor
) -> Dict[str, Any]:
    """The entries of ``metrics.json`` (``prediction``: the full grid, shaped like the signal)."""
    signal, history = plan.signal, result.history
    image = np.clip(prediction.numpy(), 0, 1)
    metrics: Dict[str, Any] = {
        "model": plan.spec.label,
        "train_psnr": _finite_or_none(result.train_psnr),
        "test_psnr": _finite_or_none(result.test_psnr),
        "full_psnr": _finite_or_none(psnr(prediction, signal.values)),
        "ssim": ssim(image, signal.values.numpy()) if signal.kind == "image" else None,
        "iou": iou(prediction.numpy(), signal.values.numpy()) if signal.kind == "volume" else None,
        "steps": result.steps,
        "seconds": round(result.seconds, 3),
        "wall_seconds": round(result.wall_seconds, 3),
        "stopped": result.stopped,
        "bf16": trainer.bf16,
        "seconds_to_psnr": {
            "train": seconds_to_psnr(result.eval_seconds, history.train_psnr),
            "test": seconds_to_psnr(result.eval_seconds, history.test_psnr),
        },
        "params": sum(p.numel() for p in trainer.model.parameters()),
        "config": plan.run_config,
        "coordnet_version": coordnet.__version__,
    }
    if hasattr(trainer, "decisions"):
        metrics["decisions"] = trainer.decisions()
    for probe in plan.probes.values():
        metrics.update(probe.metrics())
    return metrics


def save_outputs(
    plan: RunPlan,
    out_dir: str,
    model: nn.Module,
    prediction: np.ndarray,
    metrics: Dict[str, Any],
    history: History,
) -> None:
    """The figures, the probes' files and ``metrics.json`` (with the history) in ``out_dir``;
    ``prediction``: the full grid ``(*grid_shape, C)``."""
    signal, label = plan.signal, plan.spec.label
    target = signal.values.numpy()
    if signal.kind == "image":
        save_image(os.path.join(out_dir, "reconstruction.png"), np.clip(prediction, 0, 1))
        plots.save_error_map(os.path.join(out_dir, "error.png"), np.clip(prediction, 0, 1), target)
    elif signal.kind in ("audio", "1d"):
        plots.save_series(os.path.join(out_dir, "reconstruction.png"), target, prediction, label)
    plots.save_curves(os.path.join(out_dir, "curves.png"), {label: history.to_dict()})
    for probe in plan.probes.values():
        probe.write(out_dir, model, signal, label)
    write_json(os.path.join(out_dir, METRICS), {**metrics, "history": history.to_dict()})


def run_fit(
    signal: Signal,
    spec: Union[str, dict, ModelSpec],
    config: TrainConfig,
    out_dir: Optional[str] = None,
    split: str = "tancik",
    resume: bool = False,
    progress: bool = True,
    checkpoint_every: int = 500,
    tensorboard: bool = False,
    device: str = "cpu",
    write_outputs: bool = True,
    probes: Sequence[str] = (),
    probe_every: Optional[int] = None,
    signal_origin: Optional[Mapping[str, Any]] = None,
    wording: Optional[Mapping[str, str]] = None,
    announce: Optional[Callable[[str], None]] = None,
) -> FitOutcome:
    """Fit ``spec`` to ``signal``; with ``out_dir``, write the outputs there.

    Without ``out_dir`` nothing is written (no checkpoint, no lock, no figures). With it:
    ``checkpoint.pt`` (every ``checkpoint_every`` steps and at the end, with why the fit
    stopped) and, unless ``write_outputs`` is false, ``metrics.json`` and for images
    ``reconstruction.png``, ``error.png``, ``curves.png``, plus each probe's files. ``resume``
    continues the checkpoint in ``out_dir`` under the rules of this module's docstring; without
    it an existing checkpoint is an error, so that nothing is overwritten by accident.

    ``probes`` name probes of :data:`coordnet.runs.probes.PROBES` (``"spectrum"``, ``"regions"``),
    recording every ``probe_every`` steps (default :func:`~coordnet.runs.probes.default_probe_every`);
    their records are kept in the checkpoint and add to the metrics.

    A fit whose model, activations and signal copies exceed the memory limit is refused
    before anything is written (:func:`check_fit_memory`); the folder's lock
    (:func:`coordnet.outdir_lock.output_folder_lock`) is held for the whole fit.
    ``wording`` spells options in messages (default: Python argument names); ``announce``
    receives one line with the resolved model and its parameter count before training.
    """
    words = {**PYTHON_WORDING, **(wording or {})}
    plan = plan_run(signal, spec, config, split, probes, probe_every, signal_origin)
    if announce is not None:
        count = sum(p.numel() for p in plan.model.parameters())
        announce(f"model {plan.spec.label}: {count:,} parameters")
    check_fit_memory(plan.model, signal, plan.parts, config)
    with contextlib.ExitStack() as locks:
        folder = None if out_dir is None else _open_folder(locks, out_dir)
        callbacks = _callbacks(plan, folder, progress, checkpoint_every, tensorboard)
        trainer = Trainer(plan.model, plan.samples, config, callbacks, device=device)
        stop = _resume_point(trainer, plan, folder, resume, words)
        if announce is not None:  # after a resume: the checkpoint's decision
            announce(f"precision {trainer.precision.precision}: {trainer.precision.reason}")
        result = trainer.fit() if stop is None else _result_of(trainer, stop)
        return _finish(plan, trainer, result, folder if write_outputs else None, stop, words)


def _open_folder(locks: contextlib.ExitStack, out_dir: str) -> str:
    """Resolve ``out_dir``, take its lock (one owner per folder, before anything is written)
    and remove temporaries left by writes that an earlier run's kill interrupted."""
    folder = resolve_output_folder(out_dir)
    locks.enter_context(output_folder_lock(folder))
    remove_orphaned_temporaries(folder)
    return folder


def _resume_point(
    trainer: Trainer, plan: RunPlan, folder: Optional[str], resume: bool, words: Mapping[str, str]
) -> Optional[Dict[str, Any]]:
    """Restore an existing checkpoint (only with ``resume``); its stop record when finished."""
    if folder is None:
        return None
    path = os.path.join(folder, CHECKPOINT)
    if not os.path.exists(path):
        return None
    if not resume:
        raise FileExistsError(
            f"{path} exists: pass {words['resume']} to continue it, or choose another {words['out']}"
        )
    return restore(trainer, plan, path, words)


def _finish(
    plan: RunPlan,
    trainer: Trainer,
    result: FitResult,
    folder: Optional[str],
    stop: Optional[Mapping[str, Any]],
    words: Mapping[str, str],
) -> FitOutcome:
    """Predict on the full grid, compute the metrics and write the outputs into ``folder``."""
    trainer.model.eval()
    shape = plan.signal.values.shape
    prediction = predict(trainer.model, plan.grid_coords, plan.config.eval_chunk, trainer.bf16)
    prediction = prediction.reshape(shape)
    metrics = fit_metrics(plan, trainer, result, prediction)
    if folder is not None:
        save_outputs(plan, folder, trainer.model, prediction.numpy(), metrics, result.history)
    note = None
    if stop is not None:
        note = finished_note(os.path.join(folder or "", CHECKPOINT), stop, words)
    records = {name: probe.callback.state_dict() for name, probe in plan.probes.items()}
    return FitOutcome(
        metrics, prediction.numpy(), result.history.to_dict(), trainer.model, records, note
    )


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
