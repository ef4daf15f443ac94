"""Sweep files: parsing, validation errors naming key and line, expansion and run hashes."""

import itertools
import json

import numpy as np
import pytest

from coordnet.signals import save_image
from coordnet.sweep import SweepFileError, config_hash, expand, load_sweep, parse_sweep
from coordnet.sweep.config import key_line

SWEEP = """\
name = "grid"
images = ["camera"]
size = 32
steps = 20
seeds = [0, 1]

[[models]]
spec = "gauss:num_frequencies=16+relu:width=32,depth=2"
name = "gauss"
[models.grid]
sigma = [1, 2, 4]
width = [16, 32]

[[models]]
spec = "pe:num_frequencies=4"
"""


def test_expansion_is_the_cartesian_product():
    sweep = parse_sweep(SWEEP, "grid.toml")
    runs = expand(sweep)
    assert len(runs) == 1 * (3 * 2 + 1) * 2
    gauss = [r for r in runs if r.model == "gauss"]
    combos = {(r.params["sigma"], r.params["net.width"], r.seed) for r in gauss}
    assert combos == set(itertools.product([1, 2, 4], [16, 32], [0, 1]))
    for run in gauss:
        assert run.config["spec"]["encoder"] == {
            "type": "gauss",
            "num_frequencies": 16,
            "sigma": float(run.params["sigma"]),
        }
        assert run.config["spec"]["net"]["width"] == run.params["net.width"]
        assert run.config["train"]["lr"] == 1e-3 and run.config["train"]["steps"] == 20
    pe = [r for r in runs if r.model != "gauss"]
    assert [r.model for r in pe] == ["pe:num_frequencies=4"] * 2 and pe[0].params == {}
    assert len({r.hash for r in runs}) == len(runs)


def test_hash_is_stable_and_covers_the_full_config():
    runs = expand(parse_sweep(SWEEP, "grid.toml"))
    again = expand(parse_sweep(SWEEP.replace('name = "grid"', 'name = "other"'), "x.toml"))
    assert [r.hash for r in runs] == [r.hash for r in again]  # the sweep's name is no part of a run
    config = runs[0].config
    assert runs[0].hash == config_hash(json.loads(json.dumps(config)))
    reordered = dict(reversed(list(config.items())))
    assert config_hash(reordered) == runs[0].hash
    changed = json.loads(json.dumps(config))
    changed["train"]["eval_every"] += 1
    assert config_hash(changed) != runs[0].hash
    longer = expand(parse_sweep(SWEEP.replace("steps = 20", "steps = 21"), "grid.toml"))
    assert not {r.hash for r in longer} & {r.hash for r in runs}


def test_images_folders_and_relative_paths(tmp_path):
    folder = tmp_path / "pictures"
    folder.mkdir()
    for name in ("b.png", "a.png"):
        save_image(folder / name, np.zeros((8, 8, 3), np.float32))
    (folder / "notes.txt").write_text("not an image")
    path = tmp_path / "sweep.toml"
    path.write_text(
        'images = ["pictures", "text"]\nsteps = 5\nseeds = 3\n[[models]]\nspec = "relu"\n'
    )
    sweep = load_sweep(path)
    assert [i.source for i in sweep.images] == [
        str(folder / "a.png"),
        str(folder / "b.png"),
        "text",
    ]
    assert [i.group for i in sweep.images] == ["pictures", "pictures", "text"]
    assert sweep.seeds == [0, 1, 2] and sweep.split == "tancik"
    assert len(expand(sweep)) == 9


@pytest.mark.parametrize(
    "text, key, line, words",
    [
        (SWEEP.replace("steps = 20", 'steps = "many"'), "steps", 4, "integer"),
        (SWEEP.replace("sigma = [1, 2, 4]", "sigma = 3"), "models[0].grid.sigma", 11, "list"),
        (
            SWEEP.replace("sigma = [1, 2, 4]", "omega = [1, 2]"),
            "models[0].grid.omega",
            11,
            "not a key",
        ),
        (
            SWEEP.replace("sigma = [1, 2, 4]", 'sigma = [1, "big"]'),
            "models[0].grid.sigma",
            11,
            "'big'",
        ),
        (
            SWEEP.replace('spec = "pe:num_frequencies=4"', 'spec = "pe:nope=4"'),
            "models[1].spec",
            15,
            "nope",
        ),
        (SWEEP.replace("seeds = [0, 1]", "seeds = [0, 0]"), "seeds", 5, "twice"),
        (SWEEP + "lr = -1\n", "models[1].lr", 16, "positive"),
        (SWEEP.replace("size = 32", "sise = 32"), "sise", 3, "unknown key"),
        (
            SWEEP.replace('images = ["camera"]', 'images = ["no/such/file.png"]'),
            "images[0]",
            2,
            "no/such/file.png",
        ),
        (
            SWEEP.replace('name = "gauss"', 'name = "pe:num_frequencies=4"'),
            "models[1].name",
            14,
            "two models",
        ),
    ],
)
def test_malformed_sweep_names_key_and_line(tmp_path, text, key, line, words):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(SweepFileError) as info:
        load_sweep(path)
    message = str(info.value)
    assert f"line {line}:" in message and f"key {key!r}" in message and words in message
    assert str(path) in message


@pytest.mark.parametrize(
    "device, words",
    [
        ("gpu", "is not a device"),
        ("cuda:x", "is not a device"),
        ("meta", "cpu or cuda"),
        ("", "non-empty string"),
    ],
)
def test_malformed_device_names_key_and_line(device, words):
    text = SWEEP.replace("seeds = [0, 1]\n", f"seeds = [0, 1]\ndevice = {device!r}\n")
    with pytest.raises(SweepFileError) as info:
        parse_sweep(text, "s.toml")
    message = str(info.value)
    assert (
        "sweep file s.toml, line 6:" in message and "key 'device'" in message and words in message
    )


@pytest.mark.parametrize("device", ["cpu", "cuda", "cuda:1"])
def test_device_of_a_valid_form_is_kept(device):
    # whether this machine has the device is checked when the runs start, not when the file is read
    text = SWEEP.replace("seeds = [0, 1]\n", f"seeds = [0, 1]\ndevice = {device!r}\n")
    assert parse_sweep(text, "s.toml").device == device


def test_toml_syntax_error_and_missing_keys(tmp_path):
    with pytest.raises(SweepFileError, match=r"not valid TOML.*line 4"):
        parse_sweep(SWEEP.replace("steps = 20", "steps = = 20"), "s.toml")
    with pytest.raises(SweepFileError, match="missing key 'models'"):
        parse_sweep('images = ["camera"]\nsteps = 3\n', "s.toml")
    with pytest.raises(SweepFileError, match="cannot read"):
        load_sweep(tmp_path / "absent.toml")


def test_key_line_follows_tables_and_arrays():
    text = 'a = 1\n[[m]]\nx = 1\n[[m]]\nx = 2\n[m.g]\ny = [1]\n"z" = 3\n'
    assert key_line(text, ("a",)) == 1
    assert key_line(text, ("m", 0, "x")) == 3
    assert key_line(text, ("m", 1, "x")) == 5
    assert key_line(text, ("m", 1, "g", "y")) == 7
    assert key_line(text, ("m", 1, "g", "y", 0)) == 7
    assert key_line(text, ("m", 1, "g", "z")) == 8
    assert key_line(text, ("m", 1, "g", "w")) == 6  # absent: its table's header
    assert key_line(text, ("b",)) is None


def test_shipped_tancik_sweep_parses(tmp_path, monkeypatch):
    from coordnet.sweep.config import shipped_sweep

    path = shipped_sweep("tancik2020_sigma")
    monkeypatch.delenv("TANCIK2020_DATA", raising=False)
    with pytest.raises(SweepFileError, match=r"line \d+: key 'images\[0\]'.*TANCIK2020_DATA"):
        load_sweep(path)
    for name in ("div2k", "text"):
        (tmp_path / name / "train").mkdir(parents=True)
        save_image(tmp_path / name / "train" / "00.png", np.zeros((8, 8, 3), np.float32))
    monkeypatch.setenv("TANCIK2020_DATA", str(tmp_path))
    sweep = load_sweep(path)
    assert [i.group for i in sweep.images] == [
        "$TANCIK2020_DATA/div2k/train",
        "$TANCIK2020_DATA/text/train",
    ]
    assert len(expand(sweep)) == 2 * 6
    assert load_sweep(path, overrides={"images": ["camera"], "steps": 7}).steps == 7
    (gauss,) = sweep.models
    assert gauss.grid[("encoder", "sigma")] == [9, 10, 11, 13, 14, 15]  # the narrow search grid
    assert gauss.spec.encoder_args["num_frequencies"] == 256
    assert gauss.spec.net_args == {"width": 256, "depth": 3}
    assert sweep.split == "tancik" and sweep.steps == 2000
