"""The ``--device`` option shared by the commands: parsed and checked before any work starts."""

from __future__ import annotations

from typing import Optional

import click


def device_problem(device: str) -> Optional[str]:
    """:func:`coordnet.ops.devices.device_problem`, imported when a device is checked (importing
    ``coordnet.ops`` loads torch and reads ``COORDNET_BACKEND``, whose errors the commands report)."""
    from coordnet.ops.devices import device_problem as problem_of

    return problem_of(device)


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
