"""`coordnet classifier-spectrum` on a tiny synthetic image folder and tiny saved models."""

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from torch import nn

from coordnet.cli.classifier_spectrum import load_image_folder
from coordnet.cli.main import cli
from coordnet.signals import save_image


def write_images(root, classes=("cat", "dog", "owl"), per_class=3, size=(6, 5), channels=3, seed=0):
    rng = np.random.default_rng(seed)
    for name in classes:
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            shape = size + ((channels,) if channels > 1 else ())
            save_image(folder / f"{i}.png", rng.random(shape).astype(np.float32))
    return root


def tiny_model(classes=3):
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(3 * 6 * 5, 8), nn.Tanh(), nn.Linear(8, classes))


@pytest.fixture
def data(tmp_path):
    return write_images(tmp_path / "data")


@pytest.fixture
def pickled(tmp_path):
    path = tmp_path / "model.pt"
    torch.save(tiny_model(), path)
    return path


def run(*args):
    """The command with --trust-pickle: the fixtures' pickled modules are files we wrote."""
    return CliRunner().invoke(cli, ["classifier-spectrum", *map(str, args), "--trust-pickle"])


def test_pickled_module_writes_json_and_png(data, pickled, tmp_path):
    out = tmp_path / "out"
    result = run(pickled, data, "--pairs", 6, "--samples", 16, "--seed", 2, "--out", out)
    assert result.exit_code == 0, result.output
    assert "between-class centroid" in result.output and "within-class centroid" in result.output
    payload = json.loads((out / "classifier_spectrum.json").read_text())
    assert payload["classes"] == ["cat", "dog", "owl"]
    assert payload["settings"]["samples"] == 16 and payload["settings"]["num_pairs"] == 6
    assert len(payload["between"]["mean_power"]) == 9
    centroid = f"{payload['between']['centroid']:.3f}"
    assert centroid in result.output
    assert (out / "classifier_spectrum.png").stat().st_size > 0


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_torchscript_gives_the_same_numbers(data, pickled, tmp_path):
    script = tmp_path / "model.ts"
    torch.jit.save(torch.jit.script(tiny_model()), str(script))
    for model, out in ((pickled, tmp_path / "a"), (script, tmp_path / "b")):
        assert run(model, data, "--pairs", 5, "--samples", 8, "--out", out).exit_code == 0
    a = json.loads((tmp_path / "a" / "classifier_spectrum.json").read_text())
    b = json.loads((tmp_path / "b" / "classifier_spectrum.json").read_text())
    assert a["between"]["centroid"] == pytest.approx(b["between"]["centroid"], rel=1e-6)


def test_image_folder_layouts(data):
    x, y, classes = load_image_folder(str(data), "chw")
    assert x.shape == (9, 3, 6, 5) and y.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert load_image_folder(str(data), "hwc")[0].shape == (9, 6, 5, 3)
    assert load_image_folder(str(data), "flat")[0].shape == (9, 90)


@pytest.mark.parametrize(
    "case, message",
    [
        ("mismatched", "all images must have one size"),
        ("single", "single class"),
        ("empty", "no class subfolders"),
        ("empty_class", "holds no images"),
        ("identical", "identical"),
        ("state_dict", "state_dict"),
        ("missing_model", "does not exist"),
    ],
)
def test_bad_input_exits_nonzero_with_one_line(tmp_path, pickled, case, message):
    root = tmp_path / "bad"
    root.mkdir()
    model = pickled
    if case == "mismatched":
        write_images(root, classes=("a",), per_class=2)
        write_images(root, classes=("b",), per_class=2, size=(4, 5))
    elif case == "single":
        write_images(root, classes=("a",))
    elif case == "empty_class":
        write_images(root, classes=("a",))
        (root / "b").mkdir()
    elif case == "identical":
        for name in ("a", "b"):
            (root / name).mkdir()
            for i in range(2):
                save_image(
                    root / name / f"{i}.png",
                    np.full((6, 5, 3), 0.5 if name == "a" else 0.25, np.float32),
                )
    elif case == "state_dict":
        write_images(root)
        model = tmp_path / "weights.pt"
        torch.save(tiny_model().state_dict(), model)
    elif case == "missing_model":
        write_images(root)
        model = tmp_path / "nope.pt"
    result = run(model, root, "--pairs", 3, "--samples", 8, "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert message in result.output
    assert result.output.startswith("error:") and len(result.output.strip().splitlines()) == 1


def test_step_mode_and_untapered_window(data, pickled, tmp_path):
    out = tmp_path / "out"
    step = 0.05
    result = run(
        pickled,
        data,
        "--pairs",
        4,
        "--step",
        step,
        "--window",
        "none",
        "--layout",
        "chw",
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    payload = json.loads((out / "classifier_spectrum.json").read_text())
    assert payload["settings"]["step"] == step and payload["settings"]["window"] == "none"
    # The longest path has ceil(length / step) samples: its Nyquist bin lies within the range
    # given by the shortest and longest distances between any two images.
    x, _, _ = load_image_folder(str(data))
    distances = torch.pdist(x.reshape(len(x), -1).double())
    low, high = (int(np.ceil(float(d) / step)) // 2 + 1 for d in (distances.min(), distances.max()))
    assert low <= len(payload["between"]["mean_power"]) <= high and high > 9


def test_option_defaults_are_the_librarys():
    from coordnet.cli.classifier_spectrum import classifier_spectrum as command
    from coordnet.spectral import classifiers

    options = {p.name: p for p in command.params}
    assert options["samples"].default == classifiers.DEFAULT_SAMPLES
    assert options["window"].default == classifiers.DEFAULT_WINDOW
    assert sorted(options["window"].type.choices) == sorted(classifiers.WINDOWS)


@pytest.mark.parametrize(
    "option, value", [("--samples", 1_000_000_000), ("--pairs", 10**12), ("--chunk", 10**12)]
)
def test_sizes_beyond_memory_are_one_line_with_the_estimate(
    data, pickled, tmp_path, monkeypatch, option, value
):
    from coordnet.cli.classifier_spectrum import spectrum_bytes

    monkeypatch.setenv("COORDNET_MAX_MEMORY", str(2**30))
    args = {"--pairs": 6, "--samples": 16, "--chunk": 64, option: value}
    result = run(pickled, data, *[x for kv in args.items() for x in kv], "--out", tmp_path / "o")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: classifier-spectrum with --pairs")
    assert (
        f"{option} {value}" in lines[0] and "more than $COORDNET_MAX_MEMORY (1.0 GiB)" in lines[0]
    )
    parts = spectrum_bytes((3, 6, 5), 3, args["--pairs"], args["--samples"], args["--chunk"])
    assert parts["probabilities"] == 2 * args["--pairs"] * args["--samples"] * 3 * 8
    assert not (tmp_path / "o").exists()
