"""`coordnet regions`: counts, maps and JSON of untrained (--init) and fitted (checkpoint) models, and its errors."""

import json

import imageio.v3 as iio
import numpy as np
import pytest
import torch
from click.testing import CliRunner

import coordnet
from coordnet.cli.main import cli
from coordnet.cli.regions import parse_bytes, parse_grid_size
from coordnet.nets import build_model
from coordnet.plots.regions import (
    boundary_image,
    map_title,
    montage,
    region_colours,
    region_image,
    strip_rows,
)
from coordnet.regions import count_regions
from coordnet.signals import load_signal

SPEC = "relu:width=12,depth=2"


pytestmark = pytest.mark.usefixtures("one_thread")


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], prog_name="coordnet")


def assert_one_line_error(result, *fragments, exit_code=1):
    assert result.exit_code == exit_code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert "Traceback" not in result.output


def grid_points(shape, low=0.0, high=1.0):
    """Row-major points of a half-open grid, written out independently of coordnet.regions."""
    axes = [low + (high - low) * torch.arange(n, dtype=torch.float64) / n for n in shape]
    mesh = torch.meshgrid(*axes, indexing="ij")
    return torch.stack([m.reshape(-1) for m in mesh], dim=1).float()


def dense_reference(model, points):
    """(inverse ids numbered by first occurrence, count): a plain forward pass over the net's Linear/ReLU layers."""
    with torch.no_grad():
        h = model.map_coordinates(points)
        if model.encoder is not None:
            h = model.encoder(h)
        bits = []
        layers = list(model.net.layers)
        for linear, activation in zip(layers[0::2], layers[1::2]):
            if not isinstance(activation, torch.nn.ReLU):
                break
            z = linear(h)
            bits.append(z > 0)
            h = torch.relu(z)
    patterns = torch.cat(bits, dim=1)
    _, inverse = torch.unique(patterns, dim=0, return_inverse=True)
    # renumber by first occurrence
    order = {}
    renumbered = torch.tensor([order.setdefault(int(v), len(order)) for v in inverse])
    return renumbered, len(order)


def test_init_writes_consistent_outputs(tmp_path):
    out = tmp_path / "init"
    result = invoke("regions", "--init", SPEC, "--seed", 3, "--size", "24x16", "--out", out)
    assert result.exit_code == 0, result.output
    assert not (out / ".coordnet.lock").exists()  # a lock file only in resumable folders
    record = json.loads((out / "regions.json").read_text())

    torch.manual_seed(3)
    model = build_model(SPEC, in_dim=2, out_dim=1)
    points = grid_points((16, 24))  # 16 rows, 24 columns
    ids, count = dense_reference(model, points)
    assert record["regions"] == count == count_regions(model, points)
    assert count > 5  # a non-trivial map
    assert f"{count} activation regions" in result.stdout and "24x16 grid" in result.stdout
    assert record["grid"] == {
        "shape": [16, 24],
        "size": "24x16",
        "samples": 384,
        "domain": [[0.0, 1.0], [0.0, 1.0]],
    }
    assert (
        record["model"]["spec"] == SPEC
        and record["model"]["source"] == "init"
        and record["model"]["seed"] == 3
    )
    assert record["model"]["hidden_widths"] == [12, 12] and record["model"]["hidden_units"] == 24
    sizes = torch.bincount(ids)
    assert record["region_sizes"]["max"] == int(sizes.max()) and record["region_sizes"][
        "min"
    ] == int(sizes.min())
    assert record["region_sizes"]["single_sample_regions"] == int((sizes == 1).sum())
    assert record["region_sizes"]["mean"] == pytest.approx(384 / count)

    # the maps' pixels: the colour of each sample's region (ids by first occurrence, row-major)
    expected = region_colours(count, seed=0)[ids.numpy()].reshape(16, 24, 3)
    np.testing.assert_array_equal(region_image(ids.reshape(16, 24)), expected)
    # boundaries: black where a grid neighbour (up/down/left/right) lies in another region
    grid_ids = ids.reshape(16, 24)
    boundary = torch.zeros(16, 24, dtype=torch.bool)
    for axis in (0, 1):
        differs = grid_ids.diff(dim=axis) != 0
        if axis == 0:
            boundary[1:] |= differs
            boundary[:-1] |= differs
        else:
            boundary[:, 1:] |= differs
            boundary[:, :-1] |= differs
    np.testing.assert_array_equal(boundary_image(boundary) == 0, boundary.numpy())
    assert record["boundary_fraction"] == pytest.approx(float(boundary.float().mean()))
    # the PNGs are figures of those maps on the grid's axes (rendered larger than the grid)
    for name in ("regions.png", "boundaries.png"):
        figure = iio.imread(out / name)
        assert figure.shape[0] > 100 and figure.shape[1] > 100
    assert record["saturated"] is False and record["saturation_advice"] is None
    assert "warning" not in result.output

    again = tmp_path / "again"
    assert (
        invoke("regions", "--init", SPEC, "--seed", 3, "--size", "24x16", "--out", again).exit_code
        == 0
    )
    assert (again / "regions.png").read_bytes() == (
        out / "regions.png"
    ).read_bytes()  # seeded colours


def test_init_in_1d_and_3d_and_domain(tmp_path):
    result = invoke(
        "regions", "--init", SPEC, "--in-dim", 1, "--size", 100, "--out", tmp_path / "line"
    )
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "line" / "regions.json").read_text())
    torch.manual_seed(0)
    model = build_model(SPEC, in_dim=1, out_dim=1)
    assert record["regions"] == count_regions(model, grid_points((100,)))
    assert iio.imread(tmp_path / "line" / "regions.png").shape[2] in (3, 4)

    result = invoke(
        "regions",
        "--init",
        SPEC,
        "--in-dim",
        3,
        "--size",
        "6x5x4",
        "--domain=-1,1",
        "--out",
        tmp_path / "vol",
    )
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "vol" / "regions.json").read_text())
    torch.manual_seed(0)
    model = build_model(SPEC, in_dim=3, out_dim=1)
    assert record["grid"]["shape"] == [4, 5, 6] and record["grid"]["domain"] == [[-1.0, 1.0]] * 3
    assert record["regions"] == count_regions(model, grid_points((4, 5, 6), -1.0, 1.0))


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("regions_fits")
    fits = {
        "relu": "gauss:num_frequencies=8+relu:width=16,depth=1",
        "siren": "siren:width=8,depth=1",
    }
    for name, spec in fits.items():
        result = invoke(
            "fit",
            "camera",
            "--size",
            16,
            "-m",
            spec,
            "--steps",
            3,
            "--eval-every",
            3,
            "--split",
            "full",
            "--quiet",
            "--out",
            root / name,
        )
        assert result.exit_code == 0, result.output
    return root


def test_checkpoint_defaults_to_the_fitted_grid_and_folder(checkpoints):
    path = checkpoints / "relu" / "checkpoint.pt"
    result = invoke("regions", path, "--chunk", 50)
    assert result.exit_code == 0, result.output
    record = json.loads((checkpoints / "relu" / "regions.json").read_text())
    model = coordnet.load(str(path))
    points, _ = load_signal("camera", size=16).flat()  # the fitted signal's pixel coordinates
    _, count = dense_reference(
        model, points
    )  # the encoder applied inside, patterns over the pixel grid
    assert record["regions"] == count == count_regions(model, points)
    assert record["grid"]["shape"] == [16, 16]
    assert record["model"]["source"] == "checkpoint" and record["model"]["steps"] == 3
    assert record["model"]["input_map"] == "GaussianFourierFeatures"
    assert record["chunk"] == 50
    assert iio.imread(checkpoints / "relu" / "regions.png").shape[0] > 16
    assert iio.imread(checkpoints / "relu" / "boundaries.png").shape[0] > 16


@pytest.mark.parametrize(
    "args, fragments, exit_code",
    [
        (["{siren}"], ["not a ReLU network", "Siren", "not nn.ReLU"], 1),
        (["{tmp}/missing.pt"], ["checkpoint", "missing.pt", "does not exist"], 1),
        (["--init", SPEC, "--size", "12x"], ["--size", "'12x'"], 1),
        (["--init", SPEC, "--size", "0"], ["--size", "'0'"], 1),
        (["--init", SPEC, "--size", "4x4x4"], ["--size", "2 input dimension", "'4x4x4'"], 1),
        (
            ["--init", SPEC, "--size", 3000, "--max-memory", "1MiB"],
            ["needs about", "max_memory=1.0 MiB", "coarser grid"],
            1,
        ),
        (["--init", SPEC, "--max-memory", "lots"], ["--max-memory", "'lots'"], 1),
        (["--init", SPEC, "--domain", "1,0"], ["--domain", "'1,0'"], 1),
        (["--init", SPEC, "--in-dim", 4], ["--in-dim", "4"], 1),
        (["--init", "nosuchnet"], ["unknown encoder or net 'nosuchnet'"], 1),
        (["--init", SPEC, "--device", "banana"], ["--device", "'banana' is not a device"], 2),
        ([], ["give a CHECKPOINT or --init SPEC"], 2),
        (["{tmp}/x.pt", "--init", SPEC], ["not both"], 2),
    ],
)
def test_errors_are_one_line_and_write_nothing(checkpoints, tmp_path, args, fragments, exit_code):
    args = [
        str(a).format(tmp=tmp_path, siren=checkpoints / "siren" / "checkpoint.pt") for a in args
    ]
    result = invoke("regions", *args, "--out", tmp_path / "out")
    assert_one_line_error(result, *fragments, exit_code=exit_code)
    assert not (tmp_path / "out").exists()
    assert not (checkpoints / "siren" / "regions.json").exists()


@pytest.mark.parametrize(
    "in_dim, size, finer, exact",
    [(2, "12x8", "--size 48x32", False), (1, "40", "--size 160", True)],
)
def test_a_grid_too_coarse_to_count_is_said_in_json_stderr_and_titles(
    tmp_path, in_dim, size, finer, exact
):
    out = tmp_path / "coarse"
    wide = "relu:width=256,depth=4"
    result = invoke("regions", "--init", wide, "--in-dim", in_dim, "--size", size, "--out", out)
    assert result.exit_code == 0, result.output
    record = json.loads((out / "regions.json").read_text())
    samples = record["grid"]["samples"]
    assert record["regions"] >= 0.9 * samples and record["saturated"] is True
    warning = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warning) == 1 and warning[0] == f"warning: {record['saturation_advice']}"
    assert f"{record['regions']} regions among {samples} samples" in warning[0]
    assert "too coarse" in warning[0] and finer in warning[0]
    assert ("exact_count_1d" in warning[0]) == exact


def test_map_titles_give_the_count():
    assert map_title(7, (16, 24)) == "7 regions among 384 samples (24x16 grid)"
    assert (
        map_title(7, (10,), "relu", "coarse")
        == "relu: 7 regions among 10 samples (10 grid)\ncoarse"
    )


def test_size_and_memory_parsing():
    assert parse_grid_size("512", 2) == (512, 512)
    assert parse_grid_size("640x480", 2) == (480, 640)
    assert parse_grid_size("7 X 5 x 3", 3) == (3, 5, 7)
    assert parse_grid_size("9", 1) == (9,)
    for bad, dim in (("", 2), ("x4", 2), ("4x4", 1), ("-4", 2), ("4.5", 2)):
        with pytest.raises(ValueError, match="--size"):
            parse_grid_size(bad, dim)
    assert parse_bytes("100") == 100
    assert parse_bytes("2GiB") == parse_bytes("2g") == 2 * 2**30
    assert parse_bytes("1.5M") == 3 * 2**19
    assert parse_bytes("3MB") == 3_000_000
    for bad in ("", "0", "1 parsec", "-5M"):
        with pytest.raises(ValueError, match="--max-memory"):
            parse_bytes(bad)


def test_region_images_layout():
    ids = torch.tensor([[0, 0, 1], [2, 1, 1]])
    colours = region_colours(3, seed=5)
    np.testing.assert_array_equal(region_image(ids, seed=5), colours[ids.numpy()])
    assert region_colours(3, seed=5).tolist() == colours.tolist()
    assert region_colours(3, seed=6).tolist() != colours.tolist()
    assert colours.min() >= 48  # no near-black region next to black boundaries

    line = region_image(torch.tensor([0, 1, 1, 2]))
    assert (
        line.shape == (strip_rows(4), 4, 3) and (line == line[:1]).all()
    )  # the line repeated down the rows

    volume = torch.arange(5 * 2 * 3).reshape(5, 2, 3) % 7
    tiles = montage(volume.numpy(), -1)  # 5 slices: 3 columns x 2 rows of 2x3 tiles, gaps of 2
    assert tiles.shape == (2 * 2 + 2, 3 * 3 + 2 * 2)
    np.testing.assert_array_equal(tiles[:2, :3], volume[0])
    np.testing.assert_array_equal(tiles[:2, 5:8], volume[1])
    np.testing.assert_array_equal(tiles[4:6, 5:8], volume[4])
    assert (tiles[2:4] == -1).all() and (tiles[4:6, 10:] == -1).all()
    assert region_image(volume).shape == tiles.shape + (3,)

    edges = boundary_image(torch.tensor([[True, False], [False, False]]))
    assert edges.tolist() == [[0, 255], [255, 255]]
    with pytest.raises(ValueError, match="ids"):
        region_image(torch.tensor([-1, 0]))


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_device_without_cuda_is_a_clear_error(tmp_path):
    result = invoke(
        "regions", "--init", SPEC, "--size", 8, "--device", "cuda", "--out", tmp_path / "out"
    )
    assert_one_line_error(result, "--device", "CUDA is not available", exit_code=2)
    assert not (tmp_path / "out").exists()
