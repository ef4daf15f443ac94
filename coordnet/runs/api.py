"""The Python entry points :func:`fit` and :func:`compare` (exported as ``coordnet.fit`` and
``coordnet.compare``): the same defaults, the same numbers and the same files as ``coordnet fit``
and ``coordnet compare``, which only parse their options, call these and print.

Defaults come from a run preset (:mod:`coordnet.runs.presets`); every argument given
explicitly wins. Nothing is written unless ``out`` names a folder.
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import nn

from coordnet.nets import ModelSpec, parse_spec
from coordnet.outdir_lock import output_folder_lock, resolve_output_folder
from coordnet.runs import run as run_module
from coordnet.runs.compare import (
    ModelRuns,
    baseline_runs,
    markdown_table,
    table_rows,
    write_report,
)
from coordnet.runs.compare import compare as compare_runs
from coordnet.runs.presets import RunPreset, get_preset, parse_duration, preset_config
from coordnet.runs.run import CHECKPOINT, PYTHON_WORDING, FitOutcome
from coordnet.signals import Signal, grid_axis, image_signal, load_signal
from coordnet.signals.image import target_shape
from coordnet.signals.series import series_from_array
from coordnet.signals.volume import volume_from_array
from coordnet.training.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from coordnet.training.learning_rates import default_lr
from coordnet.training.trainer import TrainConfig, predict

SignalLike = Union[str, "os.PathLike[str]", np.ndarray, torch.Tensor, Signal, None]
SpecLike = Union[str, dict, ModelSpec, None]
SizeLike = Union[int, str, Tuple[int, int], None]
#: Python's spelling of the options in messages (the CLI passes its flags instead).
WORDING: Dict[str, str] = {
    **PYTHON_WORDING,
    "size": "size",
    "model": "model",
    "device": "device",
    "time": "time_limit",
}
_BARE_NAME = re.compile(r"\s*[A-Za-z][A-Za-z0-9_-]*\s*")


def parse_size(
    size: SizeLike, wording: Mapping[str, str] = WORDING
) -> Optional[Union[int, Tuple[int, int]]]:
    """``None``; ``n`` or ``"n"`` (the longest side, aspect ratio kept); ``(H, W)``; or ``"WxH"``
    (width first, as image tools write it) -> ``None``, ``n`` or ``(H, W)``."""
    if size is None:
        return None
    if isinstance(size, str):
        text = size.strip()
        match = re.fullmatch(r"(\d+)\s*[xX]\s*(\d+)", text)
        if match:
            size = (int(match.group(2)), int(match.group(1)))
        elif text.isdigit():
            size = int(text)
    ok_int = isinstance(size, (int, np.integer)) and not isinstance(size, bool) and size >= 2
    ok_pair = (
        isinstance(size, (tuple, list))
        and len(size) == 2
        and all(
            isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 1 for n in size
        )
    )
    if not (ok_int or ok_pair):
        raise ValueError(
            f"{wording['size']} must be N (the longest side, >= 2, aspect ratio kept) or WxH "
            f"(e.g. 320x240), got {size!r}"
        )
    if ok_int:
        return int(size)  # type: ignore[arg-type]
    return int(size[0]), int(size[1])  # type: ignore[index]


def signal_from_array(array: Union[np.ndarray, torch.Tensor], size: Any = None) -> Signal:
    """A :class:`Signal` from an array: ``(N,)`` a 1D series; ``(H, W)`` or ``(H, W, C)`` with
    ``C`` in 1, 3, 4 an image (values in [0, 1]); ``(D, H, W)`` otherwise a volume. A 1D series
    of several channels is given as a :class:`Signal`."""
    if isinstance(array, torch.Tensor):
        array = array.detach().cpu().numpy()
    array = np.asarray(array)
    if array.ndim == 1:
        return series_from_array(array, name="array", source="signal array")
    if array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (1, 3, 4)):
        return image_signal(array, name="array", size=size, source="signal array")
    if array.ndim == 3:
        return volume_from_array(array, name="array", source="signal array")
    raise ValueError(
        f"signal array must have shape (N,), (H, W), (H, W, C) or (D, H, W), got {array.shape}"
    )


def load_any_signal(signal: SignalLike, size: Any) -> Tuple[Signal, Dict[str, Any]]:
    """The :class:`Signal` of a name, path, array or ``Signal``, and its origin (``source``,
    ``size``) as stored in checkpoints so that ``--resume`` can load it again."""
    if isinstance(signal, Signal):
        return signal, {"source": None, "size": None}
    if isinstance(signal, (np.ndarray, torch.Tensor)):
        return signal_from_array(signal, size), {"source": None, "size": None}
    loaded = load_signal(signal, size=size)
    source = None if signal is None else os.fspath(signal)
    if source is not None and os.path.exists(os.path.expanduser(source)):
        source = os.path.abspath(os.path.expanduser(source))
    stored_size = list(size) if isinstance(size, tuple) else size
    return loaded, {"source": source or "camera", "size": stored_size}


def _candidates(preset: RunPreset, for_compare: bool) -> List[str]:
    models = [preset.model, *preset.compare_models]
    return [*preset.compare_models, preset.model] if for_compare else models


def resolve_model(
    model: SpecLike,
    preset: RunPreset,
    for_compare: bool = False,
    wording: Mapping[str, str] = WORDING,
) -> Tuple[ModelSpec, bool]:
    """The spec to fit and whether it is the preset's tuned ``fit`` model (which trains at
    ``preset.lr``). ``None`` is the preset's model; a bare family name (``hash``, ``none``,
    ``siren``, ...) is the preset's tuned model of that family (same encoder and net) where it
    has one; anything else is parsed as it is."""
    if model is None:
        spec = parse_spec(preset.compare_models[0] if for_compare else preset.model)
        return spec, not for_compare
    if isinstance(model, str) and not model.strip():
        raise ValueError(f"{wording['model']} must be a model spec, got an empty string")
    spec = parse_spec(model)
    if isinstance(model, str) and _BARE_NAME.fullmatch(model):
        for candidate in _candidates(preset, for_compare):
            tuned = parse_spec(candidate)
            if (tuned.encoder, tuned.net) == (spec.encoder, spec.net):
                return tuned, candidate == preset.model and not for_compare
    return spec, False


def train_config(
    preset: RunPreset,
    spec: ModelSpec,
    tuned: bool,
    options: Mapping[str, Any],
    for_compare: bool = False,
) -> TrainConfig:
    """A :class:`TrainConfig` from the explicit ``options`` (``steps``, ``lr``, ``schedule``,
    ``batch_size``, ``time_limit``, ``patience`` (0: never), ``bf16``, ``eval_every``, ``seed``;
    ``None``: not given) and the preset's values for the others. The learning rate is the
    preset's for its tuned model, else the family's (:func:`default_lr`)."""
    given = {key: value for key, value in options.items() if value is not None}
    steps = given.get("steps", preset.steps_for(spec) if for_compare else preset.steps)
    return preset_config(
        preset.name,
        steps=steps,
        lr=given.get("lr", preset.lr if tuned else default_lr(spec)),
        schedule=given.get("schedule"),
        batch_size=given.get("batch_size"),
        seed=given.get("seed", 0),
        bf16=given.get("bf16"),
        eval_every=given.get("eval_every"),
        time_limit=given.get("time_limit"),
        patience=given.get("patience"),
    )


def _resumed(document: Mapping[str, Any], options: Mapping[str, Any], path: str) -> TrainConfig:
    """The checkpoint's training settings with the explicit ``options`` over them."""
    stored = dict(document.get("train_config") or {})
    given = {key: value for key, value in options.items() if value is not None}
    if "time_limit" in given:
        given["time_limit"] = parse_duration(given["time_limit"])
    if "patience" in given:
        given["patience"] = given["patience"] or None
    try:
        return TrainConfig(**{**stored, **given})
    except TypeError as error:
        raise CheckpointError(
            f"cannot resume {path}: its train_config is not this coordnet's ({error})"
        ) from None


@dataclass
class FitPlan:
    """What :func:`fit` runs, resolved from the arguments, the preset and (on resume) the checkpoint."""

    signal: Signal
    origin: Dict[str, Any]
    spec: ModelSpec
    config: TrainConfig
    split: str
    probes: Tuple[str, ...]
    probe_every: Optional[int]


def plan_fit(
    signal: SignalLike,
    model: SpecLike,
    preset: str,
    size: SizeLike,
    probes: Sequence[str],
    out: Optional[str],
    resume: bool,
    split: Optional[str],
    probe_every: Optional[int],
    options: Mapping[str, Any],
    wording: Mapping[str, str] = WORDING,
) -> FitPlan:
    """Resolve :func:`fit`'s arguments. With ``resume`` and a checkpoint in ``out``, whatever is
    not given (signal, size, model, settings, split, probes) comes from the checkpoint."""
    path = None if out is None else os.path.join(os.path.expanduser(out), CHECKPOINT)
    document = load_checkpoint(path) if resume and path and os.path.exists(path) else None
    size = parse_size(size, wording)
    if document is None:
        run_preset = get_preset(preset)
        spec, tuned = resolve_model(model, run_preset, wording=wording)
        loaded, origin = load_any_signal(signal, size)
        config = train_config(run_preset, spec, tuned, options)
        return FitPlan(loaded, origin, spec, config, split or "tancik", tuple(probes), probe_every)
    stored_signal = dict(document.get("signal") or {})
    if signal is None:
        if stored_signal.get("source") is None:
            raise ValueError(
                f"{path} was fitted to a signal given as an array or Signal: pass it again "
                f"({wording['signal']})"
            )
        signal = stored_signal["source"]
        size = stored_signal.get("size") if size is None else size
        size = tuple(size) if isinstance(size, list) else size
    loaded, origin = load_any_signal(signal, size)
    spec = (
        parse_spec(document["model_spec"])
        if model is None
        else resolve_model(model, get_preset(preset), wording=wording)[0]
    )
    stored_probes = tuple(document.get("probes") or ())
    every = probe_every if probe_every is not None else document.get("probe_every")
    return FitPlan(
        loaded,
        origin,
        spec,
        _resumed(document, options, path),  # type: ignore[arg-type]
        split or stored_signal.get("split") or "tancik",
        tuple(probes) or stored_probes,
        every,
    )


class FitResult:
    """The result of :func:`fit`.

    Attributes:
        model: the trained model, in eval mode: ``model(coords (..., d)) -> (..., C)`` with
            coordinates in the signal's domain (``[0, 1]^d`` by default).
        metrics: as in ``metrics.json`` (``train_psnr``, ``test_psnr``, ``full_psnr``, ``ssim``,
            ``steps``, ``seconds``, ``params``, ``stopped``, ``config``, the probes' entries, ...).
        history: the curves, one entry per evaluation (``steps``, ``loss``, ``train_psnr``,
            ``test_psnr``, ...).
        probes: each probe's records by name (``"spectrum"``, ``"regions"``).
        prediction: the model on the signal's grid, ``(*grid_shape, C)`` float32.
        signal: the fitted :class:`~coordnet.signals.Signal`.
        spec: the resolved model spec.
        out: the output folder (``None``: nothing was written).
        note: a remark, e.g. that a resumed fit was already finished.
    """

    def __init__(self, outcome: FitOutcome, plan: FitPlan, out: Optional[str]) -> None:
        self.model: nn.Module = outcome.model  # type: ignore[assignment]
        self.metrics = outcome.metrics
        self.history = outcome.history
        self.probes = outcome.probes
        self.prediction = outcome.prediction
        self.signal = plan.signal
        self.spec = plan.spec
        self.out = out
        self.note = outcome.note

    def __repr__(self) -> str:
        test = self.metrics.get("test_psnr")
        return (
            f"FitResult(model={self.spec.label!r}, steps={self.metrics['steps']}, "
            f"train_psnr={self.metrics['train_psnr']:.2f}, "
            f"test_psnr={'None' if test is None else f'{test:.2f}'})"
        )

    def reconstruct(self, size: SizeLike = None) -> np.ndarray:
        """The model on a grid over the signal's domain: ``None`` the fitted grid; for images
        ``n`` (longest side, aspect ratio kept), ``(H, W)`` or ``"WxH"``; for 1D signals and
        volumes ``n`` samples per axis. Returns ``(*grid, C)`` float32 (images clipped to [0, 1])."""
        if size is None:
            return self.prediction
        size = parse_size(size)
        grid = tuple(self.signal.grid_shape)
        shape: Tuple[int, ...]
        if self.signal.kind == "image":
            shape = target_shape(size, grid[0], grid[1])
        elif isinstance(size, int):
            shape = (size,) * len(grid)
        else:
            raise ValueError(f"size of a {self.signal.kind} signal must be one int, got {size!r}")
        axes = [grid_axis(low, high, n) for (low, high), n in zip(self.signal.domain or (), shape)]
        coords = torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1).reshape(-1, len(shape))
        values = predict(self.model, coords).reshape(*shape, -1).numpy()
        return np.clip(values, 0, 1) if self.signal.kind == "image" else values

    def plot(self):
        """A matplotlib figure: the reconstruction beside the target (images and 1D signals)
        and the PSNR curves. Returned, not shown (``fig.savefig(path)`` writes it)."""
        from coordnet.plots.figure import show_image, subplots

        fig, (left, middle, right) = subplots(1, 3, figsize=(13, 4))
        target, label = self.signal.values.numpy(), self.spec.label
        if self.signal.kind == "image":
            show_image(left, target, f"{self.signal.name}")
            show_image(middle, np.clip(self.prediction, 0, 1), label)
        elif self.signal.kind in ("audio", "1d"):
            left.plot(target[:, 0], lw=0.8)
            left.set_title(self.signal.name)
            middle.plot(self.prediction[:, 0], lw=0.8)
            middle.set_title(label)
        steps = self.history["steps"]
        right.plot(steps, self.history["train_psnr"], label="train")
        test = self.history.get("test_psnr") or []
        if any(value is not None for value in test):
            right.plot(steps, [np.nan if v is None else v for v in test], "--", label="test")
        right.set_xlabel("step")
        right.set_ylabel("PSNR (dB)")
        right.legend()
        return fig

    def save(self, path: Union[str, "os.PathLike[str]"]) -> str:
        """Write the model as a checkpoint file (weights and settings, no optimiser state: it
        loads with :func:`coordnet.load` and renders with ``coordnet render``, but cannot be
        resumed; fit with ``out=`` for a resumable folder). Returns the path."""
        config = self.metrics["config"]
        state = {name: tensor.detach().cpu() for name, tensor in self.model.state_dict().items()}
        target = os.path.expanduser(os.fspath(path))
        save_checkpoint(
            target, {**config, "trainer": {"model": state, "step": self.metrics["steps"]}}
        )
        return target


def _check_duration(value: Union[str, float, None], wording: Mapping[str, str]) -> None:
    """A ``ValueError`` naming the option (``time_limit`` or ``--time``) for a bad duration."""
    try:
        parse_duration(value)
    except ValueError as error:
        raise ValueError(str(error).replace("time must", f"{wording['time']} must", 1)) from None


def _check_device(device: Optional[str], wording: Mapping[str, str]) -> str:
    if device is None:
        return "cpu"
    try:
        kind = torch.device(device).type
    except (RuntimeError, TypeError):
        kind = None
    if kind not in ("cpu", "cuda"):
        raise ValueError(f"{wording['device']} must be 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    return str(device)


def fit(
    signal: SignalLike = None,
    model: SpecLike = None,
    *,
    preset: str = "fast",
    steps: Optional[int] = None,
    size: SizeLike = None,
    probes: Sequence[str] = (),
    out: Optional[Union[str, "os.PathLike[str]"]] = None,
    device: Optional[str] = None,
    seed: Optional[int] = None,
    lr: Optional[float] = None,
    schedule: Optional[str] = None,
    batch_size: Optional[int] = None,
    time_limit: Union[str, float, None] = None,
    patience: Optional[int] = None,
    bf16: Union[bool, str, None] = None,
    eval_every: Optional[int] = None,
    split: Optional[str] = None,
    probe_every: Optional[int] = None,
    resume: bool = False,
    progress: bool = True,
    checkpoint_every: int = 500,
    tensorboard: bool = False,
    announce: Optional[Callable[[str], None]] = None,
    wording: Optional[Mapping[str, str]] = None,
) -> FitResult:
    """Fit a coordinate network to a signal, as ``coordnet fit`` does (same defaults, same
    numbers); returns a :class:`FitResult`.

    Args:
        signal: a bundled name (``"camera"``, ``"astronaut"``, ``"text"``, ``"sphere"``, ...), a
            file path (image, ``.wav``, ``.csv``, ``.npy``), an array or tensor (``(N,)`` series,
            ``(H, W[, C])`` image in [0, 1], ``(D, H, W)`` volume) or a ``Signal``; ``None``:
            ``"camera"``, or with ``resume`` the checkpoint's signal.
        model: a spec (``"gauss:sigma=10+relu:width=128,depth=2"``, a dict, a TOML path, a
            ``ModelSpec``); a bare family name (``"hash"``, ``"none"``, ``"siren"``) is the
            preset's tuned model of that family; ``None``: the preset's model.
        preset: ``"fast"`` or ``"paper"``: defaults of what is not given.
        steps: optimiser steps (resuming: a larger number extends a finished fit).
        size: images: ``n`` (longest side, aspect ratio kept), ``(H, W)`` or ``"WxH"``;
            volumes by name: samples per axis.
        probes: probe names recorded during training (``"spectrum"``, ``"regions"``).
        out: output folder (checkpoint, ``metrics.json``, figures); ``None``: no files.
        device: ``"cpu"`` (default), ``"cuda"`` or ``"cuda:N"``.
        seed: seeds initialisation, sampling and splits (default 0; resuming: the checkpoint's).
        lr, schedule, batch_size, time_limit, patience, bf16, eval_every: as the CLI options
            ``--lr`` ... (``time_limit``: seconds or ``"2m"``; ``patience=0``: never stop early).
        split: ``"tancik"`` (default), ``"full"`` or ``"holdout:F"``.
        probe_every: steps between probe records (default ``steps // 100``).
        resume: continue the checkpoint in ``out`` (see :mod:`coordnet.runs.run` for the rules).
        progress: show a progress bar (stderr).
        checkpoint_every, tensorboard: as ``--checkpoint-every`` and ``--tensorboard``.
        announce: called with one line naming the resolved model and its parameter count.
        wording: how messages spell the options (the CLI passes its flags).

    Raises:
        ValueError: naming the argument (also ``SignalError``, ``CheckpointError``).
        FileExistsError: ``out`` holds a checkpoint and ``resume`` is false.
    """
    words, device = _checked_fit_arguments(time_limit, device, resume, out, wording)
    options = dict(
        steps=steps,
        lr=lr,
        schedule=schedule,
        batch_size=batch_size,
        time_limit=time_limit,
        patience=patience,
        bf16=bf16,
        eval_every=eval_every,
        seed=seed,
    )
    folder = None if out is None else resolve_output_folder(out)
    plan = plan_fit(
        signal, model, preset, size, probes, folder, resume, split, probe_every, options, words
    )
    run = dict(progress=progress, checkpoint_every=checkpoint_every, tensorboard=tensorboard)
    outcome = _run_plan(plan, folder, resume, device, words, announce, **run)
    return FitResult(outcome, plan, folder)


def _checked_fit_arguments(
    time_limit: Union[str, float, None],
    device: Optional[str],
    resume: bool,
    out: object,
    wording: Optional[Mapping[str, str]],
) -> Tuple[Dict[str, str], str]:
    """The message wording and the checked device of :func:`fit`; raises ``ValueError`` naming
    the argument (a bad ``time_limit`` or ``device``, ``resume`` without ``out``)."""
    words = {**WORDING, **(wording or {})}
    _check_duration(time_limit, words)
    checked_device = _check_device(device, words)
    if resume and out is None:
        raise ValueError(f"{words['resume']} needs {words['out']}: the folder to continue")
    return words, checked_device


def _run_plan(
    plan: FitPlan,
    folder: Optional[str],
    resume: bool,
    device: str,
    words: Dict[str, str],
    announce: Optional[Callable[[str], None]],
    **run: Any,
) -> FitOutcome:
    """Run the planned fit through :func:`coordnet.runs.run.run_fit` (looked up on the module,
    so that tests can replace it); ``run``: ``progress``, ``checkpoint_every``, ``tensorboard``."""
    return run_module.run_fit(
        plan.signal,
        plan.spec,
        plan.config,
        folder,
        split=plan.split,
        resume=resume,
        device=device,
        probes=plan.probes,
        probe_every=plan.probe_every,
        signal_origin=plan.origin,
        wording=words,
        announce=announce,
        **run,
    )


@dataclass
class CompareResult:
    """The result of :func:`compare`: ``runs`` (per model, its seeds' :class:`FitOutcome`\\ s),
    ``rows`` (the table as strings, mean and, for several seeds, std), ``table`` (Markdown)."""

    runs: List[ModelRuns]
    rows: List[Dict[str, str]]
    table: str
    signal: Signal
    out: Optional[str]

    def __repr__(self) -> str:
        return self.table


def compare(
    signal: SignalLike = None,
    models: Optional[Sequence[SpecLike]] = None,
    *,
    preset: str = "fast",
    steps: Optional[int] = None,
    size: SizeLike = None,
    seeds: int = 1,
    probes: Sequence[str] = (),
    out: Optional[Union[str, "os.PathLike[str]"]] = None,
    device: Optional[str] = None,
    seed: Optional[int] = None,
    lr: Optional[float] = None,
    schedule: Optional[str] = None,
    batch_size: Optional[int] = None,
    time_limit: Union[str, float, None] = None,
    patience: Optional[int] = None,
    bf16: Union[bool, str, None] = None,
    eval_every: Optional[int] = None,
    split: str = "tancik",
    probe_every: Optional[int] = None,
    resume: bool = False,
    progress: bool = True,
    announce: Callable[[str], None] = lambda line: None,
    wording: Optional[Mapping[str, str]] = None,
) -> CompareResult:
    """Fit several models to one signal, as ``coordnet compare`` does, and tabulate them.

    ``models``: specs or bare family names (the preset's tuned model of each family);
    ``None``: the preset's compare models. Each model trains ``seeds`` times (seeds ``seed``,
    ``seed + 1``, ...) at its family's learning rate unless ``lr`` is given. With ``out`` the
    runs' folders, ``results.csv``, ``results.md`` and the figures are written there; without
    it nothing is written. The other arguments are those of :func:`fit`.
    """
    words = {**WORDING, **(wording or {})}
    _check_duration(time_limit, words)
    run_preset = get_preset(preset)
    specs = [
        resolve_model(spec, run_preset, for_compare=True, wording=words)[0]
        for spec in (models or run_preset.compare_models)
    ]
    loaded, _origin = load_any_signal(signal, parse_size(size, words))
    options = dict(
        steps=steps,
        lr=lr,
        schedule=schedule,
        batch_size=batch_size,
        time_limit=time_limit,
        patience=patience,
        bf16=bf16,
        eval_every=eval_every,
        seed=seed,
    )
    labels = [spec.label for spec in specs]
    if len(set(labels)) != len(labels):
        raise ValueError(f"the same model is listed twice: {labels}")
    configs = [train_config(run_preset, spec, False, options, True) for spec in specs]
    for spec, config in zip(specs, configs):
        announce(f"model {spec.label}: {config.steps} steps at lr {config.lr:g}")
    folder = None if out is None else resolve_output_folder(out)
    runs = dict(seeds=seeds, split=split, resume=resume, progress=progress, announce=announce)
    probing = dict(probes=tuple(probes), probe_every=probe_every)
    device_name = _check_device(device, words)
    results = _fit_models(loaded, specs, configs, folder, device=device_name, **runs, **probing)
    for baseline in baseline_runs(loaded, split, configs[0].seed if configs else 0):
        results.append(baseline)  # interpolation of the training pixels, same split and metrics
        test = baseline.mean("test_psnr")
        announce(f"{baseline.label:>28}: test {'-' if test is None else f'{test:.2f} dB'}")
    rows = table_rows(results, seeds)
    table = markdown_table(rows)
    if folder is not None:
        table = write_report(folder, loaded, results, seeds)
    return CompareResult(results, rows, table, loaded, folder)


def _fit_models(
    signal: Any, specs: Sequence[Any], configs: Sequence[Any], folder: Optional[str], **runs: Any
) -> List[ModelRuns]:
    """Each model's runs (:func:`coordnet.runs.compare.compare_runs`), each with its own steps
    and learning rate, under the output folder's lock when there is a folder."""
    results: List[ModelRuns] = []
    with output_folder_lock(folder) if folder is not None else contextlib.nullcontext():
        for spec, config in zip(specs, configs):
            results += compare_runs(signal, [spec], config, folder, **runs)
    return results
