"""Checkpoints prove their integrity: flipped bytes, malformed entries and mismatched weights
are one-line errors naming the file (and the entry or keys), in every command that loads one."""

import zipfile

import pytest
import torch

import coordnet
from coordnet.training.checkpoint import (
    CheckpointError,
    content_hash,
    load_checkpoint,
    save_checkpoint,
)

from .cli_helpers import TINY as BASE_TINY
from .cli_helpers import invoke, one_line_error

TINY = ("--size", "12", *BASE_TINY)


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    out = tmp_path_factory.mktemp("fit") / "run"
    result = invoke("fit", "camera", *TINY, "--out", out)
    assert result.exit_code == 0, result.output
    return out


def flip_tensor_byte(path, byte=0x10):
    """Flip one bit inside the largest tensor record of a torch zip file (not its pickle)."""
    with zipfile.ZipFile(path) as archive:
        records = [
            info for info in archive.infolist() if "/data/" in info.filename and info.file_size > 0
        ]
        info = max(records, key=lambda i: i.file_size)
    data = bytearray(path.read_bytes())
    with open(path, "rb") as handle:  # the record's data starts after its local header
        handle.seek(info.header_offset + 26)
        name_length, extra_length = (int.from_bytes(handle.read(2), "little") for _ in range(2))
    start = info.header_offset + 30 + name_length + extra_length
    data[start + info.file_size // 2] ^= byte
    path.write_bytes(bytes(data))


def test_a_flipped_bit_in_the_weights_is_refused_everywhere(fitted, tmp_path):
    copy = tmp_path / "run"
    copy.mkdir()
    path = copy / "checkpoint.pt"
    path.write_bytes((fitted / "checkpoint.pt").read_bytes())
    flip_tensor_byte(path)
    torch.load(path, weights_only=True)  # torch itself notices nothing
    with pytest.raises(CheckpointError, match="corrupt") as info:
        load_checkpoint(str(path))
    assert str(path) in str(info.value)
    with pytest.raises(CheckpointError, match="corrupt"):
        coordnet.load(str(path))
    one_line_error(invoke("render", path, "--out", tmp_path / "x.png"), "corrupt", str(path))
    one_line_error(invoke("regions", path, "--out", tmp_path / "r"), "corrupt", str(path))
    one_line_error(
        invoke("fit", "camera", *TINY, "--out", copy, "--resume"), "corrupt", "checkpoint.pt"
    )
    assert not (tmp_path / "x.png").exists() and not (tmp_path / "r").exists()


def test_the_hash_covers_values_keys_and_types():
    base = {"a": torch.arange(4.0), "b": [1, 2], "c": {"x": 1.5}}
    reference = content_hash(base)
    assert content_hash({**base}) == reference
    variants = [
        {**base, "a": torch.arange(4.0) + 1e-7},
        {**base, "a": torch.arange(4.0).double()},
        {**base, "b": (1, 2)},
        {**base, "c": {"x": 1.5, "y": None}},
        {**base, "b": [1, 3]},
        {**base, "a": torch.arange(4.0).reshape(2, 2)},
    ]
    assert len({content_hash(v) for v in variants} | {reference}) == len(variants) + 1


def _valid(fitted):
    document = load_checkpoint(str(fitted / "checkpoint.pt"))
    return {k: v for k, v in document.items() if k not in ("format", "version", "sha256")}


@pytest.mark.parametrize(
    "change, fragments",
    [
        (lambda d: d.pop("signal"), ["'signal'"]),
        (lambda d: d.update(signal={"kind": "image"}), ["'signal.shape'"]),
        (lambda d: d.update(signal={"kind": "image", "shape": [0, 3, 1]}), ["'signal.shape'"]),
        (lambda d: d.update(signal="camera"), ["'signal'", "dict"]),
        (lambda d: d["model_config"].update(in_dim=0), ["'model_config.in_dim'"]),
        (
            lambda d: d["model_config"].update(signal_domain=[[1, 0], [0, 1]]),
            ["'model_config.signal_domain'"],
        ),
        (lambda d: d["trainer"].update(model={"w": 3}), ["'trainer.model'"]),
        (
            lambda d: d["trainer"]["model"].update(extra=torch.zeros(2)),
            ["unexpected keys", "extra"],
        ),
        (lambda d: d["trainer"]["model"].pop(next(iter(d["trainer"]["model"]))), ["missing keys"]),
    ],
)
def test_malformed_checkpoints_are_one_line_errors_naming_the_entry(
    fitted, tmp_path, change, fragments
):
    document = _valid(fitted)
    change(document)
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(str(path), document)
    one_line_error(invoke("render", path, "--out", tmp_path / "x.png"), str(path), *fragments)


def test_mismatched_shapes_are_listed(fitted, tmp_path):
    document = _valid(fitted)
    key = next(k for k, v in document["trainer"]["model"].items() if v.dim() == 2)
    document["trainer"]["model"][key] = torch.zeros(3, 3)
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(str(path), document)
    with pytest.raises(CheckpointError, match=f"shape mismatches {key} \\(3, 3\\)"):
        coordnet.load(str(path))


def test_resume_names_a_missing_trainer_entry(fitted, tmp_path):
    document = _valid(fitted)
    del document["trainer"]["optimizer"]
    out = tmp_path / "run"
    out.mkdir()
    save_checkpoint(str(out / "checkpoint.pt"), document)
    one_line_error(invoke("fit", "camera", *TINY, "--out", out, "--resume"), "'trainer.optimizer'")
