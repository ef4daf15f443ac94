"""Fused Fourier features: ``[a sin(factor x Bᵀ), a cos(factor x Bᵀ)]`` in one pass.

:func:`fourier_features` is the public entry point; it picks the compiled CPU or
CUDA kernel or the pure-PyTorch reference (:mod:`coordnet.ops.fourier_reference`)
through :func:`coordnet.ops.backend`. The compiled op gets its fake kernel (for
``torch.compile``) and autograd formula here. Second derivatives (eikonal losses,
normals) go through the reference formula of the backward, which is
differentiable; first derivatives use the fused backward kernel.
"""

from __future__ import annotations

import math
from typing import Optional

import torch
from torch import Tensor

from coordnet.ops import _extension, fake_checks
from coordnet.ops.backend import route
from coordnet.ops.fourier_reference import (
    fourier_features_backward_reference,
    fourier_features_reference,
)
from coordnet.ops.limits import FOURIER_INPUT_FIRST as INPUT_FIRST
from coordnet.ops.limits import FOURIER_INPUT_LAST as INPUT_LAST
from coordnet.ops.limits import FOURIER_INPUT_NONE as INPUT_NONE

INPUT_MODES = {None: INPUT_NONE, "none": INPUT_NONE, "first": INPUT_FIRST, "last": INPUT_LAST}

# Below this many (row, frequency) pairs the op's fixed overhead outweighs the fused
# kernel's savings and the reference is used (see scripts/bench_encoders.py). Both reduce the
# phases in turns, so the result does not depend on the batch size beyond float rounding.
SMALL_PROBLEM_PAIRS = 2048

# float32 phases (in turns) at or beyond this bound may overflow to inf (whose sine is NaN): such
# problems are computed in float64, where every finite float32 input gives a finite phase.
FLOAT32_PHASE_BOUND = 2.0**126


def _register_compiled() -> None:
    """Fake kernels and autograd formula of ``torch.ops.coordnet.fourier_features*``."""

    @torch.library.register_fake("coordnet::fourier_features")
    def _fake_forward(x, B, amplitude, factor, group, input_mode):
        fake_checks.fourier_inputs(x, B, amplitude, group, input_mode)
        columns = 2 * B.shape[0] + (x.shape[1] if input_mode != INPUT_NONE else 0)
        return x.new_empty((x.shape[0], columns))

    @torch.library.register_fake("coordnet::fourier_features_backward")
    def _fake_backward(
        grad_out, x, B, amplitude, factor, group, input_mode, need_grad_x, need_grad_B
    ):
        fake_checks.fourier_inputs(x, B, amplitude, group, input_mode)
        fake_checks.grad_output(
            "fourier_features_backward",
            grad_out,
            x,
            2 * B.shape[0] + (x.shape[1] if input_mode != INPUT_NONE else 0),
        )
        return (
            x.new_empty((x.shape[0] if need_grad_x else 0, x.shape[1])),
            B.new_empty((B.shape[0] if need_grad_B else 0, B.shape[1])),
        )

    def setup_context(ctx, inputs, output):
        x, B, amplitude, factor, group, input_mode = inputs
        ctx.save_for_backward(x, B, amplitude)
        ctx.factor, ctx.group, ctx.input_mode = factor, group, input_mode

    def backward(ctx, grad_out):
        x, B, amplitude = ctx.saved_tensors
        need_x, need_B, need_amplitude = ctx.needs_input_grad[:3]
        grad_x = grad_B = grad_amplitude = None
        if torch.is_grad_enabled() or need_amplitude:
            # Higher-order derivatives requested (create_graph=True), or a trainable
            # amplitude: use the differentiable formula.
            grad_x, grad_B, grad_amplitude = fourier_features_backward_reference(
                grad_out, x, B, amplitude, ctx.factor, ctx.group, ctx.input_mode
            )
        else:
            grad_x, grad_B = torch.ops.coordnet.fourier_features_backward(
                grad_out.contiguous(),
                x,
                B,
                amplitude,
                ctx.factor,
                ctx.group,
                ctx.input_mode,
                need_x,
                need_B,
            )
        return (
            grad_x if need_x else None,
            grad_B if need_B else None,
            grad_amplitude if need_amplitude else None,
            None,
            None,
            None,
        )

    torch.library.register_autograd(
        "coordnet::fourier_features", backward, setup_context=setup_context
    )


if _extension.available():
    _register_compiled()


def _validate(x: Tensor, B: Tensor, amplitude: Optional[Tensor], factor: float, group: int) -> None:
    if not isinstance(x, Tensor) or not isinstance(B, Tensor):
        raise TypeError("fourier_features: x and B must be tensors")
    if x.dtype not in (torch.float32, torch.float64):
        raise TypeError(f"fourier_features: x must be float32 or float64, got dtype {x.dtype}")
    if B.dtype != x.dtype:
        raise TypeError(f"fourier_features: B has dtype {B.dtype} but x has {x.dtype}")
    if B.device != x.device:
        raise ValueError(f"fourier_features: B is on {B.device} but x on {x.device}")
    if B.dim() != 2:
        raise ValueError(f"fourier_features: B must have shape (M, d), got {tuple(B.shape)}")
    if x.dim() < 1 or x.shape[-1] != B.shape[1]:
        raise ValueError(
            f"fourier_features: x must have shape (..., {B.shape[1]}), got {tuple(x.shape)}"
        )
    if group < 1 or B.shape[0] % group != 0:
        raise ValueError(
            f"fourier_features: group={group} must be positive and divide M={B.shape[0]}"
        )
    if amplitude is not None and (
        amplitude.shape != (B.shape[0],)
        or amplitude.dtype != x.dtype
        or amplitude.device != x.device
    ):
        raise ValueError(
            f"fourier_features: amplitude must be a {x.dtype} tensor of shape ({B.shape[0]},) on "
            f"{x.device}, got {amplitude.dtype} {tuple(amplitude.shape)} on {amplitude.device}"
        )
    if isinstance(factor, bool) or not isinstance(factor, (int, float)):
        raise TypeError(f"fourier_features: factor must be a real number, got {factor!r}")
    if not math.isfinite(factor):
        raise ValueError(f"fourier_features: factor must be finite, got {factor!r}")


def _values_unreadable() -> bool:
    """Whether tensor values cannot be read here: under tracing (``torch.compile``) or inside a
    functorch transform (``vmap``, ``jacrev``, ...), where ``.item()`` is not allowed."""
    return torch.compiler.is_compiling() or torch._C._are_functorch_transforms_active()


def float32_phase_may_overflow(x: Tensor, multiplier: float) -> bool:
    """Whether ``multiplier · max |x|`` (a bound on a phase computed from float32 ``x``) might
    reach :data:`FLOAT32_PHASE_BOUND`, so that the phase overflows to inf and its sine is NaN.
    ``False`` for other dtypes, empty or ``meta`` tensors, under tracing (``torch.compile``), and
    for NaN inputs (whose features are NaN anyway), and inside ``vmap`` and the other functorch
    transforms. Reads ``x``'s range in one pass (a device synchronisation on CUDA)."""
    if _values_unreadable():  # no values to read, no data-dependent branch
        return False
    if x.dtype != torch.float32 or x.numel() == 0 or x.device.type == "meta" or multiplier == 0:
        return False
    with torch.no_grad():
        low, high = x.detach().aminmax()  # one pass, no |x| temporary
    return max(-float(low), float(high)) * abs(multiplier) >= FLOAT32_PHASE_BOUND


def _float32_phases_may_overflow(x: Tensor, B: Tensor, factor: float) -> bool:
    """:func:`float32_phase_may_overflow` for the phases ``(factor / 2π) <x, B_m>`` (in turns):
    the multiplier is the largest row sum of ``|B|`` times ``|factor| / 2π``."""
    if _values_unreadable() or x.dtype != torch.float32:
        return False
    if B.numel() == 0 or x.device.type == "meta":
        return False
    largest_row = float(B.detach().abs().double().sum(dim=1).amax())
    return float32_phase_may_overflow(x, largest_row * abs(factor) / (2 * math.pi))


def fourier_features(
    x: Tensor,
    B: Tensor,
    amplitude: Optional[Tensor] = None,
    *,
    factor: float = 2 * math.pi,
    group: Optional[int] = None,
    include_input: Optional[str] = None,
) -> Tensor:
    """Fourier features ``a ⊙ sin(factor · x Bᵀ)`` and ``a ⊙ cos(factor · x Bᵀ)``.

    Args:
        x: ``(..., d)`` coordinates, float32 or float64.
        B: ``(M, d)`` frequency matrix (same dtype and device as ``x``).
        amplitude: optional ``(M,)`` per-frequency weight ``a`` (same dtype and device).
        factor: phase factor between ``x Bᵀ`` and the phase in radians (2π: Tancik/nerfstudio,
            π: tiny-cuda-nn/mip-NeRF, 1: nerf-pytorch); finite.
        group: output layout; each row is ``M/group`` groups of ``[sin of g phases, cos of the
            same g phases]``. ``None`` (= M): ``[sin block, cos block]``; 1: sin/cos interleaved.
        include_input: ``None``, ``"first"`` or ``"last"``: copy ``x`` before or after the features.

    Returns:
        ``(..., 2M)``, or ``(..., 2M + d)`` with ``include_input``, in ``x``'s dtype. Finite inputs
        give finite features: float32 problems whose phases could overflow float32 (``|x|`` near
        ``3.4e38``) are computed in float64 and rounded back (outside ``torch.compile``). NaN or
        infinite inputs give NaN features (as ``torch.sin`` does).

    Raises:
        TypeError: non-tensor or non-float inputs, mismatched dtypes, a non-real ``factor``.
        ValueError: mismatched shapes or devices, a bad ``group`` or ``include_input``, a NaN or
            infinite ``factor``.
    """
    m = B.shape[0] if isinstance(B, Tensor) and B.dim() == 2 else 0
    group = m if group is None else int(group)
    if group == 0 and m == 0:
        group = 1
    _validate(x, B, amplitude, factor, group)
    if include_input not in INPUT_MODES:
        raise ValueError(
            f"fourier_features: include_input must be None, 'first' or 'last', got {include_input!r}"
        )
    if _float32_phases_may_overflow(x, B, factor):
        wide = None if amplitude is None else amplitude.double()
        out = fourier_features(
            x.double(), B.double(), wide, factor=factor, group=group, include_input=include_input
        )
        return out.float()
    batch_shape = x.shape[:-1]
    rows = x if x.dim() == 2 else x.reshape(-1, x.shape[-1])
    input_mode = INPUT_MODES[include_input]
    which = route("fourier_features", x.device, d=x.shape[-1], dtype=x.dtype)
    if which == "reference" or rows.shape[0] * m < SMALL_PROBLEM_PAIRS or m == 0:
        out = fourier_features_reference(rows, B, amplitude, factor, group, input_mode)
    else:
        out = torch.ops.coordnet.fourier_features(
            rows.contiguous(),
            B.contiguous(),
            None if amplitude is None else amplitude.contiguous(),
            float(factor),
            group,
            input_mode,
        )
    return out if x.dim() == 2 else out.reshape(*batch_shape, out.shape[-1])
