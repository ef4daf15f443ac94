"""Trainer callbacks: progress bar, checkpoints, TensorBoard."""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional

from coordnet.extras import require
from coordnet.training.checkpoint import save_checkpoint
from coordnet.training.metrics import psnr_from_mse
from coordnet.training.trainer import Callback, FitResult, Trainer


class ProgressBar(Callback):
    """A tqdm bar over the steps (with tqdm's rate and ETA), showing the loss, the live train
    PSNR (from the loss: exact for full batches, an estimate for mini-batches), the latest
    evaluated PSNRs and, under a time limit, the seconds left of it. Its length is the limit
    that binds: ``config.steps``, or under a time limit the steps the time left allows at the
    measured rate (:meth:`expected_steps`), so the ETA ends with the fit."""

    def __init__(self, description: str = "fit", enabled: bool = True) -> None:
        self.description = description
        self.enabled = enabled
        self.bar: Any = None  # the tqdm bar, from on_start
        self.postfix: Dict[str, str] = {}
        self.first_step, self.first_elapsed = 0, 0.0

    def on_start(self, trainer: Trainer) -> None:
        from tqdm.auto import tqdm

        self.first_step, self.first_elapsed = trainer.step, trainer.elapsed()

        self.bar = tqdm(
            total=trainer.config.steps,
            initial=trainer.step,
            desc=self.description,
            disable=not self.enabled,
            dynamic_ncols=True,
            leave=False,
        )

    def on_step(self, trainer: Trainer, step: int, loss: float) -> None:
        self.bar.update(1)
        if step % 10 == 0:
            self.postfix["loss"] = f"{loss:.2e}"
            self.postfix["psnr"] = f"{psnr_from_mse(loss):.2f}dB"
            limit = trainer.config.time_limit
            if limit is not None:
                self.postfix["time left"] = f"{max(limit - trainer.elapsed(), 0.0):.0f}s"
                self.bar.total = self.expected_steps(trainer, step)
            self.bar.set_postfix(self.postfix, refresh=False)

    def expected_steps(self, trainer: Trainer, step: int) -> int:
        """The step the fit will end at: ``config.steps``, or under a time limit that binds
        first, the steps reachable in the time left at the rate of this run so far (so that
        the bar's length and its ETA follow the limit that ends the fit)."""
        steps, limit = trainer.config.steps, trainer.config.time_limit
        elapsed = trainer.elapsed()
        done, spent = step - self.first_step, elapsed - self.first_elapsed
        if limit is None or done <= 0 or spent <= 0:
            return steps
        reachable = step + int(max(limit - elapsed, 0.0) * done / spent)
        return max(step, min(steps, reachable))

    def on_eval(self, trainer: Trainer, step: int, metrics: Dict[str, Optional[float]]) -> None:
        self.postfix["train"] = f"{metrics['train_psnr']:.2f}dB"
        if metrics["test_psnr"] is not None:
            self.postfix["test"] = f"{metrics['test_psnr']:.2f}dB"
        self.bar.set_postfix(self.postfix)

    def on_end(self, trainer: Trainer, result: FitResult) -> None:
        self.bar.close()

    def on_abort(self, trainer: Trainer, error: BaseException) -> None:
        if self.bar is not None:
            self.bar.close()


class CheckpointCallback(Callback):
    """Saves the trainer's full state every ``every`` steps and at the end (atomically)."""

    def __init__(self, path: str, every: int, payload: Callable[[Trainer], Dict[str, Any]]) -> None:
        if every < 1:
            raise ValueError(f"checkpoint interval must be positive, got {every}")
        self.path = path
        self.every = every
        self.payload = payload

    def save(self, trainer: Trainer) -> None:
        save_checkpoint(self.path, self.payload(trainer))

    @staticmethod
    def _evaluated(trainer: Trainer, step: int) -> bool:
        return step % trainer.config.eval_every == 0 or step == trainer.config.steps

    def on_step(self, trainer: Trainer, step: int, loss: float) -> None:
        # A step that is also evaluated is saved in on_eval, after its record joined the history:
        # a fit resumed from it then has the same history as an uninterrupted one.
        if step % self.every == 0 and not self._evaluated(trainer, step):
            self.save(trainer)

    def on_eval(self, trainer: Trainer, step: int, metrics: Dict[str, Optional[float]]) -> None:
        if step % self.every == 0:
            self.save(trainer)

    def on_end(self, trainer: Trainer, result: FitResult) -> None:
        self.save(trainer)


class TensorBoardLogger(Callback):
    """Scalars (loss, PSNRs, learning rate) and, through ``render``, reconstruction images."""

    def __init__(self, log_dir: str, render: Optional[Callable[[Trainer], Any]] = None) -> None:
        self.writer = require("tensorboard", "--tensorboard").SummaryWriter(log_dir)
        self.render = render

    def on_step(self, trainer: Trainer, step: int, loss: float) -> None:
        if step % 10 == 0:
            self.writer.add_scalar("loss", loss, step)
            self.writer.add_scalar("lr", trainer.optimizer.param_groups[0]["lr"], step)

    def on_eval(self, trainer: Trainer, step: int, metrics: Dict[str, Optional[float]]) -> None:
        for key, value in metrics.items():
            if value is not None:
                self.writer.add_scalar(key, value, step)
        if self.render is not None:
            self.writer.add_image("reconstruction", self.render(trainer), step, dataformats="HWC")

    def on_end(self, trainer: Trainer, result: FitResult) -> None:
        self.writer.close()

    def on_abort(self, trainer: Trainer, error: BaseException) -> None:
        self.writer.close()
