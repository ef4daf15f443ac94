"""The command line shared by every experiment: ``--budget``, ``--set``, ``--out``, ``--debug``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, Mapping, Optional, Sequence

from coordnet.experiments.budget import Budget


def flags_to_overrides(argv: Optional[Sequence[str]], flags: Mapping[str, str]) -> list[str]:
    """``argv`` with each ``--FLAG VALUE`` / ``--FLAG=VALUE`` of ``flags`` (flag -> budget key)
    rewritten as ``--set KEY=VALUE``: earlier command lines keep working on a budget."""
    items = list(sys.argv[1:] if argv is None else argv)
    result: list[str] = []
    index = 0
    while index < len(items):
        item = items[index]
        name, equals, value = item.partition("=")
        if name in flags and equals:
            result += ["--set", f"{flags[name]}={value}"]
        elif item in flags and index + 1 < len(items):
            result += ["--set", f"{flags[item]}={items[index + 1]}"]
            index += 1
        else:
            result.append(item)
        index += 1
    return result


def experiment_main(
    argv: Optional[Sequence[str]],
    *,
    prog: str,
    description: str,
    budgets: Mapping[str, Budget],
    run: Callable[[str, Budget, argparse.Namespace], int],
    add_arguments: Optional[Callable[[argparse.ArgumentParser], None]] = None,
) -> int:
    """Parse ``--budget NAME`` (default ``cpu``), repeatable ``--set KEY=VALUE``, ``--out DIR``
    (required) and the experiment's own arguments, then return ``run(name, budget, args)``.

    Bad input (``ValueError`` or ``FileNotFoundError``, from the overrides or from ``run``) prints
    ``error: <one line>`` to stderr and returns 2; ``--debug`` lets the traceback through."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument(
        "--budget", default="cpu", help=f"one of: {', '.join(budgets)} (default cpu)"
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one setting of the budget (repeatable)",
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="output folder (results, runs, figures)"
    )
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks instead of one-line errors"
    )
    if add_arguments is not None:
        add_arguments(parser)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse already printed its one-line message
        return int(exit_.code or 0)
    try:
        if args.budget not in budgets:
            raise ValueError(f"unknown budget {args.budget!r} (choose from {', '.join(budgets)})")
        budget = budgets[args.budget].with_overrides(args.overrides)
        return int(run(args.budget, budget, args))
    except (ValueError, FileNotFoundError) as error:
        if args.debug:
            raise
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"error: {message}", file=sys.stderr)
        return 2
