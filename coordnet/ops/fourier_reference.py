"""Pure-PyTorch reference of the fused Fourier-feature op: the oracle of the kernels.

Notation (shared with ``csrc/include/coordnet/fourier.h``): for rows ``x`` of shape
``(N, d)`` and a frequency matrix ``B`` of shape ``(M, d)`` the phases are
``z = factor * x @ B.T`` (radians, ``(N, M)``). Like the kernels, the reference measures them
in turns, ``t = (factor / 2π) * x @ B.T``, and reduces them exactly, ``r = t - rint(t)``,
before ``sin(2π r)``, ``cos(2π r)``: large phases lose no accuracy to a rounded 2π, and the
result does not depend on which path (kernel or reference) a batch size selects beyond one
float rounding. Each row of the output holds
``a * sin(z)`` and ``a * cos(z)`` in groups: group ``k`` is
``[sin z[kg:(k+1)g], cos z[kg:(k+1)g]]`` for ``g = group``. ``group = M`` is the
``[sin block, cos block]`` layout, ``group = 1`` interleaves sin and cos.
``input_mode`` 1 puts ``x`` itself before the features, 2 after them.
"""

from __future__ import annotations

import functools
import math
from typing import Optional, Tuple

import torch
from torch import Tensor

from coordnet.ops.limits import FOURIER_INPUT_FIRST as INPUT_FIRST
from coordnet.ops.limits import FOURIER_INPUT_LAST as INPUT_LAST
from coordnet.ops.limits import FOURIER_INPUT_NONE as INPUT_NONE


@functools.lru_cache(maxsize=None)
def _zero(dtype: torch.dtype, device: torch.device) -> Tensor:
    return torch.zeros((), dtype=dtype, device=device)


def _phases(x: Tensor, B: Tensor, factor: float) -> Tensor:
    """The phases ``factor * x @ B.T`` (N, M) in radians, reduced to ``[-π, π]`` through turns:
    ``2π (t - rint(t))`` with ``t = (factor / 2π) x @ B.T`` (one fused ``addmm``; ``beta = 0``
    ignores its input). ``rint`` has zero derivative, so every derivative is that of ``z``."""
    turns = torch.addmm(_zero(x.dtype, x.device), x, B.t(), beta=0, alpha=factor / (2 * math.pi))
    return (turns - torch.round(turns).detach()) * (2 * math.pi)


def _interleave(sin: Tensor, cos: Tensor, group: int) -> Tensor:
    """(N, M) sin and cos -> (N, 2M) in the grouped layout."""
    n, m = sin.shape
    if group == m:
        return torch.cat((sin, cos), dim=-1)
    return torch.stack(
        (sin.reshape(n, m // group, group), cos.reshape(n, m // group, group)), dim=2
    ).reshape(n, 2 * m)


def _split(features: Tensor, m: int, group: int) -> Tuple[Tensor, Tensor]:
    """(N, 2M) grouped layout -> (N, M) sin part and cos part."""
    n = features.shape[0]
    grouped = features.reshape(n, m // group, 2, group)
    return grouped[:, :, 0, :].reshape(n, m), grouped[:, :, 1, :].reshape(n, m)


def _with_input(features: Tensor, x: Tensor, input_mode: int) -> Tensor:
    if input_mode == INPUT_FIRST:
        return torch.cat((x, features), dim=-1)
    if input_mode == INPUT_LAST:
        return torch.cat((features, x), dim=-1)
    return features


def fourier_features_reference(
    x: Tensor,
    B: Tensor,
    amplitude: Optional[Tensor] = None,
    factor: float = 2 * torch.pi,
    group: Optional[int] = None,
    input_mode: int = INPUT_NONE,
) -> Tensor:
    """Fourier features of ``x`` (N, d) for ``B`` (M, d) -> (N, 2M [+ d]), differentiable to any order."""
    m = B.shape[0]
    phases = _phases(x, B, factor)
    sin, cos = torch.sin(phases), torch.cos(phases)
    if amplitude is not None:
        sin, cos = sin * amplitude, cos * amplitude
    return _with_input(_interleave(sin, cos, group or max(m, 1)), x, input_mode)


def fourier_features_backward_reference(
    grad_out: Tensor,
    x: Tensor,
    B: Tensor,
    amplitude: Optional[Tensor] = None,
    factor: float = 2 * torch.pi,
    group: Optional[int] = None,
    input_mode: int = INPUT_NONE,
) -> Tuple[Tensor, Tensor, Optional[Tensor]]:
    """Gradients (x (N, d), B (M, d), amplitude (M,) or None) for ``grad_out`` shaped like the output.

    Written with differentiable torch ops, so it also yields second derivatives.
    """
    n, d = x.shape
    m = B.shape[0]
    if input_mode == INPUT_FIRST:
        grad_input, grad_features = grad_out[:, :d], grad_out[:, d:]
    elif input_mode == INPUT_LAST:
        grad_input, grad_features = grad_out[:, 2 * m :], grad_out[:, : 2 * m]
    else:
        grad_input, grad_features = None, grad_out
    grad_sin, grad_cos = _split(grad_features, m, group or max(m, 1))
    phases = _phases(x, B, factor)
    sin, cos = torch.sin(phases), torch.cos(phases)
    grad_amplitude = None
    if amplitude is not None:
        grad_amplitude = (grad_sin * sin + grad_cos * cos).sum(0)
        grad_sin, grad_cos = grad_sin * amplitude, grad_cos * amplitude
    grad_phase = (grad_sin * cos - grad_cos * sin) * factor  # (N, M)
    grad_x = grad_phase @ B
    if grad_input is not None:
        grad_x = grad_x + grad_input
    grad_B = grad_phase.transpose(0, 1) @ x
    return grad_x, grad_B, grad_amplitude
