"""One owner per output folder: the lock of fit/compare/render/regions, stale locks, unwritable
folders, and the removal of orphaned temporaries."""

import os
import signal
import subprocess
import sys
import time

import pytest

from coordnet.atomic import remove_orphaned_temporaries
from coordnet.outdir_lock import (
    LOCK_NAME,
    OutputFolderBusyError,
    acquire,
    is_locked_here,
    output_folder_lock,
    release,
)

from .cli_helpers import TINY as BASE_TINY
from .cli_helpers import invoke, one_line_error

TINY = ("--size", "12", *BASE_TINY)
HOLDER = (
    "import sys, time\nfrom coordnet.outdir_lock import acquire\nacquire(sys.argv[1], 'coordnet fit holder')\n"
    "print('locked', flush=True)\ntime.sleep(600)\n"
)


@pytest.fixture
def holder(tmp_path):
    """Another process holding the lock of tmp_path/out: (folder, process)."""
    folder = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(folder)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().strip() == "locked"
    yield folder, process
    if process.poll() is None:
        process.kill()
        process.wait()


def test_a_second_job_fails_at_once_naming_the_holder(holder, tmp_path):
    folder, process = holder
    for args in (
        ("fit", "camera", *TINY, "--out", folder),
        ("compare", "camera", *TINY, "--out", folder),
        ("regions", "--init", "relu:width=8,depth=1", "--size", "8", "--out", folder),
    ):
        started = time.perf_counter()
        line = one_line_error(
            invoke(*args), str(folder), f"pid {process.pid}", "coordnet fit holder"
        )
        assert "in use" in line
        assert time.perf_counter() - started < 30
    assert not (folder / "metrics.json").exists() and not (folder / "regions.json").exists()
    with pytest.raises(OutputFolderBusyError, match=str(process.pid)):
        with output_folder_lock(str(folder)):
            pass


def test_a_killed_holder_leaves_a_lock_file_that_never_blocks(holder):
    folder, process = holder
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert (folder / LOCK_NAME).exists()  # stale file, no lock
    result = invoke("fit", "camera", *TINY, "--out", folder)
    assert result.exit_code == 0, result.output
    assert (folder / "metrics.json").exists()


def test_render_into_a_locked_folder_fails(holder, tmp_path):
    folder, _ = holder
    fitted = tmp_path / "fitted"
    assert invoke("fit", "camera", *TINY, "--out", fitted).exit_code == 0
    one_line_error(invoke("render", fitted / "checkpoint.pt", "--out", folder / "x.png"), "in use")
    assert not (folder / "x.png").exists()


def test_the_lock_is_reentrant_within_a_process_and_released(tmp_path):
    folder = str(tmp_path / "f")
    with output_folder_lock(folder):
        with output_folder_lock(folder):
            assert is_locked_here(folder)
        assert is_locked_here(folder)
    assert not is_locked_here(folder)
    probe = subprocess.run(
        [sys.executable, "-c", HOLDER.replace("time.sleep(600)", "pass"), folder],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert probe.returncode == 0, probe.stderr  # another process can take it now


def test_unwritable_out_is_refused_before_training(tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    one_line_error(
        invoke("fit", "camera", *TINY, "--out", a_file / "sub"), "not writable", str(a_file)
    )
    if os.geteuid() != 0:  # root writes into read-only folders
        read_only = tmp_path / "ro"
        read_only.mkdir()
        read_only.chmod(0o555)
        one_line_error(invoke("fit", "camera", *TINY, "--out", read_only), "not writable")


def test_orphaned_temporaries_are_removed_when_a_fit_starts(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    orphans = [folder / ".tmp-abc_1234.pt", folder / ".tmp-zz99yy88.json", folder / ".tmp-q1w2e3r4"]
    kept = [folder / ".tmp-notours.pt", folder / "tmp-abcd1234.pt", folder / "notes.txt"]
    (folder / "sub").mkdir()
    kept.append(folder / "sub" / ".tmp-abcd1234.pt")
    for path in orphans + kept:
        path.write_text("x")
    result = invoke("fit", "camera", *TINY, "--out", folder)
    assert result.exit_code == 0, result.output
    assert not any(path.exists() for path in orphans)
    assert all(path.exists() for path in kept)
    assert remove_orphaned_temporaries(str(tmp_path / "missing")) == []


def test_a_forked_child_does_not_keep_the_lock_after_the_holder_dies(tmp_path):
    """The holder forks a long-lived child, then is killed: the folder is free at once."""
    folder = tmp_path / "out"
    script = (
        "import os, sys, time\n"
        "from coordnet.outdir_lock import acquire\n"
        f"acquire({str(folder)!r})\n"
        "child = os.fork()\n"
        "if child == 0:\n"
        "    time.sleep(60)\n"
        "    os._exit(0)\n"
        "print(child, flush=True)\n"
        "time.sleep(60)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    child = int(holder.stdout.readline())
    try:
        with pytest.raises(OutputFolderBusyError):
            acquire(str(folder))
        holder.kill()
        holder.wait(timeout=30)
        os.kill(child, 0)  # the child still lives
        release(acquire(str(folder)))
    finally:
        holder.kill()
        try:
            os.kill(child, signal.SIGKILL)
        except ProcessLookupError:
            pass
