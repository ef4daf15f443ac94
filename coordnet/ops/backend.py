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
from typing import Optional, Union

import torch

from coordnet.ops import _extension

MODES = ("auto", "reference", "compiled")
ENV_VAR = "COORDNET_BACKEND"


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
    device_type = torch.device(device if device is not None else "cpu").type
    if _mode == "reference":
        return "reference"
    compiled = None
    if _extension.available():
        if device_type == "cpu":
            compiled = "cpu"
        elif device_type == "cuda" and _extension.has_cuda_kernels():
            compiled = "cuda"
    if compiled is None:
        if _mode == "compiled":
            reason = _extension.load_error or f"the extension has no kernels for {device_type!r} devices"
            raise RuntimeError(f"COORDNET_BACKEND=compiled but no compiled kernel for {device_type!r}: {reason}")
        if device_type == "cpu" or (device_type == "cuda" and not _extension.available()):
            _extension.warn_once_if_missing()
        return "reference"
    return compiled
