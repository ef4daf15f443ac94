"""A trainer callback that records the spectrum of the network during training.

:class:`SpectrumProbe` evaluates the model on a regular grid every ``every`` steps (and before
the first step, and at the end) and keeps what :mod:`coordnet.spectral.curves` needs:

* 1D grids ``(n, 1)``: the network's amplitude at chosen integer frequencies (default: the
  target's ``count`` strongest non-zero frequencies) -> :class:`FrequencyCurves`;
* 2D grids ``(H, W, 2)``: the error energy in radial bands of the 2D FFT -> :class:`BandCurves`.

Its records round-trip through :meth:`SpectrumProbe.state_dict`, so a resumed fit keeps them.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Union

import torch
from torch import Tensor, nn

from coordnet.spectral.curves import BandCurves, FrequencyCurves, negligible
from coordnet.spectral.spectrum import RadialBands, amplitudes, check_frequencies
from coordnet.training.trainer import Callback, FitResult, Trainer, predict
from coordnet.validation import check_count


def dominant_frequencies(values: Tensor, count: int = 10) -> Tensor:
    """The ``count`` non-zero frequencies of largest amplitude of ``values (n[, C])``, increasing: int64 ``(K,)``.

    Amplitudes are combined over channels as a root-sum-square; frequencies with no amplitude
    are never chosen, so fewer than ``count`` may be returned (at least one is required).
    """
    check_count("count", count)
    x = values.detach().to(torch.float64)
    if x.dim() == 1:
        x = x[:, None]
    n = x.shape[0]
    if n < 4:
        raise ValueError(f"need at least 4 samples to choose frequencies, got {n}")
    candidates = torch.arange(1, n // 2 + 1)
    amp = amplitudes(x.T, candidates).square().sum(0).sqrt()
    strongest = torch.argsort(amp, descending=True, stable=True)[:count]
    chosen = candidates[strongest][~negligible(amp[strongest], x)]
    if chosen.numel() == 0:
        raise ValueError("the target has no non-zero frequency to follow (it is constant)")
    return torch.sort(chosen).values


class SpectrumProbe(Callback):
    """Records the network's spectrum on a grid during :meth:`Trainer.fit`.

    Args:
        coords: grid coordinates ``(n, 1)`` (1D) or ``(H, W, 2)`` (2D), as the model takes them.
        target: target values on the grid, ``(n, C)`` or ``(H, W, C)``.
        every: record every ``every`` steps (plus step 0 of a fresh fit and the last step).
        frequencies: 1D only: integer frequencies (cycles per grid period) to follow; default
            the ``count`` strongest frequencies of the target.
        count: 1D only: how many frequencies to choose when ``frequencies`` is not given.
        num_bands: 2D only: radial bands of the 2D FFT (default ``min(8, min(H, W) // 2)``).
        chunk: points per forward pass when evaluating.
    """

    def __init__(
        self,
        coords: Tensor,
        target: Tensor,
        every: int,
        *,
        frequencies: Optional[Union[Sequence[int], Tensor]] = None,
        count: int = 10,
        num_bands: Optional[int] = None,
        chunk: int = 65536,
    ) -> None:
        self.every = check_count("every", every)
        self.chunk = check_count("chunk", chunk)
        if coords.dim() < 2:
            raise ValueError(f"coords must have shape (*grid, d), got {tuple(coords.shape)}")
        d = coords.shape[-1]
        grid = tuple(coords.shape[:-1])
        if d != len(grid) or d not in (1, 2):
            raise ValueError(
                "the spectrum probe needs a 1D grid (n, 1) or a 2D grid (H, W, 2) of coordinates, "
                f"got {tuple(coords.shape)}"
            )
        if target.dim() != d + 1 or tuple(target.shape[:-1]) != grid:
            raise ValueError(f"target must have shape {(*grid, 'C')}, got {tuple(target.shape)}")
        self.kind = "1d" if d == 1 else "2d"
        self.grid_shape = grid
        self.coords = coords.detach().reshape(-1, d)
        self.target = target.detach().to(torch.float64)
        if self.kind == "1d":
            if frequencies is None:
                self.frequencies = dominant_frequencies(self.target, count)
            else:
                self.frequencies = check_frequencies(frequencies, grid[0])
            self.bands: Optional[RadialBands] = None
            self.target_summary = amplitudes(self.target.T, self.frequencies).square().sum(0).sqrt()
            absent = negligible(self.target_summary, self.target)
            if bool(absent.any()):
                k = int(self.frequencies[absent][0])
                raise ValueError(
                    f"the target has no amplitude at frequency {k}: choose frequencies it contains"
                )
        else:
            if num_bands is None:
                num_bands = min(8, RadialBands.max_bands(grid))
            self.bands = RadialBands.for_grid(grid, num_bands)
            self.target_summary = self.bands(self.target)
        self.steps: List[int] = []
        self.records: List[Tensor] = []

    def measure(self, model: nn.Module) -> Tensor:
        """The current summary: amplitudes ``(K,)`` (1D) or band error energies ``(B,)`` (2D)."""
        prediction = predict(model, self.coords, self.chunk).to(torch.float64)
        prediction = prediction.reshape(*self.grid_shape, -1)
        if self.kind == "1d":
            return amplitudes(prediction.T, self.frequencies).square().sum(0).sqrt()
        assert self.bands is not None
        return self.bands(prediction - self.target)

    def record(self, model: nn.Module, step: int) -> None:
        """Measure ``model`` and store the result under ``step`` (once per step)."""
        if self.steps and step <= self.steps[-1]:
            return
        was_training = model.training
        model.eval()
        try:
            self.records.append(self.measure(model))
        finally:
            model.train(was_training)
        self.steps.append(int(step))

    def on_start(self, trainer: Trainer) -> None:
        if trainer.step == 0:  # a resumed fit records on schedule only, as an uninterrupted one
            self.record(trainer.model, trainer.step)

    def on_step(self, trainer: Trainer, step: int, loss: float) -> None:
        if step % self.every == 0:
            self.record(trainer.model, step)

    def on_end(self, trainer: Trainer, result: FitResult) -> None:
        self.record(trainer.model, trainer.step)

    def curves(self) -> Union[FrequencyCurves, BandCurves]:
        """The recorded curves (:class:`FrequencyCurves` in 1D, :class:`BandCurves` in 2D)."""
        if not self.records:
            raise RuntimeError(
                "the spectrum probe has no records yet: attach it to a Trainer and fit"
            )
        steps = torch.tensor(self.steps, dtype=torch.int64)
        table = torch.stack(self.records)
        if self.kind == "1d":
            return FrequencyCurves(
                steps, self.frequencies.clone(), table, self.target_summary.clone()
            )
        assert self.bands is not None
        return BandCurves(steps, self.bands.edges.clone(), table, self.target_summary.clone())

    def state_dict(self) -> Dict[str, Any]:
        return {
            "kind": self.kind,
            "steps": list(self.steps),
            "records": [r.tolist() for r in self.records],
            "frequencies": None if self.kind == "2d" else self.frequencies.tolist(),
            "num_bands": None if self.bands is None else self.bands.num_bands,
        }

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        """Restore records saved by :meth:`state_dict` (same kind, frequencies or bands)."""
        expected = self.state_dict()
        for key in ("kind", "frequencies", "num_bands"):
            if state.get(key) != expected[key]:
                raise ValueError(
                    f"cannot restore the spectrum probe: its {key} {state.get(key)!r} "
                    f"differs from {expected[key]!r}"
                )
        self.steps = [int(s) for s in state["steps"]]
        self.records = [torch.tensor(r, dtype=torch.float64) for r in state["records"]]


__all__ = ["SpectrumProbe", "dominant_frequencies"]
