"""One-line errors with a non-zero exit; tracebacks only with ``--debug``."""

from __future__ import annotations

import contextlib
import functools
import sys
from typing import Callable, Iterator

import click

EXPECTED = (ValueError, TypeError, OSError, RuntimeError, KeyError)


def one_line(error: BaseException) -> str:
    """The first line of ``error``'s message; a ``KeyError`` names the missing key."""
    text = str(error).strip()
    if isinstance(error, KeyError) and error.args:
        return f"missing entry {error.args[0]!r}"
    return text.splitlines()[0] if text else type(error).__name__


def friendly_errors(command: Callable) -> Callable:
    """Wrap a click command: expected errors print ``error: <message>`` and exit with status 1."""

    @functools.wraps(command)
    def wrapper(*args, debug: bool = False, **kwargs):
        try:
            return command(*args, **kwargs)
        except KeyboardInterrupt:
            click.echo(
                "interrupted; the last checkpoint is intact (rerun with --resume to continue)",
                err=True,
            )
            sys.exit(130)
        except EXPECTED as error:
            if debug:
                raise
            click.echo(f"error: {one_line(error)}", err=True)
            sys.exit(1)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise  # click reports these itself (usage errors: exit status 2)
        except MemoryError as error:
            if debug:
                raise
            click.echo(
                f"error: out of memory{': ' + one_line(error) if str(error).strip() else ''} "
                "(use a smaller --size, model or --batch-size)",
                err=True,
            )
            sys.exit(1)
        except Exception as error:  # anything unexpected still ends in one line
            if debug:
                raise
            click.echo(
                f"error: {type(error).__name__}: {one_line(error)} (rerun with --debug for the traceback)",
                err=True,
            )
            sys.exit(1)

    return click.option("--debug", is_flag=True, help="Show tracebacks.")(wrapper)


@contextlib.contextmanager
def one_line_usage_errors() -> Iterator[None]:
    """Let click's usage errors (unknown option, bad value, ...) print as one ``error: ...`` line
    (exit status 2, as click does) instead of the usage block."""
    try:
        yield
    except click.UsageError as error:
        if not isinstance(
            error, click.exceptions.NoArgsIsHelpError
        ):  # bare `coordnet`: keep the help

            def show(file=None, error: click.UsageError = error) -> None:
                where = error.ctx.command_path if error.ctx is not None else "coordnet"
                click.echo(f"error: {error.format_message()} (see '{where} --help')", err=True)

            error.show = show  # what click's standalone mode calls to report the error
        raise


class OneLineErrorsGroup(click.Group):
    """A click group whose parsing errors, its own and its commands', are one line."""

    def make_context(self, *args, **kwargs):
        with one_line_usage_errors():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx):
        with one_line_usage_errors():
            return super().invoke(ctx)
