"""No input costs more than its estimate: large images are refused or reduced before decoding,
sizes and chunks are estimated before allocating, run counts are bounded before expanding, and
the Python API checks every size argument."""

import tracemalloc

import numpy as np
import pytest
import torch

from coordnet.memory_limit import LIMIT_VARIABLE, MemoryLimitError
from coordnet.signals import load_image
from coordnet.signals.synthetic import text_image
from coordnet.sweep.config import SweepFileError, parse_sweep

from .cli_helpers import TINY, invoke, one_line_error


@pytest.fixture(scope="module")
def large_png(tmp_path_factory):
    """A 4096 x 4096 grey PNG of a few KiB: stripes of period 8 (mean 1/8)."""
    import imageio.v3 as iio

    image = np.zeros((4096, 4096), np.uint8)
    image[::8] = 255
    path = tmp_path_factory.mktemp("large") / "stripes.png"
    iio.imwrite(path, image)
    return path


def test_the_memory_limit_applies_before_a_large_image_is_decoded(large_png, monkeypatch):
    monkeypatch.setenv(LIMIT_VARIABLE, str(10_000_000))
    with pytest.raises(MemoryLimitError, match="decoding image .*stripes.png.*4096x4096"):
        load_image(large_png, size=32)


def test_a_large_image_is_reduced_while_decoding(large_png):
    import skimage.transform  # noqa: F401 - imported before tracing: only the loading counts

    load_image(large_png, size=(2, 2))
    tracemalloc.start()
    try:
        signal = load_image(large_png, size=(32, 32))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert tuple(signal.values.shape) == (32, 32, 1)
    assert float(signal.values.mean()) == pytest.approx(1 / 8, abs=0.01)
    # no float copy of the 16.8 M decoded pixels (one would be 134 MB)
    assert peak < 32 * 1024 * 1024, peak


def test_text_and_render_sizes_are_estimated_before_allocating(
    monkeypatch, tmp_path, fitted_checkpoint
):
    monkeypatch.setenv(LIMIT_VARIABLE, str(100_000_000))
    with pytest.raises(MemoryLimitError, match="text image at 4000x4000"):
        text_image(4000)
    one_line_error(invoke("fit", "text", "--size", 4000, *TINY, "--out", tmp_path / "t"), "text")
    monkeypatch.setenv(LIMIT_VARIABLE, str(200_000_000))
    args = ("render", fitted_checkpoint, "--size", "2000x2000", "--out", tmp_path / "r.png")
    one_line_error(invoke(*args, "--chunk", 10**12), "--chunk", "one chunk")
    assert not (tmp_path / "r.png").exists()


def _grid_sweep(values: int, name: str = "big") -> str:
    grid = ", ".join(str(1 + i) for i in range(values))
    return (
        f'name = "{name}"\nimages = ["camera"]\nsteps = 2\n[[models]]\nspec = "pe+relu"\n'
        f"[models.grid]\nnum_frequencies = [{grid}]\nwidth = [{grid}]\ndepth = [{grid}]\n"
    )


def test_a_sweep_is_counted_before_it_is_expanded():
    with pytest.raises(SweepFileError, match=r"1,000,000 runs"):
        parse_sweep(_grid_sweep(100))


def test_a_sweep_name_is_checked_before_any_run():
    with pytest.raises(SweepFileError, match="printable characters"):
        parse_sweep(_grid_sweep(1, name="x" * 2_000_000))
    with pytest.raises(SweepFileError, match="printable characters"):
        parse_sweep(_grid_sweep(1, name="a\\u0007b"))


def test_compare_bounds_its_seed_count_before_training(monkeypatch, tmp_path):
    from coordnet.runs import compare as compare_module

    def no_training(*args, **kwargs):
        raise AssertionError("compare started training")

    monkeypatch.setattr(compare_module, "run_fit", no_training)
    one_line_error(
        invoke("compare", "camera", *TINY, "--seeds", 10**9, "--out", tmp_path / "c"),
        "1,000,000,000",
        "runs",
    )


def _net():
    return torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))


@pytest.mark.parametrize(
    "call, argument",
    [
        ("PositionalEncoding(in_dim=10**12)", "in_dim"),
        ("PositionalEncoding(in_dim=100_000, num_frequencies=10)", "in_dim=100,000"),
        ("BasicFourier(in_dim=10**12)", "in_dim"),
        ("build_model('relu', in_dim=10**12, out_dim=1)", "in_dim"),
        ("build_model('pe', in_dim=2, out_dim=10**12)", "out_dim"),
        ("ReluMLP(2, 1, width=10**12, depth=2)", "width=1,000,000,000,000"),
        ("Siren(2, 1, width=8, depth=10**12)", "depth"),
        ("region_density(_net(), 10**12)", "num_lines"),
        ("sample_pairs(10**12, 2)", "num_pairs"),
        ("radial_band_energy(torch.zeros(8, 8), num_bands=10**9)", "num_bands"),
        ("circle_ntk_eigenvalues(10**10, True)", "kmax"),
        ("sphere_ntk_eigenvalues(10**8, True)", "kmax"),
        ("text_image(10**6)", "text image at 1000000x1000000"),
        ("from_config('/dev/zero', 2)", "/dev/zero"),
    ],
)
def test_api_sizes_are_checked_before_allocating(call, argument):
    from coordnet.encoders import BasicFourier, PositionalEncoding  # noqa: F401
    from coordnet.encoders.config import from_config  # noqa: F401
    from coordnet.nets import ReluMLP, Siren, build_model  # noqa: F401
    from coordnet.regions import region_density, sample_pairs  # noqa: F401
    from coordnet.spectral import (  # noqa: F401
        circle_ntk_eigenvalues,
        radial_band_energy,
        sphere_ntk_eigenvalues,
    )

    with pytest.raises(ValueError) as raised:
        eval(call)
    assert argument in str(raised.value)
    assert len(str(raised.value).splitlines()) == 1
