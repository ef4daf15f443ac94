"""The training loop of coordinate networks: Adam, schedules, mini-batches, callbacks, resume."""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Union

import torch
from torch import Tensor, nn

from coordnet.training.metrics import psnr_from_mse
from coordnet.training.precision import choose_bf16

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


@dataclass
class TrainConfig:
    """Settings of :class:`Trainer`.

    Attributes:
        steps: optimiser steps in total.
        lr: Adam learning rate.
        schedule: ``"constant"``, ``"cosine"`` (to ``lr * final_lr_ratio``), ``"exponential"``
            (the same end point, geometric decay) or ``"stable-decay"`` (constant, then a linear
            fall to the same end point over the last :data:`DECAY_FRACTION` of the run). With a
            ``time_limit`` the progress of a schedule is the larger of the fractions of
            ``steps`` and of ``time_limit`` done, so the decay ends when the time does.
        final_lr_ratio: learning rate at the last step relative to ``lr``.
        batch_size: random mini-batches of this many samples; ``None`` is full batch.
        seed: seeds the model initialisation (done by the caller) and the batch sampler.
        bf16: bfloat16 autocast for the MLP (encoders stay in float32): ``True``, ``False``, or
            ``"auto"`` (only where :func:`coordnet.training.precision.choose_bf16` measures it faster;
            the decision is :attr:`Trainer.bf16`).
        eval_every: steps between evaluations on the train and test samples.
        eval_chunk: samples per chunk when evaluating (bounds memory).
        time_limit: stop after this many seconds of wall time (training, evaluation and
            callbacks, summed over resumed runs), with a final evaluation; ``None``: no limit.
        patience: stop when this many evaluations in a row have not raised the test PSNR (the
            train PSNR without test samples) by more than ``min_delta`` dB; ``None``: never.
        min_delta: the smallest PSNR gain (dB) that counts as an improvement for ``patience``.
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

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise ValueError(f"steps must be positive, got {self.steps}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"lr must be a positive number, got {self.lr}")
        if self.schedule not in SCHEDULES:
            raise ValueError(
                f"schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}"
            )
        if not 0 < self.final_lr_ratio <= 1:
            raise ValueError(f"final_lr_ratio must be in (0, 1], got {self.final_lr_ratio}")
        if self.batch_size is not None and self.batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {self.batch_size}")
        if self.bf16 not in (True, False, "auto"):
            raise ValueError(f"bf16 must be True, False or 'auto', got {self.bf16!r}")
        if self.eval_every < 1 or self.eval_chunk < 1:
            raise ValueError("eval_every and eval_chunk must be positive")
        if self.time_limit is not None and not (
            self.time_limit > 0 and math.isfinite(self.time_limit)
        ):
            raise ValueError(
                f"time_limit must be a positive number of seconds, got {self.time_limit}"
            )
        if self.patience is not None and self.patience < 1:
            raise ValueError(f"patience must be positive, got {self.patience}")
        if not (self.min_delta >= 0 and math.isfinite(self.min_delta)):
            raise ValueError(f"min_delta must be a non-negative number, got {self.min_delta}")

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
    """Curves recorded during training (one entry per evaluation)."""

    steps: List[int] = field(default_factory=list)
    loss: List[float] = field(default_factory=list)
    train_psnr: List[float] = field(default_factory=list)
    test_psnr: List[Optional[float]] = field(default_factory=list)

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

    The full state (model, optimiser, schedule, sampler RNG, step, history) round-trips
    through :meth:`state_dict` / :meth:`load_state_dict`, so a resumed run reaches the same
    numbers as an uninterrupted one.
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
        self._train_x = samples.train_coords.to(self.device)
        self._train_y = samples.train_values.to(self.device)
        batch = (
            self._train_x.shape[0]
            if config.batch_size is None
            else min(config.batch_size, self._train_x.shape[0])
        )
        self.bf16 = choose_bf16(self.model, batch, self.device, config.bf16)

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
        """PSNR on the train samples and on the test samples (``None`` without test samples)."""
        chunk, bf16 = self.config.eval_chunk, self.bf16
        train_mse = chunked_mse(
            self.model, self.samples.train_coords, self.samples.train_values, chunk, bf16
        )
        test_psnr = None
        if self.samples.test_coords is not None and self.samples.test_coords.shape[0] > 0:
            test_psnr = psnr_from_mse(
                chunked_mse(
                    self.model, self.samples.test_coords, self.samples.test_values, chunk, bf16
                )
            )
        return {
            "train_psnr": psnr_from_mse(train_mse),
            "test_psnr": test_psnr,
            "train_mse": train_mse,
        }

    def _record(self, step: int, loss: float) -> Dict[str, Optional[float]]:
        metrics = self.evaluate()
        self.history.steps.append(step)
        self.history.loss.append(loss)
        self.history.train_psnr.append(metrics["train_psnr"])
        self.history.test_psnr.append(metrics["test_psnr"])
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
        """True when the last ``patience`` evaluations did not beat the best before them by ``min_delta``."""
        patience = self.config.patience
        curve = (
            self.history.test_psnr
            if self.history.test_psnr and self.history.test_psnr[-1] is not None
            else self.history.train_psnr
        )
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
