"""The ``--device`` option shared by the commands: parsed and checked before any work starts."""

from __future__ import annotations

from typing import Optional

import click


def device_problem(device: str) -> Optional[str]:
    """Why torch cannot use ``device`` here (e.g. ``"'cuda' ... CUDA is not available ..."``), or None."""
    import torch

    try:
        parsed = torch.device(device)
    except RuntimeError:
        return f"{device!r} is not a device: use cpu, cuda or cuda:N"
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            return f"{device!r}: CUDA is not available to this torch ({torch.__version__})"
        if parsed.index is not None and parsed.index >= torch.cuda.device_count():
            return f"{device!r}: this machine has {torch.cuda.device_count()} CUDA device(s)"
    elif parsed.type != "cpu":
        return f"{device!r}: coordnet runs on cpu or cuda[:N]"
    return None


def check_device(device: str) -> str:
    """``device`` if torch can use it here, else a ``ValueError`` naming it and the reason."""
    problem = device_problem(device)
    if problem is not None:
        raise ValueError(f"--device {problem}")
    return device


def _validate(ctx: click.Context, param: click.Parameter, value: Optional[str]) -> Optional[str]:
    problem = None if value is None else device_problem(value)
    if problem is not None:
        raise click.BadParameter(problem, ctx=ctx, param=param)
    return value


def device_option():
    """``--device`` (default cpu), validated when the command line is parsed."""
    return click.option(
        "--device", default="cpu", show_default=True, callback=_validate, help="cpu or cuda[:N]."
    )
