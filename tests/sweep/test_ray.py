"""The Ray backend on a local Ray instance (``ray.init(num_cpus=2)``)."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

from coordnet.sweep import Run, config_hash, expand, parse_sweep, run_sweep, write_results
from coordnet.sweep.run import ERROR, RESULT, run_directory

SWEEP = """\
images = ["camera"]
size = 32
steps = 20
seeds = [0, 1]

[[models]]
spec = "gauss:num_frequencies=16,sigma=4+relu:width=32,depth=2"

[[models]]
spec = "relu:width=32,depth=2"
[models.grid]
"net.depth" = [2]
"""


def test_ray_sweep_on_a_local_instance(tmp_path):
    ray = pytest.importorskip(
        "ray", reason="the Ray backend needs the ray extra: pip install 'coordnet[ray]'"
    )
    runs = expand(parse_sweep(SWEEP, "ray.toml"))
    config = {**runs[0].config, "image": str(tmp_path / "missing.png")}  # fails inside its task
    broken = Run(config, "broken", {}, "missing", runs[0].label, config_hash(config))
    out = str(tmp_path / "out")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        outcome = run_sweep(runs + [broken], out, ray_address="local", progress=False)
    finally:
        ray.shutdown()
    assert sorted(outcome.done) == sorted(r.hash for r in runs) and outcome.failed == [broken.hash]
    error = json.loads(Path(run_directory(out, broken), ERROR).read_text())
    assert "missing.png" in error["error"] and "Traceback" in error["traceback"]
    for run in runs:
        record = json.loads(Path(run_directory(out, run), RESULT).read_text())
        assert record["config"] == run.config and np.isfinite(record["test_psnr"])
        assert record["pid"] != os.getpid()  # fitted in a Ray worker
    results = write_results(runs, out)
    assert results.done == 4 and results.failed == 0
    assert Path(out, "results.csv").read_text().count("\n") == 1 + 2


def test_missing_ray_is_a_one_line_error_with_the_install_hint(tmp_path, monkeypatch):
    import sys

    from click.testing import CliRunner

    from coordnet.cli.main import cli
    from coordnet.sweep.ray_backend import import_ray

    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ModuleNotFoundError
    with pytest.raises(RuntimeError, match=r"--ray needs Ray: pip install 'coordnet\[ray\]'"):
        import_ray()
    path = tmp_path / "ray.toml"
    path.write_text(SWEEP)
    result = CliRunner().invoke(
        cli, ["sweep", str(path), "--ray", "auto", "--quiet", "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 1, result.output
    assert result.stderr.strip() == "error: --ray needs Ray: pip install 'coordnet[ray]'"
