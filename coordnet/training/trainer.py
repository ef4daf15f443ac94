"""The training loop of coordinate networks: Adam, schedules, mini-batches, callbacks, resume."""

from __future__ import annotations

import contextlib
import math
import numbers
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Sequence, Union

import torch
from torch import Tensor, nn

from coordnet.ops.backend import backend as ops_backend
from coordnet.ops.backend import get_backend_mode, set_backend
from coordnet.training.metrics import psnr_from_mse
from coordnet.training.precision import PrecisionDecision, decide_bf16

SCHEDULES = ("constant", "cosine", "exponential", "stable-decay")
DECAY_FRACTION = 0.2  # the final part of a "stable-decay" run whose learning rate falls linearly


class NonFiniteLossError(RuntimeError):
    """The training loss became NaN or infinite."""

    def __init__(self, step: int, loss: float) -> None:
        super().__init__(
            f"loss became {loss} at step {step}; stopped (earlier checkpoints, if any, are kept)"
        )
        self.step = step
        self.loss = loss


#: The fraction of the training samples held out as the validation split when ``patience`` is set.
VALIDATION_FRACTION = 0.05
#: Largest seed (``torch.Generator.manual_seed`` takes 64-bit values; the CLI takes the same range).
MAX_SEED = 2**63 - 1


def _integer(name: str, value: Any, low: int, high: Optional[int] = None) -> None:
    """A ``TypeError`` unless ``value`` is an integer (not a bool), a ``ValueError`` naming
    ``name`` unless ``low <= value (<= high)``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    value = int(value)
    if value < low or (high is not None and value > high):
        bound = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be {bound}, got {value}")


def _real(name: str, value: Any) -> float:
    """``value`` as a float, or a ``TypeError`` naming ``name`` (bools and strings are refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    return float(value)


def _check_field(name: str, value: Any) -> None:
    """Validate one :class:`TrainConfig` field by type and range (message names the field)."""
    optional = name in ("batch_size", "time_limit", "patience")
    if optional and value is None:
        return
    if name in ("steps", "batch_size", "patience", "eval_every", "eval_chunk"):
        _integer(name, value, 1)
    elif name == "seed":
        _integer(name, value, 0, MAX_SEED)
    elif name == "schedule":
        if not isinstance(value, str) or value not in SCHEDULES:
            raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got {value!r}")
    elif name == "bf16":
        if not (isinstance(value, bool) or value == "auto"):
            raise ValueError(f"bf16 must be True, False or 'auto', got {value!r}")
    elif name in _REAL_RANGES:
        number, (low, low_open, high) = _real(name, value), _REAL_RANGES[name]
        above = number > low if low_open else number >= low
        if not (above and number <= high and math.isfinite(number)):
            bound = f"{'(' if low_open else '['}{low:g}, {high:g}]".replace("inf]", "inf)")
            raise ValueError(f"{name} must be a finite number in {bound}, got {value!r}")


#: Real-valued fields: ``(low, low excluded, high)``.
_REAL_RANGES = {
    "lr": (0.0, True, math.inf),
    "final_lr_ratio": (0.0, True, 1.0),
    "time_limit": (0.0, True, math.inf),
    "min_delta": (0.0, False, math.inf),
    "validation_fraction": (0.0, True, 0.5),
}


@dataclass
class TrainConfig:
    """Settings of :class:`Trainer`; every field is checked by type and range when set (a
    ``TypeError`` or ``ValueError`` naming the field).

    Attributes:
        steps: optimiser steps in total (an integer >= 1).
        lr: Adam learning rate (> 0).
        schedule: ``"constant"``, ``"cosine"`` (to ``lr * final_lr_ratio``), ``"exponential"``
            (the same end point, geometric decay) or ``"stable-decay"`` (constant, then a linear
            fall to the same end point over the last :data:`DECAY_FRACTION` of the run). With a
            ``time_limit`` the progress of a schedule is the larger of the fractions of
            ``steps`` and of ``time_limit`` done, so the decay ends when the time does.
        final_lr_ratio: learning rate at the last step relative to ``lr``, in (0, 1].
        batch_size: random mini-batches of this many samples; ``None`` is full batch.
        seed: seeds the model initialisation (done by the caller), the batch sampler and the
            validation split; an integer in [0, 2**63 - 1].
        bf16: bfloat16 autocast for the MLP (encoders stay in float32): ``True``, ``False``, or
            ``"auto"`` (the fixed rule of :func:`coordnet.training.precision.decide_bf16`; the
            decision is :attr:`Trainer.precision`).
        eval_every: steps between evaluations.
        eval_chunk: samples per chunk when evaluating (bounds memory).
        time_limit: stop after this many seconds of wall time (training, evaluation and
            callbacks, summed over resumed runs), with a final evaluation; ``None``: no limit.
            Results then depend on the machine's speed and load.
        patience: stop when this many evaluations in a row have not raised the *validation*
            PSNR by more than ``min_delta`` dB; ``None``: never. The validation split is
            ``validation_fraction`` of the training samples (seeded), held out from training
            while ``patience`` is set; the test samples never steer training.
        min_delta: the smallest PSNR gain (dB) that counts as an improvement for ``patience``.
        validation_fraction: the share of the training samples held out for ``patience``, in
            (0, 0.5].
    """

    steps: int = 2000
    lr: float = 1e-3
    schedule: str = "constant"
    final_lr_ratio: float = 0.1
    batch_size: Optional[int] = None
    seed: int = 0
    bf16: Union[bool, str] = False
    eval_every: int = 100
    eval_chunk: int = 65536
    time_limit: Optional[float] = None
    patience: Optional[int] = None
    min_delta: float = 0.01
    validation_fraction: float = VALIDATION_FRACTION

    def __setattr__(self, name: str, value: Any) -> None:
        _check_field(name, value)
        super().__setattr__(name, value)

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


@dataclass
class Samples:
    """Training and optional test samples: coordinates ``(N, d)``, values ``(N, C)``."""

    train_coords: Tensor
    train_values: Tensor
    test_coords: Optional[Tensor] = None
    test_values: Optional[Tensor] = None


@dataclass
class History:
    """Curves recorded during training (one entry per evaluation). ``validation_psnr`` is
    recorded while early stopping is on (``None`` otherwise); ``test_psnr`` is ``None`` without
    test samples."""

    steps: List[int] = field(default_factory=list)
    loss: List[float] = field(default_factory=list)
    train_psnr: List[float] = field(default_factory=list)
    test_psnr: List[Optional[float]] = field(default_factory=list)
    validation_psnr: List[Optional[float]] = field(default_factory=list)

    def to_dict(self) -> Dict[str, list]:
        return asdict(self)


@dataclass
class FitResult:
    steps: int
    seconds: float
    train_psnr: float
    test_psnr: Optional[float]
    final_loss: float
    history: History
    wall_seconds: float = math.nan
    eval_seconds: List[float] = field(
        default_factory=list
    )  # wall seconds at each evaluation of ``history``
    stopped: Optional[str] = None  # "time_limit", "plateau", or None (all steps trained)


class Callback:
    """Hooks of the training loop; every method is optional."""

    def on_start(self, trainer: "Trainer") -> None: ...

    def on_step(self, trainer: "Trainer", step: int, loss: float) -> None: ...

    def on_eval(
        self, trainer: "Trainer", step: int, metrics: Dict[str, Optional[float]]
    ) -> None: ...

    def on_end(self, trainer: "Trainer", result: FitResult) -> None: ...

    def on_abort(self, trainer: "Trainer", error: BaseException) -> None:
        """Training stopped by an exception (divergence, Ctrl-C); release resources here."""


@torch.no_grad()
def predict(model: nn.Module, coords: Tensor, chunk: int = 65536, bf16: bool = False) -> Tensor:
    """Evaluate ``model`` on ``coords (N, d)`` in chunks -> ``(N, C)`` float32, without gradients."""
    device = next(model.parameters()).device
    outputs = []
    for start in range(0, coords.shape[0], chunk):
        piece = coords[start : start + chunk].to(device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            outputs.append(model(piece).float().cpu())
    if not outputs:
        return torch.empty(0, 0)
    return torch.cat(outputs)


def chunked_mse(
    model: nn.Module, coords: Tensor, values: Tensor, chunk: int, bf16: bool = False
) -> float:
    """Mean squared error of ``model`` over ``(coords, values)``, evaluated in chunks."""
    total, count = 0.0, 0
    device = next(model.parameters()).device
    with torch.no_grad():
        for start in range(0, coords.shape[0], chunk):
            x = coords[start : start + chunk].to(device)
            y = values[start : start + chunk].to(device)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                prediction = model(x).float()
            total += float(torch.sum((prediction - y) ** 2))
            count += y.numel()
    return total / max(count, 1)


def make_adam(parameters, lr: float, device: torch.device) -> torch.optim.Adam:
    """Adam with its fused kernel (one pass over each parameter instead of a dozen tensor ops;
    it matters for large grid tables) where the device supports it, else the multi-tensor one."""
    parameters = list(parameters)
    try:
        return torch.optim.Adam(parameters, lr=lr, fused=True)
    except (RuntimeError, ValueError):  # pragma: no cover - devices without a fused Adam
        return torch.optim.Adam(parameters, lr=lr, foreach=True)


class Trainer:
    """Fits ``model`` to ``samples`` with Adam and MSE.

    The full state (model, optimiser, schedule, sampler RNG, step, history and the
    :meth:`decisions` that change the numbers: precision, op backend, CPU threads) round-trips
    through :meth:`state_dict` / :meth:`load_state_dict`, so a resumed run reaches the same
    numbers as an uninterrupted one.

    With ``config.patience`` set, :func:`carve_validation` holds out a seeded validation split
    of the training samples; early stopping watches it alone. Test samples are evaluated and
    recorded, never read by any decision.
    """

    def __init__(
        self,
        model: nn.Module,
        samples: Samples,
        config: TrainConfig,
        callbacks: Sequence[Callback] = (),
        device: str = "cpu",
    ) -> None:
        self.device = torch.device(device)
        self.model = model.to(self.device)
        self.samples = samples
        self.config = config
        self.callbacks = list(callbacks)
        self.optimizer = make_adam(self.model.parameters(), config.lr, self.device)
        self.generator = torch.Generator().manual_seed(config.seed)
        self.step = 0
        self.seconds = 0.0
        self.wall_seconds = 0.0
        self.eval_seconds: List[float] = []  # wall time (not part of the reproducible history)
        self.stopped: Optional[str] = None
        self.history = History()
        self.last_loss = math.nan
        self._started: Optional[float] = None
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, self._lr_factor
        )  # reads the clock above
        train, validation = carve_validation(samples.train_coords.shape[0], config)
        self._train_x = samples.train_coords[train].to(self.device)
        self._train_y = samples.train_values[train].to(self.device)
        self._validation = (
            None
            if validation is None
            else (samples.train_coords[validation], samples.train_values[validation])
        )
        self.precision: PrecisionDecision = decide_bf16(self.model, self.device, config.bf16)
        self.threads = torch.get_num_threads()
        self.backend = ops_backend(self.device)

    @property
    def bf16(self) -> bool:
        """Whether the net trains and evaluates under bf16 autocast (:attr:`precision`)."""
        return self.precision.bf16

    def decisions(self) -> Dict[str, Any]:
        """Every decision that changes the numbers, and which data or rule drove it (written to
        ``metrics.json`` and the checkpoint; :meth:`load_state_dict` reuses the stored ones)."""
        patience = self.config.patience is not None
        return {
            "precision": self.precision.precision,
            "precision_rule": self.precision.reason,
            "backend": self.backend,
            "threads": self.threads,
            "early_stop_split": (
                None if not patience else "validation" if self._validation else "train"
            ),
            "validation_samples": 0 if self._validation is None else len(self._validation[0]),
            "train_samples": int(self._train_x.shape[0]),
            "wall_clock": self.config.time_limit is not None,
            "test_split": "reported only",
        }

    def _lr_factor(self, step: int) -> float:
        progress = min(step / max(self.config.steps - 1, 1), 1.0)
        if self.config.time_limit is not None:
            progress = max(progress, min(self.elapsed() / self.config.time_limit, 1.0))
        end = self.config.final_lr_ratio
        if self.config.schedule == "stable-decay":
            start = 1.0 - DECAY_FRACTION
            return (
                1.0
                if progress <= start
                else 1.0 - (1.0 - end) * (progress - start) / DECAY_FRACTION
            )
        if self.config.schedule == "cosine":
            return end + (1 - end) * 0.5 * (1 + math.cos(math.pi * progress))
        if self.config.schedule == "exponential":
            return end**progress
        return 1.0

    def _batch(self) -> "tuple[Tensor, Tensor]":
        size = self.config.batch_size
        n = self._train_x.shape[0]
        if size is None or size >= n:
            return self._train_x, self._train_y
        index = torch.randint(0, n, (size,), generator=self.generator).to(self.device)
        return self._train_x[index], self._train_y[index]

    def train_step(self) -> float:
        """One optimiser step; returns the loss (float)."""
        x, y = self._batch()
        self.optimizer.zero_grad(set_to_none=True)
        if self.bf16:
            with torch.autocast(self.device.type, dtype=torch.bfloat16):
                prediction = self.model(x)
        else:
            prediction = self.model(x)
        loss = torch.mean((prediction.float() - y) ** 2)
        loss.backward()
        self.optimizer.step()
        self.scheduler.step()
        return float(loss.detach())

    def evaluate(self) -> Dict[str, Optional[float]]:
        """PSNR on the samples trained on, on the validation split (``None`` without one) and on
        the test samples (``None`` without them); the test PSNR is only recorded."""
        chunk, bf16 = self.config.eval_chunk, self.bf16
        train_mse = chunked_mse(self.model, self._train_x, self._train_y, chunk, bf16)
        validation_psnr = None
        if self._validation is not None:
            validation_psnr = psnr_from_mse(chunked_mse(self.model, *self._validation, chunk, bf16))
        test_psnr = None
        test_coords, test_values = self.samples.test_coords, self.samples.test_values
        if test_coords is not None and test_values is not None and test_coords.shape[0] > 0:
            test_psnr = psnr_from_mse(
                chunked_mse(self.model, test_coords, test_values, chunk, bf16)
            )
        return {
            "train_psnr": psnr_from_mse(train_mse),
            "test_psnr": test_psnr,
            "validation_psnr": validation_psnr,
            "train_mse": train_mse,
        }

    def _record(self, step: int, loss: float) -> Dict[str, Optional[float]]:
        metrics = self.evaluate()
        self.history.steps.append(step)
        self.history.loss.append(loss)
        train_psnr = metrics["train_psnr"]
        if train_psnr is None:  # pragma: no cover - evaluate always measures the training samples
            raise RuntimeError("evaluate() returned no train PSNR")
        self.history.train_psnr.append(train_psnr)
        self.history.test_psnr.append(metrics["test_psnr"])
        self.history.validation_psnr.append(metrics["validation_psnr"])
        self.eval_seconds.append(self.elapsed())
        for callback in self.callbacks:
            callback.on_eval(self, step, metrics)
        return metrics

    def fit(self) -> FitResult:
        """Train from the current step to ``config.steps``; raises :class:`NonFiniteLossError`."""
        self.model.train()
        for callback in self.callbacks:
            callback.on_start(self)
        try:
            with self.decided_environment():
                self._train_to_end()
        except BaseException as error:
            for callback in self.callbacks:
                callback.on_abort(self, error)
            raise
        self.model.eval()
        final = self.history
        result = FitResult(
            steps=self.step,
            seconds=self.seconds,
            train_psnr=final.train_psnr[-1] if final.train_psnr else math.nan,
            test_psnr=final.test_psnr[-1] if final.test_psnr else None,
            final_loss=self.last_loss,
            history=final,
            wall_seconds=self.wall_seconds,
            eval_seconds=list(self.eval_seconds),
            stopped=self.stopped,
        )
        for callback in self.callbacks:
            callback.on_end(self, result)
        return result

    def elapsed(self) -> float:
        """Wall seconds of training so far (evaluations and earlier, resumed runs included)."""
        return self.wall_seconds + (
            time.perf_counter() - self._started if self._started is not None else 0.0
        )

    def _plateaued(self) -> bool:
        """True when the last ``patience`` evaluations did not beat the best before them by
        ``min_delta`` on the validation split (the train PSNR where the training samples were
        too few to carve one). Never reads the test PSNR."""
        patience = self.config.patience
        recorded = (
            self.history.validation_psnr
            if self._validation is not None
            else self.history.train_psnr
        )
        curve = [v for v in recorded if v is not None]  # all recorded while stopping is on
        if patience is None or len(curve) <= patience:
            return False
        before = max(curve[:-patience])
        return max(curve[-patience:]) <= before + self.config.min_delta

    def _train_to_end(self) -> None:
        self._started = time.perf_counter()
        self.stopped = None
        try:
            self._loop()
        finally:
            self.wall_seconds += time.perf_counter() - self._started
            self._started = None

    def _loop(self) -> None:
        limit, every, steps = self.config.time_limit, self.config.eval_every, self.config.steps
        while self.step < steps:
            started = time.perf_counter()
            loss = self.train_step()
            self.seconds += time.perf_counter() - started
            step = self.step + 1
            if not math.isfinite(loss):
                raise NonFiniteLossError(step, loss)
            self.step = step
            self.last_loss = loss
            for callback in self.callbacks:
                callback.on_step(self, step, loss)
            out_of_time = limit is not None and self.elapsed() >= limit
            if step % every == 0 or step == steps or out_of_time:
                self._record(step, loss)
                if out_of_time and step < steps:
                    self.stopped = "time_limit"
                    return
                if self._plateaued() and step < steps:
                    self.stopped = "plateau"
                    return

    def state_dict(self) -> Dict[str, Any]:
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "generator": self.generator.get_state(),
            "step": self.step,
            "seconds": self.seconds,
            "wall_seconds": self.wall_seconds,
            "eval_seconds": list(self.eval_seconds),
            "last_loss": self.last_loss,
            "history": self.history.to_dict(),
            "decisions": self.decisions(),
        }

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.generator.set_state(state["generator"])
        self.step = int(state["step"])
        self.seconds = float(state["seconds"])
        self.wall_seconds = float(state.get("wall_seconds", state["seconds"]))
        self.eval_seconds = [float(t) for t in state.get("eval_seconds", [])]
        self.last_loss = float(state["last_loss"])
        self.history = History(**state["history"])
        if "decisions" in state:
            self._reuse(state["decisions"])

    def _reuse(self, stored: Dict[str, Any]) -> None:
        """Adopt a checkpoint's precision, backend and thread count (a ``ValueError`` names a
        malformed entry)."""
        precision, threads = stored.get("precision"), stored.get("threads")
        if precision not in ("bf16", "float32") or isinstance(threads, bool):
            raise ValueError(f"decisions: precision {precision!r} is not 'bf16' or 'float32'")
        if not isinstance(threads, int) or threads < 1:
            raise ValueError(f"decisions: threads {threads!r} is not a positive integer")
        reason = str(stored.get("precision_rule", ""))
        self.precision = PrecisionDecision(precision == "bf16", reason)
        self.threads = threads
        self.backend = str(stored.get("backend", self.backend))

    @contextlib.contextmanager
    def decided_environment(self) -> Iterator[None]:
        """Run the block with :attr:`threads` CPU threads and the ops on :attr:`backend` (both
        as decided at the start of the fit, or as stored in a resumed checkpoint); restores the
        process's settings afterwards. A ``ValueError`` names a backend this build lacks."""
        threads, mode = torch.get_num_threads(), get_backend_mode()
        try:
            if self.device.type == "cpu" and threads != self.threads:
                torch.set_num_threads(self.threads)
            if ops_backend(self.device) != self.backend:
                set_backend("reference" if self.backend == "reference" else "auto")
                if ops_backend(self.device) != self.backend:
                    raise ValueError(
                        f"the fit ran its ops on the {self.backend!r} backend, which is not "
                        f"available here ({ops_backend(self.device)!r})"
                    )
            yield
        finally:
            torch.set_num_threads(threads)
            set_backend(mode)


def carve_validation(
    count: int, config: TrainConfig
) -> "tuple[Union[slice, Tensor], Optional[Tensor]]":
    """Indices of the samples to train on and of the validation split among ``count`` training
    samples: with ``config.patience`` set and at least 2 samples, ``validation_fraction`` of them
    (rounded, at least 1) drawn by a generator seeded with ``config.seed``, both index sets in
    increasing order; otherwise all samples train and there is no validation split."""
    if config.patience is None or count < 2:
        return slice(None), None
    size = min(count - 1, max(1, round(config.validation_fraction * count)))
    order = torch.randperm(count, generator=torch.Generator().manual_seed(config.seed))
    return order[size:].sort().values, order[:size].sort().values
