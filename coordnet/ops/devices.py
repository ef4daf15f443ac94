"""Device arguments: parsed and checked once, with errors that name the device."""

from __future__ import annotations

from typing import Optional, Union

import torch

Device = Union[str, torch.device]


def _parse(device: object) -> Optional[torch.device]:
    if isinstance(device, torch.device):
        return device
    if not isinstance(device, str):
        return None
    try:
        return torch.device(device)
    except (RuntimeError, ValueError):
        return None


def device_type(device: Device, where: str = "device") -> str:
    """The type (``"cpu"``, ``"cuda"``, ...) of ``device``, whether or not this machine has one;
    ``ValueError`` naming ``device`` when torch does not know it (``"tpu"``, ``5``, ``None``)."""
    parsed = _parse(device)
    if parsed is None:
        raise ValueError(
            f"{where}: unknown device {device!r} (expected a name such as 'cpu', 'cuda' or 'cuda:0')"
        )
    return parsed.type


def device_problem(device: object) -> Optional[str]:
    """Why coordnet cannot run on ``device`` on this machine (an unknown name, no CUDA, a CUDA
    index past the devices present, a device type other than cpu and cuda), or ``None``."""
    parsed = _parse(device)
    if parsed is None:
        return f"{device!r} is not a device: use cpu, cuda or cuda:N"
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            return f"{device!r}: CUDA is not available to this torch ({torch.__version__})"
        if parsed.index is not None and parsed.index >= torch.cuda.device_count():
            return f"{device!r}: this machine has {torch.cuda.device_count()} CUDA device(s)"
    elif parsed.type != "cpu":
        return f"{device!r}: coordnet runs on cpu or cuda[:N]"
    return None


def check_device(device: Device, where: str = "device") -> torch.device:
    """``device`` as a ``torch.device`` if coordnet can run on it here, else a ``ValueError``
    naming it and the reason (prefixed by ``where``: the argument or option)."""
    problem = device_problem(device)
    if problem is not None:
        raise ValueError(f"{where} {problem}")
    return torch.device(device)
