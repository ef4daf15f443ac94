"""Sweeps end to end: a tiny sweep in a local process pool, failed runs, resuming, aggregation."""

import csv
import importlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from coordnet.cli.main import cli
from coordnet.signals import save_image
from coordnet.sweep import Calibration, estimate, expand, load_sweep, run_sweep, write_results
from coordnet.sweep.aggregate import mean_std, series
from coordnet.sweep.calibrate import cost_key, signal_key
from coordnet.sweep.driver import to_do
from coordnet.sweep.local import threads_per_worker
from coordnet.sweep.run import ERROR, RESULT, run_directory, run_status

TINY = """\
name = "tiny"
images = ["camera", "broken.png"]
size = 32
steps = 20
seeds = [0, 1]

[[models]]
name = "gauss"
spec = "gauss:num_frequencies=16+relu:width=32,depth=2"
[models.grid]
sigma = [1, 8]
"""


@pytest.fixture
def tiny(tmp_path):
    (tmp_path / "broken.png").write_bytes(
        b"not a png"
    )  # exists, so the file is valid; its runs fail
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    return path


def test_threads_per_worker():
    assert threads_per_worker(1, cores=8) == 8
    assert threads_per_worker(3, cores=8) == 2
    assert threads_per_worker(16, cores=8) == 1


def test_local_sweep_records_failures_resumes_and_aggregates(tiny, tmp_path):
    out = str(tmp_path / "out")
    runs = expand(load_sweep(tiny))
    assert len(runs) == 2 * 2 * 2
    good = [r for r in runs if r.image == "camera"]
    bad = [r for r in runs if r.image != "camera"]

    outcome = run_sweep(runs, out, workers=2, progress=False)
    assert sorted(outcome.done) == sorted(r.hash for r in good)
    assert sorted(outcome.failed) == sorted(r.hash for r in bad)
    for run in bad:  # a failed run is recorded with its error; the sweep went on
        record = json.loads(Path(run_directory(out, run), ERROR).read_text())
        assert record["status"] == "failed" and "broken.png" in record["error"]
        assert "Traceback" in record["traceback"] and record["hash"] == run.hash
    results = {}
    for run in good:
        record = json.loads(Path(run_directory(out, run), RESULT).read_text())
        assert record["config"] == run.config and record["threads"] == 1
        assert record["steps"] == 20 and np.isfinite(record["test_psnr"])
        metrics = json.loads(Path(run_directory(out, run), "metrics.json").read_text())
        assert metrics["test_psnr"] == record["test_psnr"]  # the fit pipeline's own numbers
        results[run.hash] = record
    assert len({r["pid"] for r in results.values()}) <= 2

    # The table: mean ± std over the seeds, computed independently here.
    table = write_results(runs, out, title="tiny")
    with open(os.path.join(out, "results.csv")) as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 4
    for row in rows:
        if row["image"] == "broken.png":
            assert row["seeds"] == "0" and row["failed"] == "2" and row["test_psnr_mean"] == ""
            continue
        same = [
            results[r.hash]["test_psnr"]
            for r in good
            if r.model == row["model"] and str(r.params.get("sigma", "")) == row["sigma"]
        ]
        assert len(same) == 2
        assert float(row["test_psnr_mean"]) == pytest.approx(np.mean(same), abs=0.006)
        assert float(row["test_psnr_std"]) == pytest.approx(np.std(same, ddof=1), abs=0.006)
    markdown = Path(out, "results.md").read_text()
    assert "±" in markdown and "(2 failed)" in markdown
    assert Path(out, "results.png").stat().st_size > 0
    gauss = next(s for s in series(table) if s.model == "gauss")
    assert gauss.key == "sigma" and gauss.x == [1.0, 8.0]

    # Rerun: nothing is fitted again (no worker pool is even started).
    mtimes = {
        r.hash: os.stat(os.path.join(run_directory(out, r), RESULT)).st_mtime_ns for r in good
    }
    again = run_sweep(runs, out, workers=2, progress=False)
    assert again.done == [] and again.failed == [] and len(again.skipped) == len(runs)
    listing = CliRunner().invoke(cli, ["sweep", str(tiny), "--dry-run", "--out", out])
    assert listing.exit_code == 0, listing.output
    assert "8 runs (4 done, 4 failed, 0 pending); 0 to run" in listing.output
    assert sum(f"{r.hash}  done " in listing.output for r in good) == 4
    assert sum(f"{r.hash}  failed " in listing.output for r in bad) == 4
    for run in good:
        assert (
            os.stat(os.path.join(run_directory(out, run), RESULT)).st_mtime_ns == mtimes[run.hash]
        )
    # A run lost in flight (no result.json in its folder) is the only one left to do; failed
    # runs are done again only on request.
    os.unlink(os.path.join(run_directory(out, good[0]), RESULT))
    assert to_do(runs, out) == [good[0]]
    assert to_do(runs, out, retry_failed=True) == [good[0], *bad]


def test_mean_std_matches_statistics():
    assert mean_std([1.0, 2.0, 4.0]) == (
        pytest.approx(7 / 3),
        pytest.approx(np.std([1, 2, 4], ddof=1)),
    )
    assert mean_std([3.0, None, float("nan")]) == (3.0, 0.0)
    assert mean_std([]) == (None, None)


def test_estimate_is_steps_times_step_time(tiny):
    runs = [r for r in expand(load_sweep(tiny)) if r.image == "camera"]
    shape = (32, 32, 1)
    key = cost_key(runs[0], shape)
    assert cost_key(runs[2], shape) == key  # another σ: the same shapes, the same cost
    calibration = Calibration(
        {key: 0.01},
        {key: 0.5},
        {key: 2.0},
        startup_seconds=3.0,
        shapes={signal_key(runs[0]): shape},
    )
    expected = 20 * 0.01 + (20 // 20 + 1) * 0.5 + 2.0
    assert calibration.run_seconds(runs[0]) == pytest.approx(expected)
    cost = estimate(runs, calibration, workers=2)
    assert cost["total_seconds"] == pytest.approx(4 * expected)
    assert cost["wall_seconds"] == pytest.approx(2 * expected + 3.0)
    wider = expand(load_sweep(tiny))[0]
    wider.config["spec"]["net"]["width"] = 64
    assert cost_key(wider, shape) != key
    assert cost_key(runs[0], (64, 64, 1)) != key


def test_calibration_loads_each_image_once_and_measures_once_per_shape(tmp_path, monkeypatch):
    import coordnet.signals

    module = importlib.import_module(
        "coordnet.sweep.calibrate"
    )  # the package exports a function of that name
    for name in ("a.png", "b.png"):  # two images of one shape: one measurement serves both
        save_image(tmp_path / name, np.random.default_rng(0).random((24, 24)))
    path = tmp_path / "two.toml"
    path.write_text(TINY.replace('"camera", "broken.png"', '"a.png", "b.png", "camera"'))
    runs = expand(load_sweep(path))
    loads, measured = [], []
    real_load = coordnet.signals.load_signal

    def load(source, size=None):
        loads.append(source)
        return real_load(source, size=size)

    def measure(run, signal, steps):
        measured.append((run.image, tuple(signal.values.shape)))
        return {"step": 0.01, "eval": 0.5, "overhead": 2.0}

    monkeypatch.setattr(coordnet.signals, "load_signal", load)
    monkeypatch.setattr(module, "_measure", measure)
    monkeypatch.setattr(module, "_warm_up", lambda: None)
    calibration = module.calibrate(runs, measure_startup=False)
    assert sorted(loads) == sorted({run.image for run in runs})  # each image once
    assert measured == [
        (runs[0].image, (32, 32, 1))
    ]  # every image resized to 32: one shape, σ changes none
    assert len(calibration.step_seconds) == 1
    assert estimate(runs, calibration)["total_seconds"] == pytest.approx(
        len(runs) * (20 * 0.01 + 2 * 0.5 + 2.0)
    )


def test_cli_dry_run_lists_runs_and_bad_file_is_one_line(tiny, tmp_path, monkeypatch):
    module = importlib.import_module(
        "coordnet.sweep.calibrate"
    )  # the package exports a function of that name
    monkeypatch.setattr(module, "startup_seconds", lambda: 0.0)
    tiny.write_text(
        TINY.replace('"camera", "broken.png"', '"camera"').replace("sigma = [1, 8]", "sigma = [1]")
    )
    result = CliRunner().invoke(
        cli, ["sweep", str(tiny), "--dry-run", "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert sum(1 for line in lines if " pending " in line) == 2
    per_run = [line.split()[-2:] for line in lines if " pending " in line]
    assert all(unit in ("s", "min", "h") and float(value) >= 0 for value, unit in per_run)
    assert "2 runs (0 done, 0 failed, 2 pending)" in lines[-1] and "estimated" in lines[-1]
    assert not (tmp_path / "o").exists()
    tiny.write_text(TINY.replace("steps = 20", "steps = 0"))
    result = CliRunner().invoke(cli, ["sweep", str(tiny)])
    assert result.exit_code == 1
    assert "line 4: key 'steps': must be an integer >= 1" in result.output


@pytest.mark.slow
def test_killed_sweep_resumes_without_redoing_finished_runs(tmp_path):
    """SIGKILL the whole sweep (main process and its worker) mid-way, then rerun."""
    path = tmp_path / "kill.toml"
    path.write_text(
        TINY.replace('"camera", "broken.png"', '"camera"').replace("steps = 20", "steps = 300")
    )
    out = tmp_path / "out"
    runs = expand(load_sweep(path))
    command = [
        sys.executable,
        "-m",
        "coordnet",
        "sweep",
        str(path),
        "--out",
        str(out),
        "--workers",
        "1",
        "--threads",
        "1",
        "--quiet",
    ]
    process = subprocess.Popen(
        command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and process.poll() is None:
            if sum(run_status(str(out), r) == "done" for r in runs) >= 1:
                break
            time.sleep(0.2)
        assert process.poll() is None, process.stderr.read().decode()
    finally:
        if process.poll() is None:
            os.killpg(
                process.pid, signal.SIGKILL
            )  # the sweep's own process group: it and its workers
        process.wait()
    finished = {
        r.hash: os.stat(os.path.join(run_directory(str(out), r), RESULT)).st_mtime_ns
        for r in runs
        if run_status(str(out), r) == "done"
    }
    assert 1 <= len(finished) < len(runs)
    assert not any(run_status(str(out), r) == "failed" for r in runs)
    result = CliRunner().invoke(
        cli, ["sweep", str(path), "--out", str(out), "--workers", "2", "--threads", "1", "--quiet"]
    )
    assert result.exit_code == 0, result.output
    assert f"{len(runs) - len(finished)} fitted, 0 failed, {len(finished)} skipped" in result.output
    assert all(run_status(str(out), r) == "done" for r in runs)
    for hash_, mtime in finished.items():
        assert os.stat(out / "runs" / hash_ / RESULT).st_mtime_ns == mtime


def _children(pid: int):
    """Process ids whose parent is ``pid`` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.slow
def test_a_killed_worker_loses_only_its_run_which_is_fitted_again(tmp_path):
    """SIGKILL the worker process fitting the first run: the pool restarts, the run is fitted
    again, the sweep completes; a rerun then fits nothing."""
    from coordnet.sweep.local import run_local

    path = tmp_path / "kill.toml"
    path.write_text(
        TINY.replace('"camera", "broken.png"', '"camera"').replace("steps = 20", "steps = 100")
    )
    out = str(tmp_path / "out")
    runs = expand(load_sweep(path))
    killed = []

    def kill_first_worker(run):
        if killed:
            return
        config = os.path.join(run_directory(out, run), "config.json")
        deadline = time.monotonic() + 120
        while (
            not os.path.exists(config) and time.monotonic() < deadline
        ):  # the worker started the run
            time.sleep(0.05)
        servers = [
            pid
            for pid in _children(os.getpid())
            if b"forkserver" in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]
        workers = [pid for server in servers for pid in _children(server)]
        assert len(workers) == 1
        os.kill(workers[0], signal.SIGKILL)
        killed.append((run.hash, workers[0]))

    records = run_local(runs, out, workers=1, threads=1, on_start=kill_first_worker)
    assert killed and len(records) == len(runs)
    assert all(record["status"] == "done" for record in records)
    first, dead_pid = killed[0]
    redone = json.loads(Path(out, "runs", first, RESULT).read_text())
    assert redone["pid"] != dead_pid  # fitted again, by the new pool's worker
    mtimes = {
        r.hash: os.stat(os.path.join(run_directory(out, r), RESULT)).st_mtime_ns for r in runs
    }
    again = run_sweep(runs, out, progress=False)
    assert again.done == [] and len(again.skipped) == len(runs)
    assert mtimes == {
        r.hash: os.stat(os.path.join(run_directory(out, r), RESULT)).st_mtime_ns for r in runs
    }


def test_cli_sweep_of_failing_runs_names_the_error_files_and_writes_no_plot(tiny, tmp_path):
    tiny.write_text(
        TINY.replace('"camera", "broken.png"', '"broken.png"').replace(
            "sigma = [1, 8]", "sigma = [1]"
        )
    )
    out = tmp_path / "o"
    result = CliRunner().invoke(cli, ["sweep", str(tiny), "--out", str(out), "--quiet"])
    assert result.exit_code == 1, result.output  # every run failed: not a success
    assert f"2 run(s) failed: see {out / 'runs' / '<hash>' / 'error.json'}" in result.output
    assert result.output.splitlines()[-1] == f"wrote {out / 'results.csv'}, results.md"
    assert (out / "results.md").exists() and not (out / "results.png").exists()
