"""Running the command line in-process and checking its one-line failures."""

from click.testing import CliRunner, Result

from coordnet.cli.main import cli

#: A fit that takes a fraction of a second: 4 steps of a tiny ReLU net.
TINY = ("--steps", "4", "--eval-every", "2", "--quiet", "-m", "relu:width=8,depth=1")


def invoke(*args, env=None) -> Result:
    """``coordnet ARGS`` in this process (arguments converted to strings)."""
    return CliRunner().invoke(cli, [str(a) for a in args], prog_name="coordnet", env=env)


def one_line_error(result: Result, *fragments: str) -> str:
    """Assert that ``result`` failed with exit status 1 and one ``error: ...`` line on stderr
    (no traceback) holding every fragment; returns the line."""
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]
