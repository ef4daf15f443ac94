"""Same command, same numbers: fixed-step defaults give identical metrics run after run, and
with busy processes beside them."""

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from coordnet.cli.main import cli

pytestmark = pytest.mark.usefixtures("one_thread")
FIT = ["fit", "camera", "--size", "24", "--steps", "20", "--eval-every", "5", "--quiet"]


def _without_timings(value):
    """``value`` with every entry whose key names seconds (wall-clock measurements) removed."""
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items() if "seconds" not in k}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


def _fit(folder, *extra):
    result = CliRunner().invoke(cli, [*FIT, *extra, "--out", str(folder)], prog_name="coordnet")
    assert result.exit_code == 0, result.output
    return json.loads((folder / "metrics.json").read_text())


def test_two_runs_give_identical_metrics(tmp_path):
    first, second = _fit(tmp_path / "a"), _fit(tmp_path / "b")
    assert first["config"]["train_config"]["time_limit"] is None  # fixed steps by default
    assert first["steps"] == 20 and first["stopped"] in (None, "steps")
    assert _without_timings(first) == _without_timings(second)
    assert first["decisions"]["precision"] in ("bf16", "float32")
    assert first["decisions"]["test_split"] == "reported only"


def test_busy_processes_beside_a_fit_change_no_number(tmp_path):
    quiet = _fit(tmp_path / "quiet")
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        loaded = _fit(tmp_path / "loaded")
    finally:
        for process in busy:
            process.kill()
            process.wait()
    assert _without_timings(quiet) == _without_timings(loaded)


def test_a_time_budget_says_the_numbers_depend_on_the_machine(tmp_path):
    result = CliRunner().invoke(
        cli, [*FIT, "--time", "1m", "--out", str(tmp_path / "t")], prog_name="coordnet"
    )
    assert result.exit_code == 0, result.output
    assert "depend on this machine" in result.output
    metrics = json.loads((tmp_path / "t" / "metrics.json").read_text())
    assert metrics["decisions"]["wall_clock"] is True
