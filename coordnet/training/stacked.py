"""Full-batch Adam on a :class:`~coordnet.nets.stacked.StackedMLP`: many same-shape fits in one loop.

Each member ``m`` is fitted to its own targets; the objective is the sum over members of their
own losses, so every member's gradient, Adam moments and update are those of its solo fit.
"""

from __future__ import annotations

import dataclasses
import time
from typing import List, Optional

import torch
from torch import Tensor

from coordnet.nets.stacked import StackedMLP
from coordnet.validation import check_count, check_positive


@dataclasses.dataclass
class StackedFitResult:
    """What :func:`fit_stacked` measured.

    Attributes:
        record_steps: number of Adam updates done at each record (``R`` entries).
        train_psnr, test_psnr: ``(M, R)`` PSNR in dB (``-10 log10 MSE`` over all values) of each
            member at each record.
        final_test_psnr: ``(M,)`` test PSNR after the last update done.
        steps_done: updates done (``steps`` unless stopped by the deadline).
        completed: ``False`` when the deadline stopped the loop early.
        seconds: wall-clock time of the loop.
    """

    record_steps: List[int]
    train_psnr: Tensor
    test_psnr: Tensor
    final_test_psnr: Tensor
    steps_done: int
    completed: bool
    seconds: float


def _psnr(prediction: Tensor, target: Tensor) -> Tensor:
    """``(M, N, C), (M, N, C) -> (M,)`` PSNR in dB of values in [0, 1] (float64 result)."""
    mse = (prediction.double() - target.double()).pow(2).mean(dim=(1, 2))
    return -10.0 * torch.log10(mse)


def _loss(prediction: Tensor, target: Tensor, scale: float) -> Tensor:
    """Sum over members of ``scale · mean squared error`` of each member."""
    return scale * (prediction - target).pow(2).mean(dim=(1, 2)).sum()


@torch.no_grad()
def _evaluate(model: StackedMLP, inputs: Tensor, targets: Tensor, chunk: int) -> Tensor:
    parts = [
        model(inputs[..., start : start + chunk, :]) for start in range(0, inputs.shape[-2], chunk)
    ]
    return _psnr(torch.cat(parts, dim=1), targets)


def fit_stacked(
    model: StackedMLP,
    train_inputs: Tensor,
    train_targets: Tensor,
    test_inputs: Tensor,
    test_targets: Tensor,
    *,
    steps: int,
    lr: float,
    record_every: int = 25,
    loss_scale: float = 0.5,
    eval_chunk: int = 1 << 16,
    deadline: Optional[float] = None,
) -> StackedFitResult:
    """Train every member of ``model`` with full-batch Adam (``lr``, betas (0.9, 0.999), eps 1e-8).

    Args:
        model: ``M`` stacked models.
        train_inputs: ``(N, F)`` shared by all members, or ``(M, N, F)``.
        train_targets: ``(M, N, C)``.
        test_inputs, test_targets: the same for the held-out points ``(N', F)``/``(M, N', F)``, ``(M, N', C)``.
        steps: Adam updates.
        lr: learning rate of every member.
        record_every: PSNRs are recorded after update ``i`` (0-based) when ``i % record_every == 0``,
            i.e. after 1, 1 + record_every, ... updates (the last record of 2000 steps at 25 is after 1976).
        loss_scale: the loss of a member is ``loss_scale · MSE`` (0.5 in Tancik et al.'s notebook).
        eval_chunk: points per forward pass when evaluating.
        deadline: a ``time.monotonic()`` value; at a record past it the loop stops (``completed=False``).

    Returns:
        :class:`StackedFitResult`.
    """
    steps = check_count("steps", steps)
    record_every = check_count("record_every", record_every)
    check_positive("lr", lr)
    members = model.models
    for name, tensor in (("train_targets", train_targets), ("test_targets", test_targets)):
        if tensor.dim() != 3 or tensor.shape[0] != members:
            raise ValueError(f"{name} must be ({members}, N, C), got {tuple(tensor.shape)}")
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8)
    record_steps: List[int] = []
    train_psnr: List[Tensor] = []
    test_psnr: List[Tensor] = []
    started = time.monotonic()
    done = 0
    for i in range(steps):
        optimizer.zero_grad(set_to_none=True)
        _loss(model(train_inputs), train_targets, loss_scale).backward()
        optimizer.step()
        done = i + 1
        if i % record_every == 0:
            record_steps.append(done)
            train_psnr.append(_evaluate(model, train_inputs, train_targets, eval_chunk).cpu())
            test_psnr.append(_evaluate(model, test_inputs, test_targets, eval_chunk).cpu())
            if deadline is not None and time.monotonic() > deadline and done < steps:
                break
    final = _evaluate(model, test_inputs, test_targets, eval_chunk).cpu()
    empty = torch.empty(members, 0, dtype=torch.float64)
    return StackedFitResult(
        record_steps=record_steps,
        train_psnr=torch.stack(train_psnr, dim=1) if train_psnr else empty,
        test_psnr=torch.stack(test_psnr, dim=1) if test_psnr else empty,
        final_test_psnr=final,
        steps_done=done,
        completed=done == steps,
        seconds=time.monotonic() - started,
    )


__all__ = ["StackedFitResult", "fit_stacked"]
