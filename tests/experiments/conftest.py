"""Fixtures of the experiment tests."""

from typing import Callable

import pytest

from coordnet.cli.main import cli


def run_reproduce(name: str, argv: list[str]) -> int:
    """``coordnet reproduce NAME ARGV...`` in this process; its exit status (output to capsys)."""
    try:
        cli.main(["reproduce", name, *argv], prog_name="coordnet", standalone_mode=True)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


@pytest.fixture(scope="session")
def reproduce() -> Callable[[str, list[str]], int]:
    """``reproduce(NAME, ARGV)`` runs ``coordnet reproduce NAME ARGV...`` and returns its status."""
    return run_reproduce
