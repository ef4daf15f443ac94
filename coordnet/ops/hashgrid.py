"""Multiresolution grid encoding (instant-NGP's hash grid) behind the backend switch.

:func:`hashgrid_encode` is the public entry point; it runs the compiled CPU or CUDA kernel or
the pure-PyTorch reference (:mod:`coordnet.ops.hashgrid_reference`, which also holds the level
geometry) as :func:`coordnet.ops.backend` says. The compiled op gets its fake kernel (for
``torch.compile``) and autograd formula here: first derivatives with respect to the table and
the positions come from the backward kernel; second derivatives (``create_graph=True``, e.g.
an eikonal loss on normals) recompute the level through the differentiable reference.
"""

from __future__ import annotations

import torch
from torch import Tensor

from coordnet.ops import _extension, fake_checks
from coordnet.ops.backend import route
from coordnet.ops.hashgrid_reference import INTERPOLATIONS, GridLevels, hashgrid_reference

INTERPOLATION_CODES = {name: code for code, name in enumerate(INTERPOLATIONS)}


def _register_compiled() -> None:
    """Fake kernels and autograd formula of ``torch.ops.coordnet.hashgrid_*``."""

    @torch.library.register_fake("coordnet::hashgrid_forward")
    def _fake_forward(x, table, scales, levels, interpolation, shift, ceil_corner):
        fake_checks.hashgrid_inputs(x, table, scales, levels, interpolation)
        return x.new_empty((x.shape[0], len(scales) * table.shape[1]))

    @torch.library.register_fake("coordnet::hashgrid_backward")
    def _fake_backward(
        grad_out, x, table, scales, levels, interpolation, shift, ceil_corner, need_x, need_table
    ):
        fake_checks.hashgrid_inputs(x, table, scales, levels, interpolation)
        fake_checks.grad_output("hashgrid_backward", grad_out, x, len(scales) * table.shape[1])
        return (
            x.new_empty((x.shape[0] if need_x else 0, x.shape[1])),
            table.new_empty((table.shape[0] if need_table else 0, table.shape[1])),
        )

    def setup_context(ctx, inputs, output):
        x, table, scales, levels, interpolation, shift, ceil_corner = inputs
        ctx.save_for_backward(x, table)
        ctx.args = (list(scales), list(levels), interpolation, shift, ceil_corner)

    def backward(ctx, grad_out):
        x, table = ctx.saved_tensors
        need_x, need_table = ctx.needs_input_grad[:2]
        scales, levels, interpolation, shift, ceil_corner = ctx.args
        grad_x = grad_table = None
        if torch.is_grad_enabled():
            # Higher-order derivatives requested: differentiate the reference instead.
            geometry = GridLevels.from_flat(
                x.shape[1], table.shape[1], scales, levels, shift, ceil_corner
            )
            wanted = [t for t, need in ((x, need_x), (table, need_table)) if need]
            out = hashgrid_reference(x, table.to(x.dtype), geometry, INTERPOLATIONS[interpolation])
            grads = list(
                torch.autograd.grad(out, wanted, grad_out, create_graph=True, allow_unused=True)
            )
            grads = [torch.zeros_like(t) if g is None else g for t, g in zip(wanted, grads)]
            if need_x:
                grad_x = grads.pop(0)
            if need_table:
                grad_table = grads.pop(0)
        elif need_x or need_table:
            grad_x, grad_table = torch.ops.coordnet.hashgrid_backward(
                grad_out.contiguous(),
                x,
                table,
                scales,
                levels,
                interpolation,
                shift,
                ceil_corner,
                need_x,
                need_table,
            )
        return (
            grad_x if need_x else None,
            grad_table if need_table else None,
            None,
            None,
            None,
            None,
            None,
        )

    torch.library.register_autograd(
        "coordnet::hashgrid_forward", backward, setup_context=setup_context
    )


if _extension.available():
    _register_compiled()


def _validate(x: Tensor, table: Tensor, levels: GridLevels, interpolation: str) -> None:
    if not isinstance(x, Tensor) or not isinstance(table, Tensor):
        raise TypeError("hashgrid_encode: x and table must be tensors")
    if not isinstance(levels, GridLevels):
        raise TypeError(
            f"hashgrid_encode: levels must be a GridLevels, got {type(levels).__name__}"
        )
    if x.dtype not in (torch.float32, torch.float64):
        raise TypeError(f"hashgrid_encode: x must be float32 or float64, got dtype {x.dtype}")
    if table.dtype != x.dtype and not (table.dtype == torch.float16 and x.dtype == torch.float32):
        raise TypeError(
            f"hashgrid_encode: table has dtype {table.dtype} but x has {x.dtype} "
            "(the table must have x's dtype, or float16 with float32 x)"
        )
    if table.device != x.device:
        raise ValueError(f"hashgrid_encode: table is on {table.device} but x on {x.device}")
    if x.dim() < 1 or x.shape[-1] != levels.in_dim:
        raise ValueError(
            f"hashgrid_encode: x must have shape (..., {levels.in_dim}), got {tuple(x.shape)}"
        )
    shape = (levels.num_entries, levels.num_features_per_level)
    if tuple(table.shape) != shape:
        raise ValueError(
            f"hashgrid_encode: table must have shape {shape}, got {tuple(table.shape)}"
        )
    if interpolation not in INTERPOLATIONS:
        raise ValueError(
            f"hashgrid_encode: interpolation must be one of {INTERPOLATIONS}, got {interpolation!r}"
        )


def hashgrid_encode(
    x: Tensor, table: Tensor, levels: GridLevels, interpolation: str = "linear"
) -> Tensor:
    """Features of a multiresolution grid at ``x``.

    Args:
        x: ``(..., d)`` positions, float32 or float64.
        table: ``(levels.num_entries, F)`` feature table on ``x``'s device, with ``x``'s dtype or
            float16 with float32 ``x`` (tiny-cuda-nn's half-precision parameters: the CUDA kernels
            read half values and accumulate in float32; other paths upcast the table first).
        levels: the grid's geometry (:func:`~coordnet.ops.hashgrid_reference.tcnn_levels`,
            :func:`~coordnet.ops.hashgrid_reference.nerfstudio_levels`).
        interpolation: ``"nearest"``, ``"linear"`` or ``"smoothstep"``.

    Returns:
        ``(..., L·F)`` features in ``x``'s dtype, level-major. Differentiable with respect to
        ``table`` (gradient in the table's dtype) and ``x`` (zero for nearest interpolation).
    """
    _validate(x, table, levels, interpolation)
    batch_shape = x.shape[:-1]
    rows = x.reshape(-1, x.shape[-1])
    shape = {"d": levels.in_dim, "levels": len(levels.scales), "dtype": x.dtype}
    which = route("hashgrid", x.device, param_dtype=table.dtype, **shape)
    if table.dtype != x.dtype and which != "cuda":
        table = table.to(x.dtype)  # differentiable: the gradient comes back in the table's dtype
        which = route("hashgrid", x.device, param_dtype=x.dtype, **shape)
    if which == "reference":
        out = hashgrid_reference(rows, table, levels, interpolation)
    else:
        out = torch.ops.coordnet.hashgrid_forward(
            rows.contiguous(),
            table.contiguous(),
            list(levels.scales),
            levels.flat_levels(),
            INTERPOLATION_CODES[interpolation],
            levels.shift,
            levels.ceil_corner,
        )
    return out.reshape(*batch_shape, out.shape[-1])
