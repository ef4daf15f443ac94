"""Which implementation runs an op on a device: ``"cuda"``, ``"cpu"`` or ``"reference"``.

The choice is automatic (compiled kernels where they exist for the device, the
pure-PyTorch reference otherwise) unless forced with ``COORDNET_BACKEND`` or
:func:`set_backend`:

* ``"auto"``      compiled kernels when available (default);
* ``"reference"`` always the pure-PyTorch reference (tests, benchmarks, debugging);
* ``"compiled"``  compiled kernels, and an error where there are none.
"""

from __future__ import annotations

import os
import warnings
from typing import Optional, SupportsInt, Union, cast

import torch

from coordnet.ops import _extension
from coordnet.ops.devices import device_type
from coordnet.ops.limits import (
    FOURIER_CUDA_MAX_DIMS,
    HASHGRID_CUDA_MAX_LEVELS,
    HASHGRID_MAX_DIMS,
)

MODES = ("auto", "reference", "compiled")
ENV_VAR = "COORDNET_BACKEND"

#: Whether this release's CUDA kernels have been run against their references on a GPU (a
#: measured run recorded in the docs' GPU section). Set it, and so drop the warning below, in the
#: change that records a passing run.
CUDA_KERNELS_VERIFIED = False


class UnverifiedKernelWarning(UserWarning):
    """The compiled CUDA kernels of this release have not yet been verified on a GPU."""


_warned_unverified = False


def _warn_once_unverified_cuda() -> None:
    """``backend="auto"`` chose the CUDA kernels: say once per process that they are unverified."""
    global _warned_unverified
    if CUDA_KERNELS_VERIFIED or _warned_unverified:
        return
    _warned_unverified = True
    warnings.warn(
        "coordnet's CUDA kernels have not yet been verified on a GPU for this release. Run "
        "`coordnet doctor --verify` once to compare them with the pure-PyTorch reference on your "
        "GPU, or set COORDNET_BACKEND=reference to use the reference only.",
        UnverifiedKernelWarning,
        stacklevel=4,
    )


def _validated(mode: str, source: str) -> str:
    mode = mode.strip().lower()
    if mode not in MODES:
        raise ValueError(f"{source} must be one of {', '.join(MODES)}; got {mode!r}")
    return mode


_mode: str = _validated(os.environ.get(ENV_VAR, "auto") or "auto", ENV_VAR)


def set_backend(mode: str) -> None:
    """Force the backend for all devices: ``"auto"``, ``"reference"`` or ``"compiled"``."""
    global _mode
    _mode = _validated(str(mode), "set_backend(mode)")


def get_backend_mode() -> str:
    """The mode set by :func:`set_backend` or ``COORDNET_BACKEND`` (default ``"auto"``)."""
    return _mode


def backend(device: Optional[Union[str, torch.device]] = None) -> str:
    """Implementation used for tensors on ``device`` (default CPU).

    Returns ``"cuda"`` or ``"cpu"`` for the compiled kernels, ``"reference"`` for pure PyTorch.
    Raises ``RuntimeError`` in ``"compiled"`` mode when no kernel exists for the device.
    """
    kind = device_type(device if device is not None else "cpu", "backend(device)")
    if _mode == "reference":
        return "reference"
    compiled = None
    if _extension.available():
        if kind == "cpu":
            compiled = "cpu"
        elif kind == "cuda" and _extension.has_cuda_kernels():
            compiled = "cuda"
    if compiled is None:
        if _mode == "compiled":
            reason = _extension.load_error or f"the extension has no kernels for {kind!r} devices"
            raise RuntimeError(
                f"COORDNET_BACKEND=compiled but no compiled kernel for {kind!r}: {reason}"
            )
        if kind == "cpu" or (kind == "cuda" and not _extension.available()):
            _extension.warn_once_if_missing()
        return "reference"
    if compiled == "cuda" and _mode == "auto":
        _warn_once_unverified_cuda()
    return compiled


# The kernels' fixed limits (FOURIER_CUDA_MAX_DIMS, HASHGRID_MAX_DIMS, HASHGRID_CUDA_MAX_LEVELS)
# come from coordnet.ops.limits, which the C++ sources read too. Shapes outside them run on the
# pure-PyTorch reference instead.
FLOAT_DTYPES = (torch.float32, torch.float64)

OPS = ("fourier_features", "hashgrid", "pack_signs_relu_", "hash_patterns", "unique_patterns")
_SHAPE_KEYS = {
    "fourier_features": {"d", "dtype"},
    "hashgrid": {"d", "levels", "dtype", "param_dtype"},
    "pack_signs_relu_": {"dtype"},
    "hash_patterns": set(),
    "unique_patterns": set(),
}


def _as_int(value: object) -> int:
    return int(cast(SupportsInt, value))


def supports(op: str, device: Union[str, torch.device], **shape: object) -> bool:
    """Whether the compiled kernel of ``op`` for ``device``'s type accepts a problem of this shape.

    Says nothing about whether the extension is built (see :func:`backend`); only whether the
    kernel's fixed limits admit the problem, so it answers the same on machines with and without
    a GPU.

    Args:
        op: one of :data:`OPS`.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or a ``torch.device``.
        **shape: what the limits depend on; missing keys are not checked.
            ``fourier_features``: ``d`` (columns of ``x``), ``dtype``.
            ``hashgrid``: ``d``, ``levels`` (number of levels), ``dtype`` (of ``x``),
            ``param_dtype`` (of the table: ``x``'s dtype, or float16 with float32 ``x`` on CUDA).
            ``pack_signs_relu_``: ``dtype`` (of the pre-activations).

    Raises:
        ValueError: unknown ``op``. TypeError: a shape key ``op`` does not take.
    """
    if op not in _SHAPE_KEYS:
        raise ValueError(f"supports: op must be one of {', '.join(OPS)}; got {op!r}")
    unknown = set(shape) - _SHAPE_KEYS[op]
    if unknown:
        raise TypeError(f"supports({op!r}): unknown shape argument(s) {', '.join(sorted(unknown))}")
    kind = device_type(device, f"supports({op!r}, device)")
    if kind not in ("cpu", "cuda"):
        return False
    cuda = kind == "cuda"
    dtype = shape.get("dtype")
    if dtype is not None and dtype not in FLOAT_DTYPES:
        return False
    d = shape.get("d")
    if op == "fourier_features":
        return d is None or not cuda or _as_int(d) <= FOURIER_CUDA_MAX_DIMS
    if op == "hashgrid":
        if d is not None and not 1 <= _as_int(d) <= HASHGRID_MAX_DIMS:
            return False
        levels = shape.get("levels")
        if cuda and levels is not None and _as_int(levels) > HASHGRID_CUDA_MAX_LEVELS:
            return False
        param_dtype = shape.get("param_dtype")
        if (
            param_dtype is None
            or param_dtype == dtype
            or dtype is None
            and param_dtype in FLOAT_DTYPES
        ):
            return True
        # Half-precision tables: read as half and accumulated in float32 by the CUDA kernels only.
        return cuda and param_dtype == torch.float16 and dtype in (None, torch.float32)
    if op == "unique_patterns":
        return not cuda  # CUDA dedupes hash_patterns' hashes with torch ops (coordnet.ops.regions)
    return True


def route(op: str, device: Union[str, torch.device], **shape: object) -> str:
    """Implementation that runs ``op`` on ``device`` for this shape: :func:`backend`'s answer when
    its kernel :func:`supports` the shape, else ``"reference"`` (never a kernel that would raise).
    ``ValueError`` naming ``device`` when torch does not know it."""
    device_type(device, f"route({op!r}, device)")
    which = backend(device)
    if which != "reference" and not supports(op, device, **shape):
        return "reference"
    return which
