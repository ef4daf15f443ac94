"""``coordnet doctor``: what coordnet will run on, and why."""

from __future__ import annotations

import importlib.metadata
import platform
from typing import Dict, List, Optional, cast

import click
import torch

import coordnet
from coordnet import ops


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def tinycudann_status() -> str:
    """Whether tiny-cuda-nn imports (it raises EnvironmentError, not only ImportError, without CUDA)."""
    try:
        import tinycudann  # noqa: F401
    except (ImportError, OSError, EnvironmentError) as error:
        return f"unavailable ({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''})"
    except Exception as error:  # a broken install can raise anything at import
        return f"unavailable ({type(error).__name__}: {error})"
    return f"available ({_version('tinycudann')})"


def diagnostics() -> Dict[str, object]:
    """Everything ``coordnet doctor`` prints, as a dict."""
    devices: List[str] = ["cpu"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    backends = {}
    for device in devices:
        try:
            backends[device] = ops.backend(device)
        except (RuntimeError, ValueError) as error:
            backends[device] = f"error: {str(error).splitlines()[0]}"
    try:
        mode = ops.get_backend_mode()
    except ValueError as error:  # a bad COORDNET_BACKEND
        mode = f"error: {str(error).splitlines()[0]}"
    return {
        "coordnet": coordnet.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch": torch.__version__,
        "numpy": _version("numpy"),
        "torch threads": torch.get_num_threads(),
        "backend mode": mode,
        "compiled extension": "loaded"
        if ops.extension_available()
        else f"not loaded ({ops.extension_load_error})",
        "extension CUDA kernels": "yes" if ops.has_cuda_kernels() else "no",
        "torch CUDA build": torch.version.cuda or "no (CPU build)",
        "CUDA devices": ", ".join(
            torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())
        )
        or "none",
        "CPU capability": torch.backends.cpu.get_cpu_capability(),
        "tiny-cuda-nn": tinycudann_status(),
        "backends": backends,
    }


def problems(diagnostics_: Dict[str, object]) -> List[str]:
    """The ``key: error: ...`` lines of :func:`diagnostics` (a bad setting, a failing backend)."""
    found = [
        f"{key}: {value}"
        for key, value in diagnostics_.items()
        if isinstance(value, str) and value.startswith("error: ")
    ]
    backends = cast(Dict[str, str], diagnostics_.get("backends") or {})
    found += [
        f"backend on {device}: {name}"
        for device, name in backends.items()
        if str(name).startswith("error: ")
    ]
    return found


def report(found: Optional[Dict[str, object]] = None) -> str:
    """Human-readable diagnostics (``found``, default :func:`diagnostics`), one ``key: value`` per line."""
    lines = []
    for key, value in (diagnostics() if found is None else found).items():
        if isinstance(value, dict):
            lines += [f"backend on {device}: {name}" for device, name in value.items()]
        else:
            lines.append(f"{key}: {value}")
    return "\n".join(lines)


def run_doctor(verify: bool = False) -> int:
    """``coordnet doctor [--verify]``: print the diagnostics (and with ``verify`` one line per
    compiled op and device, :mod:`coordnet.ops.verify`); the exit status: 1 on a bad setting, a
    failing backend or a kernel that differs from its reference, else 0."""
    found = diagnostics()
    click.echo(report(found))
    bad = problems(found)
    if verify:
        from coordnet.ops.verify import verify as verify_kernels

        checks = verify_kernels()
        for check in checks:
            click.echo(check.line())
        bad += [check.line() for check in checks if check.failed]
    if bad:  # reported above, and the exit status says so
        click.echo(f"error: {bad[0]}", err=True)
        return 1
    return 0
