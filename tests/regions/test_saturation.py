"""Region counts of nearly one region per sample are said: a warning from the API and the
regions probe, a verdict on the results, a field in region_counts.json."""

import json
import warnings

import pytest
import torch
from click.testing import CliRunner

import coordnet.regions as regions
from coordnet.cli.main import cli
from coordnet.nets import build_model
from coordnet.regions.saturation import SATURATION_FRACTION, saturation

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def wide():
    torch.manual_seed(0)
    return build_model("relu:width=256,depth=4", 2, 1)


def test_the_threshold_is_ninety_percent_of_the_samples():
    assert SATURATION_FRACTION == 0.9
    assert saturation(90, 100).saturated and not saturation(89, 100).saturated
    assert not saturation(0, 0).saturated and saturation(0, 0).advice == ""
    state = saturation(97, 100, in_dim=1)
    assert state.fraction == pytest.approx(0.97)
    assert "97 regions among 100 samples (97%)" in state.advice
    assert "finer grid" in state.advice and "exact_count_1d" in state.advice
    assert state.to_dict() == {
        "saturated": True,
        "regions_per_sample": 0.97,
        "advice": state.advice,
    }


def test_count_region_ids_and_map_warn_when_saturated(wide):
    points = torch.rand(64, 2, generator=torch.Generator().manual_seed(1))
    with pytest.warns(regions.RegionCountWarning, match="among 64 samples") as caught:
        count = regions.count_regions(wide, points)
    assert count >= 0.9 * 64 and caught[0].filename == __file__  # points at the caller
    with pytest.warns(regions.RegionCountWarning):
        ids = regions.region_ids(wide, points)
    assert ids.saturation.saturated and ids.saturation.regions == count
    with pytest.warns(regions.RegionCountWarning, match="too coarse"):
        grid = regions.region_map(wide, (8, 8))
    assert grid.saturation.saturated and grid.saturation.samples == 64


def test_a_fine_enough_grid_is_silent(wide):
    narrow = build_model("relu:width=8,depth=1", 2, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", regions.RegionCountWarning)
        result = regions.region_map(narrow, (64, 64))
    assert not result.saturation.saturated and result.saturation.advice == ""


def test_the_regions_probe_records_saturation(tmp_path):
    out = tmp_path / "fit"
    args = ["fit", "camera", "--size", 8, "-m", "relu:width=256,depth=3", "--steps", 2]
    args += ["--eval-every", 2, "--quiet", "--probe", "regions", "--probe-every", 1, "--out", out]
    result = CliRunner().invoke(cli, [str(a) for a in args], prog_name="coordnet")
    assert result.exit_code == 0, result.output
    assert "warning: RegionCountWarning: 64 regions among 64 samples" in result.stderr
    record = json.loads((out / "region_counts.json").read_text())
    assert record["saturated"] is True and record["counts"][-1] >= 0.9 * 64
    assert record["saturation_advice"].startswith(f"{record['counts'][-1]} regions among 64")
