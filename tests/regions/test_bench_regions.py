"""scripts/bench_regions.py at a tiny size: the three methods agree and the table is produced."""

import importlib.util
import json
from pathlib import Path

import pytest
import torch

from coordnet.regions import count_regions

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_regions.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_regions", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reference_patterns_and_counts(bench):
    net, points = bench.make_problem(
        20, 70, 2
    )  # 70 units per layer: patterns span two 64-bit words
    assert points.shape == (400, 2)
    patterns = bench.reference_forward(net, points, chunk=33)
    with torch.no_grad():
        z1 = net.layers[0](points)
        z2 = net.layers[2](torch.relu(z1))
    torch.testing.assert_close(patterns, torch.cat([z1 > 0, z2 > 0], dim=1), rtol=0, atol=0)
    expected = torch.unique(patterns, dim=0).shape[0]
    assert (
        bench.reference_count(net, points, 33) == bench.coordnet_count(net, points, 33) == expected
    )
    assert expected == count_regions(net, points)
    assert bench.floor_forward(net, points, 33) == 0


def test_main_writes_rows(bench, tmp_path, capsys):
    rows_path = tmp_path / "rows.json"
    code = bench.main(
        [
            "--size",
            "16",
            "--widths",
            "8,16",
            "--depth",
            "2",
            "--repeats",
            "1",
            "--threads",
            "1",
            "--no-memory",
            "--json",
            str(rows_path),
        ]
    )
    assert code == 0
    rows = json.loads(rows_path.read_text())
    assert [r["width"] for r in rows] == [8, 16]
    for r in rows:
        assert r["counts_agree"] and r["reference_count"] == r["coordnet_count"] >= 1
        assert r["n"] == 256 and r["coordnet_seconds"] > 0 and r["floor_seconds"] > 0
        assert r["coordnet_over_floor"] == pytest.approx(r["coordnet_seconds"] / r["floor_seconds"])
    table = capsys.readouterr().out
    assert "| width | count (a) | count (b) |" in table and "(b)/(c)" in table


@pytest.mark.slow
def test_peak_memory_in_subprocesses(bench, tmp_path):
    rows_path = tmp_path / "rows.json"
    assert (
        bench.main(
            [
                "--size",
                "64",
                "--widths",
                "64",
                "--depth",
                "2",
                "--repeats",
                "1",
                "--threads",
                "1",
                "--json",
                str(rows_path),
            ]
        )
        == 0
    )
    (row,) = json.loads(rows_path.read_text())
    dense_bools = 64 * 64 * 128  # the reference's (N, units) bool matrix alone
    assert row["reference_peak_bytes"] >= dense_bools
    assert 0 <= row["coordnet_peak_bytes"] and 0 <= row["floor_peak_bytes"]
