"""Nothing is written where it should not be: symbolic links and special files in an output
folder, a ``~`` in ``--out``, and a lock file deleted while its holder runs."""

import os
import stat
import subprocess
import sys

import pytest

from coordnet.atomic import NotRegularFileError, write_json
from coordnet.outdir_lock import (
    LOCK_NAME,
    OutputFolderBusyError,
    output_folder_lock,
    resolve_output_folder,
)

from .cli_helpers import TINY as BASE_TINY
from .cli_helpers import invoke, one_line_error

TINY = ("--size", "12", *BASE_TINY)
VICTIM_TEXT = "precious\n"
HOLDER = (
    "import sys, time\nfrom coordnet.outdir_lock import acquire\nacquire(sys.argv[1], 'holder')\n"
    "print('locked', flush=True)\ntime.sleep(600)\n"
)


@pytest.fixture
def fitted(fitted_checkpoint):
    return fitted_checkpoint


@pytest.fixture
def victim(tmp_path):
    path = tmp_path / "victim.txt"
    path.write_text(VICTIM_TEXT)
    return path


def test_a_symlinked_lock_is_refused_and_its_target_untouched(tmp_path, victim, fitted):
    folder = tmp_path / "o"
    folder.mkdir()
    (folder / LOCK_NAME).symlink_to(victim)
    with pytest.raises(OSError, match="symbolic link"):
        with output_folder_lock(str(folder)):
            pass
    one_line_error(invoke("fit", "camera", *TINY, "--out", folder), "symbolic link", LOCK_NAME)
    assert not (folder / "metrics.json").exists()
    invoke("render", fitted, "--out", folder / "r.png")  # writes no lock file, or refuses
    assert victim.read_text() == VICTIM_TEXT


def test_a_link_or_fifo_as_destination_is_never_replaced_nor_written_through(
    tmp_path, victim, fitted
):
    link = tmp_path / "r.png"
    link.symlink_to(victim)
    one_line_error(invoke("render", fitted, "--out", link), "symbolic link", str(link))
    assert link.is_symlink() and victim.read_text() == VICTIM_TEXT
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    one_line_error(invoke("render", fitted, "--out", fifo), "FIFO", str(fifo))
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    folder = tmp_path / "dir.png"
    folder.mkdir()
    one_line_error(invoke("render", fitted, "--out", folder), "folder", str(folder))
    with pytest.raises(NotRegularFileError, match="symbolic link"):
        write_json(str(link), {"a": 1})
    assert victim.read_text() == VICTIM_TEXT


def test_a_character_device_is_refused(tmp_path):
    if not os.path.exists("/dev/null") or not stat.S_ISCHR(os.stat("/dev/null").st_mode):
        pytest.skip("no /dev/null character device")
    with pytest.raises(NotRegularFileError, match="device"):
        write_json("/dev/null", {"a": 1})
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_tilde_in_out_is_one_folder_for_every_file(tmp_path, monkeypatch, fitted):
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    home.mkdir()
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("HOME", str(home))
    assert resolve_output_folder("~/fitx") == str(home / "fitx")
    result = invoke("fit", "camera", *TINY, "--out", "~/fitx")
    assert result.exit_code == 0, result.output
    for name in ("checkpoint.pt", "metrics.json", "reconstruction.png", LOCK_NAME):
        assert (home / "fitx" / name).exists(), name
    result = invoke("render", fitted, "--out", "~/fitx/r.png")
    assert result.exit_code == 0, result.output
    assert (home / "fitx" / "r.png").exists()
    assert not (cwd / "~").exists()


@pytest.fixture
def holder(tmp_path):
    folder = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(folder)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().strip() == "locked"
    yield folder, process
    process.kill()
    process.wait()


def test_deleting_the_lock_file_does_not_hand_the_folder_over(holder):
    folder, process = holder
    os.unlink(folder / LOCK_NAME)
    with pytest.raises(OutputFolderBusyError):
        with output_folder_lock(str(folder)):
            pass
    one_line_error(invoke("fit", "camera", *TINY, "--out", folder, "--resume"), "in use")
    assert not (folder / "metrics.json").exists()
