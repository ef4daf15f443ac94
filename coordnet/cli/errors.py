"""One-line errors with a non-zero exit; tracebacks only with ``--debug``."""
from __future__ import annotations

import functools
import sys
from typing import Callable

import click

EXPECTED = (ValueError, TypeError, OSError, RuntimeError, KeyError)


def friendly_errors(command: Callable) -> Callable:
    """Wrap a click command: expected errors print ``error: <message>`` and exit with status 1."""

    @functools.wraps(command)
    def wrapper(*args, debug: bool = False, **kwargs):
        try:
            return command(*args, **kwargs)
        except KeyboardInterrupt:
            click.echo("interrupted; the last checkpoint is intact (rerun with --resume to continue)", err=True)
            sys.exit(130)
        except EXPECTED as error:
            if debug:
                raise
            message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            click.echo(f"error: {message}", err=True)
            sys.exit(1)

    return click.option("--debug", is_flag=True, help="Show tracebacks.")(wrapper)
