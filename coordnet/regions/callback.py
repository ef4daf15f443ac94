"""A trainer callback recording the number of activation regions during training."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from torch import Tensor

from coordnet.regions.count import count_regions
from coordnet.regions.network import relu_network
from coordnet.training.trainer import Callback, FitResult, Trainer
from coordnet.validation import check_count


class RegionCountCallback(Callback):
    """Counts the distinct activation patterns among fixed ``points`` every ``every`` steps.

    ``steps[i]`` is the optimiser step after which ``counts[i]`` was measured (0: before
    training). Counting runs under ``torch.no_grad`` and leaves the model and the optimiser
    untouched, so training follows the same path with or without this callback.

    Args:
        points: input points ``(*grid, d)``: grid-shaped coordinates as every probe takes
            them (``Signal.coordinates()``, the convention of
            :class:`coordnet.spectral.probe.SpectrumProbe`), or any ``(N, d)`` set of points;
            counted as the flat set of their ``prod(grid)`` points.
        every: count after every step that is a multiple of ``every``.
        at_start: also count before the first step of a fresh run (step 0).
        at_end: also count after the last step if it is not a multiple of ``every``.
        chunk, max_memory: as :func:`~coordnet.regions.count_regions`.
    """

    def __init__(
        self,
        points: Tensor,
        every: int,
        *,
        at_start: bool = True,
        at_end: bool = True,
        chunk: Optional[int] = None,
        max_memory: Optional[int] = None,
    ) -> None:
        if not isinstance(points, Tensor) or not points.is_floating_point() or points.dim() < 2:
            raise ValueError(
                f"points must be a floating-point tensor of shape (*grid, d), got {points!r:.80}"
            )
        self.points = points.reshape(-1, points.shape[-1])
        self.every = check_count("every", every)
        self.at_start = bool(at_start)
        self.at_end = bool(at_end)
        self.chunk = chunk
        self.max_memory = max_memory
        self.steps: List[int] = []
        self.counts: List[int] = []

    def count(self, trainer: Trainer) -> int:
        """Count now and record it at ``trainer.step``."""
        value = count_regions(
            trainer.model, self.points, chunk=self.chunk, max_memory=self.max_memory
        )
        self.steps.append(int(trainer.step))
        self.counts.append(int(value))
        return value

    def on_start(self, trainer: Trainer) -> None:
        relu_network(trainer.model)  # fail before training if the model has no ReLU structure
        if self.at_start and trainer.step == 0 and 0 not in self.steps:
            self.count(trainer)

    def on_step(self, trainer: Trainer, step: int, loss: float) -> None:
        if step % self.every == 0:
            self.count(trainer)

    def on_end(self, trainer: Trainer, result: FitResult) -> None:
        if self.at_end and (not self.steps or self.steps[-1] != trainer.step):
            self.count(trainer)

    def to_dict(self) -> Dict[str, List[int]]:
        """``{"steps": [...], "counts": [...]}``."""
        return {"steps": list(self.steps), "counts": list(self.counts)}

    def state_dict(self) -> Dict[str, Any]:
        """The records so far and ``every``, for checkpoints (:meth:`load_state_dict` restores them)."""
        return {"every": self.every, **self.to_dict()}

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        """Continue the records of :meth:`state_dict` (a resumed fit); ``every`` must match."""
        if state.get("every") != self.every:
            raise ValueError(
                f"region counts were recorded every {state.get('every')!r} steps, not every {self.every}"
            )
        steps, counts = list(state["steps"]), list(state["counts"])
        if len(steps) != len(counts):
            raise ValueError(f"state has {len(steps)} steps but {len(counts)} counts")
        self.steps, self.counts = [int(s) for s in steps], [int(c) for c in counts]
