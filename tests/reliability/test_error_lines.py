"""Errors that say what is wrong, in one line: files, keys and problems named; warnings raised
before an error folded into its line; untrusted model files never unpickled by default."""

import struct
import subprocess
import sys

import numpy as np
import pytest
import torch

from coordnet.training.checkpoint import HASH_KEY, load_checkpoint, save_checkpoint

from .cli_helpers import TINY, invoke, one_line_error

QUICK = ("--size", "12", *TINY)


def _float_wav(path, samples) -> None:
    """A mono 32-bit float WAV (format 3) holding ``samples``."""
    data = np.asarray(samples, "<f4").tobytes()
    fmt = struct.pack("<HHIIHH", 3, 1, 8000, 32000, 4, 32)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


def test_a_wav_error_without_a_message_names_the_file(tmp_path, monkeypatch):
    from coordnet.signals import audio

    def silent_failure(path):
        raise RuntimeError()

    monkeypatch.setattr(audio, "_read_wave", silent_failure)
    monkeypatch.setattr(audio, "_read_scipy", silent_failure)
    path = tmp_path / "text.wav"
    path.write_text("just some text\n")
    line = one_line_error(invoke("fit", path, *TINY, "--out", tmp_path / "o"), str(path))
    assert line.strip() != "error: RuntimeError"


def test_an_error_without_a_message_says_where_it_was_raised(tmp_path, monkeypatch):
    from coordnet.cli.errors import one_line

    try:
        raise RuntimeError()
    except RuntimeError as error:
        assert "RuntimeError without a message, raised at test_error_lines.py" in one_line(error)


def test_non_finite_wav_samples_are_refused(tmp_path):
    from coordnet.signals import load_audio

    for value in (np.inf, -np.inf, np.nan):
        path = tmp_path / "bad.wav"
        _float_wav(path, [0.1, value, -0.2])
        with pytest.raises(ValueError, match="NaN or infinite"):
            load_audio(path)
    one_line_error(invoke("fit", path, *TINY, "--out", tmp_path / "o"), "NaN or infinite")


def test_an_empty_or_blank_model_spec_is_an_error(tmp_path):
    for spec in ("", "   "):
        one_line_error(invoke("fit", "camera", *QUICK[:2], "-m", spec, "--out", tmp_path / "o"))
    assert not (tmp_path / "o" / "metrics.json").exists()


@pytest.mark.parametrize(
    "content, problem",
    [
        ("[encoder]\ntype = 'pe'\nx = " + "[" * 3000 + "]" * 3000 + "\n", "nested too deeply"),
        ("[encoder]\ntype = 'pe'\n[net]\ntype = 'relu'\n".encode("utf-16"), "not UTF-8"),
        (bytes(range(256)), "not UTF-8"),
    ],
)
def test_unreadable_spec_files_are_named_with_their_problem(tmp_path, content, problem):
    path = tmp_path / "spec.toml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    one_line_error(
        invoke("fit", "camera", *QUICK[:2], "-m", path, "--out", tmp_path / "o"), str(path), problem
    )


def test_a_nested_sweep_file_is_named(tmp_path):
    from coordnet.sweep.config import load_sweep

    path = tmp_path / "deep.toml"
    path.write_text("name = " + "[" * 3000 + "]" * 3000 + "\n")
    with pytest.raises(ValueError, match="nested too deeply"):
        load_sweep(path)


def test_a_checkpoint_of_a_four_dimensional_image_names_the_entry(tmp_path, fitted_checkpoint):
    document = load_checkpoint(str(fitted_checkpoint))
    document["signal"] = {**document["signal"], "shape": [2, 2, 2, 1]}
    path = tmp_path / "four.pt"
    save_checkpoint(
        str(path), {k: v for k, v in document.items() if k not in ("format", "version", HASH_KEY)}
    )
    line = one_line_error(invoke("render", path, "--out", tmp_path / "r.png"), str(path))
    assert "signal.shape" in line and "a image" not in line


def test_a_full_disk_during_a_checkpoint_says_so(tmp_path, monkeypatch):
    import os

    from coordnet import atomic

    def full(*args, **kwargs):
        raise RuntimeError(
            "[enforce fail at inline_container.cc:672] . PytorchStreamWriter failed writing file "
            "data/0: file write failed"
        )

    class Statvfs:
        f_bavail, f_frsize = 0, 4096

    monkeypatch.setattr(torch, "save", full)
    monkeypatch.setattr(os, "statvfs", lambda path: Statvfs())
    path = tmp_path / "checkpoint.pt"
    with pytest.raises(OSError, match="no space left") as raised:
        save_checkpoint(str(path), {"a": 1})
    assert str(path) in str(raised.value) and "enforce fail" not in str(raised.value)
    assert not path.exists() and not list(tmp_path.iterdir())
    assert atomic.NEARLY_FULL > 0


@pytest.mark.slow
def test_a_warning_before_an_error_is_folded_into_its_line(tmp_path):
    """In a fresh process (pytest records warnings itself): stderr holds the error line only."""
    path = tmp_path / "huge.npy"
    np.save(path, np.array([0.0, 1e300, 2.0]))
    script = (
        "import sys\nfrom coordnet.cli.main import cli\ncli(sys.argv[1:], prog_name='coordnet')\n"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-W",
            "default",
            "-c",
            script,
            "fit",
            str(path),
            *TINY,
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert str(path) in lines[0] and "overflow" in lines[0]


def test_warnings_of_a_failing_command_are_folded_and_of_a_passing_one_printed(monkeypatch):
    import warnings

    import click
    from click.testing import CliRunner

    from coordnet.cli.errors import friendly_errors

    @click.command()
    @click.option("--fail", is_flag=True)
    @friendly_errors
    def command(fail):
        warnings.warn("this checkpoint looks odd", UserWarning, stacklevel=1)
        if fail:
            raise ValueError("checkpoint 'x.pt' is corrupt")
        click.echo("done")

    failed = CliRunner().invoke(command, ["--fail"])
    assert failed.exit_code == 1
    assert failed.stderr.strip() == (
        "error: checkpoint 'x.pt' is corrupt (after UserWarning: this checkpoint looks odd)"
    )
    passed = CliRunner().invoke(command, [])
    assert passed.exit_code == 0
    assert passed.stdout == "done\n"
    assert passed.stderr.strip() == "warning: UserWarning: this checkpoint looks odd"


class _Payload:
    """Unpickling it creates the file ``marker`` (as arbitrary code would)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _image_folder(root):
    from coordnet.signals import save_image

    rng = np.random.default_rng(0)
    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
        for i in range(2):
            save_image(root / name / f"{i}.png", rng.random((4, 4, 3)).astype(np.float32))
    return root


def test_classifier_spectrum_never_unpickles_without_trust_pickle(tmp_path):
    marker = tmp_path / "payload-ran"
    model = tmp_path / "model.pt"
    torch.save(_Payload(str(marker)), model)
    data = _image_folder(tmp_path / "data")
    line = one_line_error(
        invoke("classifier-spectrum", model, data, "--out", tmp_path / "o"), str(model)
    )
    assert "--trust-pickle" in line and not marker.exists()
    help_text = invoke("classifier-spectrum", "--help").output
    assert "--trust-pickle" in help_text and "runs code" in " ".join(help_text.split())


class _NaNClassifier(torch.nn.Module):
    def forward(self, x):
        return torch.full((x.shape[0], 2), float("nan"))


def test_a_classifier_that_outputs_nan_is_named(tmp_path):
    model = tmp_path / "nan.ts"
    torch.jit.save(torch.jit.script(_NaNClassifier()), str(model))
    data = _image_folder(tmp_path / "data")
    line = one_line_error(
        invoke(
            "classifier-spectrum",
            model,
            data,
            "--pairs",
            2,
            "--samples",
            4,
            "--out",
            tmp_path / "o",
        ),
        str(model),
        "NaN",
    )
    assert "Out of range float" not in line
