"""One-line errors with a non-zero exit; tracebacks only with ``--debug``."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import warnings
from typing import Callable, Iterator, List

import click

EXPECTED = (ValueError, TypeError, OSError, RuntimeError, KeyError)


def _origin(error: BaseException) -> str:
    """Where ``error`` was raised: ``"file.py:LINE in function"`` of its innermost frame."""
    tb = error.__traceback__
    if tb is None:
        return "an unknown place"
    while tb.tb_next is not None:
        tb = tb.tb_next
    code = tb.tb_frame.f_code
    return f"{os.path.basename(code.co_filename)}:{tb.tb_lineno} in {code.co_name}"


def one_line(error: BaseException) -> str:
    """The first line of ``error``'s message; a ``KeyError`` names the missing key; an error
    without a message names its type and where it was raised."""
    text = str(error).strip()
    if isinstance(error, KeyError) and error.args:
        return f"missing entry {error.args[0]!r}"
    if not text:
        return f"{type(error).__name__} without a message, raised at {_origin(error)}"
    return text.splitlines()[0]


def _warning_text(record: warnings.WarningMessage) -> str:
    text = str(record.message).strip()
    first = text.splitlines()[0] if text else ""
    return f"{record.category.__name__}: {first}"


def _folded(line: str, caught: List[warnings.WarningMessage]) -> str:
    """``line`` followed by the distinct warnings caught before the error, all on one line."""
    texts = list(dict.fromkeys(_warning_text(record) for record in caught))
    return line + (f" (after {'; '.join(texts)})" if texts else "")


def _show_caught(caught: List[warnings.WarningMessage]) -> None:
    """Print the warnings a successful command raised, one ``warning: ...`` line each."""
    for text in dict.fromkeys(_warning_text(record) for record in caught):
        click.echo(f"warning: {text}", err=True)


def friendly_errors(command: Callable) -> Callable:
    """Wrap a click command: expected errors print ``error: <message>`` and exit with status 1."""

    @functools.wraps(command)
    def wrapper(*args, debug: bool = False, **kwargs):
        if debug:
            return _report(command, args, kwargs, debug, [])
        # warnings are held while the command runs: folded into its error line if it fails,
        # printed after it (one line each) if it succeeds; the active filters still apply
        with warnings.catch_warnings(record=True) as caught:
            result = _report(command, args, kwargs, debug, caught)
        _show_caught(caught)
        return result

    return click.option("--debug", is_flag=True, help="Show tracebacks.")(wrapper)


def _report(command: Callable, args, kwargs, debug: bool, caught: List[warnings.WarningMessage]):
    """Run ``command``; an error ends in one ``error: ...`` line (the ``caught`` warnings folded
    into it) and ``sys.exit(1)``."""
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
        click.echo(_folded(f"error: {one_line(error)}", caught), err=True)
        sys.exit(1)
    except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
        raise  # click reports these itself (usage errors: exit status 2)
    except MemoryError as error:
        if debug:
            raise
        click.echo(
            _folded(
                f"error: out of memory{': ' + one_line(error) if str(error).strip() else ''} "
                "(use a smaller --size, model or --batch-size)",
                caught,
            ),
            err=True,
        )
        sys.exit(1)
    except Exception as error:  # anything unexpected still ends in one line
        if debug:
            raise
        click.echo(
            _folded(
                f"error: {type(error).__name__}: {one_line(error)} (rerun with --debug for the traceback)",
                caught,
            ),
            err=True,
        )
        sys.exit(1)


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

            # what click's standalone mode calls to report the error, replaced on this instance
            error.show = show  # type: ignore[method-assign]
        raise


class OneLineErrorsGroup(click.Group):
    """A click group whose parsing errors, its own and its commands', are one line."""

    def make_context(self, *args, **kwargs):
        with one_line_usage_errors():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx):
        with one_line_usage_errors():
            return super().invoke(ctx)
