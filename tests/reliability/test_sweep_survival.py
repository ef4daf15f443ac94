"""Sweeps that survive anything: worker BaseExceptions, unreadable results, a killed driver,
bounded parallelism, an unreachable Ray address, a second driver on the same folder."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from coordnet.cli.main import cli
from coordnet.sweep import expand, parse_sweep, run_sweep
from coordnet.sweep.local import cpu_count, run_local
from coordnet.sweep.run import CONFIG, ERROR, RESULT, execute, run_directory, run_status

SWEEP = """\
images = ["camera"]
size = 16
steps = {steps}
seeds = {seeds}

[[models]]
spec = "gauss:num_frequencies=8+relu:width=16,depth=2"
"""


def _runs(steps=5, seeds=1):
    return expand(parse_sweep(SWEEP.format(steps=steps, seeds=seeds), "t.toml"))


def failing_execute(run_data, out_dir, threads=None):
    """Stands in for :func:`coordnet.sweep.run.execute` in worker processes: raises by seed."""
    seed = run_data["config"]["train"]["seed"]
    if seed == 0:
        raise KeyboardInterrupt
    if seed == 1:
        raise SystemExit(3)
    return {**run_data, "status": "done"}


def test_base_exceptions_in_workers_become_error_records_and_the_sweep_goes_on(
    tmp_path, monkeypatch
):
    import coordnet.sweep.local as local

    monkeypatch.setattr(local, "execute", failing_execute)
    runs = _runs(seeds=3)
    out = str(tmp_path / "out")
    finished = {}
    records = run_local(
        runs, out, workers=1, threads=1, on_finish=lambda run, rec: finished.update({run.hash: rec})
    )
    assert len(records) == 3 and set(finished) == {r.hash for r in runs}
    by_seed = {run.seed: finished[run.hash] for run in runs}
    assert by_seed[0]["status"] == "failed" and by_seed[0]["error"].startswith("KeyboardInterrupt")
    assert by_seed[1]["status"] == "failed" and by_seed[1]["error"].startswith("SystemExit: 3")
    assert by_seed[2]["status"] == "done"
    for run in runs[:2]:
        assert json.loads(Path(run_directory(out, run), ERROR).read_text())["hash"] == run.hash


@pytest.mark.parametrize("raised", [KeyboardInterrupt(), SystemExit(2), MemoryError("no room")])
def test_execute_records_any_base_exception(tmp_path, monkeypatch, raised):
    import coordnet.runs.run

    def boom(*args, **kwargs):
        raise raised

    monkeypatch.setattr(coordnet.runs.run, "run_fit", boom)
    run = _runs()[0]
    record = execute(run.to_dict(), str(tmp_path))
    assert record["status"] == "failed" and record["error"].startswith(type(raised).__name__)
    assert run_status(str(tmp_path), run) == "failed"


@pytest.mark.parametrize(
    "damage",
    [
        "truncate",
        pytest.param("garbage", marks=pytest.mark.slow),
        pytest.param("other-run", marks=pytest.mark.slow),
    ],
)
def test_unreadable_result_is_reported_and_fitted_again(tmp_path, damage):
    runs = _runs()
    out = str(tmp_path / "out")
    assert run_sweep(runs, out, workers=1, threads=1, progress=False).done == [runs[0].hash]
    path = Path(run_directory(out, runs[0]), RESULT)
    text = path.read_text()
    if damage == "truncate":
        path.write_text(text[: len(text) // 2])
    elif damage == "garbage":
        path.write_bytes(b"\x00\xff")
    else:
        path.write_text(json.dumps({**json.loads(text), "hash": "0" * 16}))
    assert run_status(out, runs[0]) == "unreadable"
    again = run_sweep(runs, out, workers=1, threads=1, progress=False)
    assert again.done == [runs[0].hash] and again.skipped == []
    assert json.loads(path.read_text())["status"] == "done"


def test_cli_reports_an_unreadable_result(tmp_path):
    sweep = tmp_path / "s.toml"
    sweep.write_text(SWEEP.format(steps=5, seeds=1))
    out = tmp_path / "out"
    run = _runs()[0]
    Path(run_directory(str(out), run)).mkdir(parents=True)
    Path(run_directory(str(out), run), RESULT).write_text('{"status": "do')
    result = CliRunner().invoke(
        cli, ["sweep", str(sweep), "--out", str(out), "--quiet", "--threads", "1"]
    )
    assert result.exit_code == 0, result.output
    assert "1 run(s) have a result.json that cannot be read" in result.output
    assert "1 fitted, 0 failed, 0 skipped" in result.output


@pytest.mark.parametrize("option", ["--threads", "--workers"])
def test_parallelism_beyond_the_cores_is_a_one_line_error(tmp_path, option):
    sweep = tmp_path / "s.toml"
    sweep.write_text(SWEEP.format(steps=5, seeds=1))
    result = CliRunner().invoke(
        cli, ["sweep", str(sweep), "--out", str(tmp_path / "o"), option, "100000"]
    )
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"error: {option} must be an integer <= {cpu_count()} "
        f"(the {cpu_count()} cores of this machine), got 100000"
    )
    assert not (tmp_path / "o").exists()


def test_unreachable_ray_address_fails_quickly_in_one_line(tmp_path):
    pytest.importorskip("ray", reason="the Ray backend needs the ray extra")
    sweep = tmp_path / "s.toml"
    sweep.write_text(SWEEP.format(steps=5, seeds=1))
    started = time.monotonic()
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "coordnet",
            "sweep",
            str(sweep),
            "--out",
            str(tmp_path / "o"),
            "--ray",
            "127.0.0.1:1",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert time.monotonic() - started < 30
    assert process.returncode == 1
    lines = process.stderr.strip().splitlines()
    assert lines == [
        "error: --ray 127.0.0.1:1: cannot reach a Ray cluster at 127.0.0.1:1 (Connection refused); "
        "is the cluster running (ray start --head) and the address right?"
    ]


def test_a_second_driver_on_the_same_folder_fails_at_once(tmp_path):
    sweep = tmp_path / "s.toml"
    sweep.write_text(SWEEP.format(steps=5, seeds=1))
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from coordnet.outdir_lock import acquire; "
            f"acquire({str(out)!r}, 'first sweep'); print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        result = CliRunner().invoke(
            cli, ["sweep", str(sweep), "--out", str(out), "--quiet", "--threads", "1"]
        )
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 1
    assert f"in use by pid {holder.pid} (first sweep)" in result.output
    assert not (out / "runs").exists()


def _descendants(pid):
    """Every process below ``pid`` (from /proc), children first."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, frontier = [], [pid]
    while frontier:
        children = parents.get(frontier.pop(), [])
        found += children
        frontier += children
    return found


def _running(pid):
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_killing_the_driver_ends_its_workers_and_a_rerun_completes(tmp_path, signum):
    sweep = tmp_path / "s.toml"
    sweep.write_text(SWEEP.format(steps=400, seeds=2))
    out = tmp_path / "out"
    runs = _runs(steps=400, seeds=2)
    command = [
        sys.executable,
        "-m",
        "coordnet",
        "sweep",
        str(sweep),
        "--out",
        str(out),
        "--workers",
        "1",
        "--threads",
        "1",
        "--quiet",
    ]
    driver = subprocess.Popen(
        command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    family = []
    try:
        deadline = time.monotonic() + 240
        config = Path(run_directory(str(out), runs[0]), CONFIG)
        while not config.exists() and time.monotonic() < deadline and driver.poll() is None:
            time.sleep(0.1)
        assert driver.poll() is None and config.exists(), "the first run never started"
        family = _descendants(driver.pid)
        assert family, "no worker processes"
        os.kill(driver.pid, signum)  # the driver alone, as a user's kill would
        driver.wait(timeout=60)
        deadline = time.monotonic() + 15
        while any(_running(pid) for pid in family) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in family if _running(pid)], "processes outlived the sweep driver"
    finally:
        if driver.poll() is None:
            driver.kill()
        for pid in family:
            if _running(pid):
                os.kill(pid, signal.SIGKILL)
    written = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    time.sleep(1.0)  # no orphan writes later
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == written
    assert not any(run_status(str(out), r) == "failed" for r in runs)
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert all(run_status(str(out), r) == "done" for r in runs)
