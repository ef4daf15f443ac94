"""`coordnet sweep --ray ADDRESS` on a real two-node Ray cluster started on this machine.

A head node and a second node run as separate `ray start --block` processes (one CPU each, own
temporary folders, token authentication with a token of the test's own); the sweep runs as a
separate `coordnet sweep` process connected to the head. Once runs have finished on both nodes,
the second node is killed (SIGKILL of its whole process group: raylet, agents, workers); the
sweep must finish on the head with every result intact. Every process is killed in teardown.
"""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
SWEEP = """\
images = ["camera"]
size = 64
steps = 1500
seeds = [0, 1, 2, 3, 4, 5, 6, 7]

[[models]]
spec = "gauss:num_frequencies=32,sigma=8+relu:width=64,depth=2"
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=30)


def kill_processes_mentioning(text: str) -> None:
    """SIGKILL every process whose command line names ``text`` (a node's temporary folder)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if text in (entry / "cmdline").read_bytes().decode(errors="replace"):
                os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, ValueError):
            pass


def results(out: Path):
    records = []
    for path in sorted(out.glob("runs/*/result.json")):
        try:
            records.append(json.loads(path.read_text()))
        except (OSError, ValueError):  # being written
            pass
    return records


@pytest.fixture
def cluster():
    """(address, env, head node id, second node's process): a head and a second node, 127.0.0.1."""
    pytest.importorskip(
        "ray", reason="the Ray cluster test needs the ray extra: pip install 'coordnet[ray]'"
    )
    root = Path(
        tempfile.mkdtemp(prefix="rc", dir="/tmp")
    )  # short: Ray's socket paths have a length limit
    (root / "head").mkdir()
    (root / "node").mkdir()
    (root / "token").write_text(secrets.token_hex(32))
    env = {
        **os.environ,
        "RAY_USAGE_STATS_ENABLED": "0",
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN_PATH": str(root / "token"),
    }
    env.pop("RAY_ADDRESS", None)
    port = free_port()
    address = f"127.0.0.1:{port}"
    common = [
        "--num-cpus",
        "1",
        "--node-ip-address",
        "127.0.0.1",
        "--disable-usage-stats",
        "--block",
    ]
    processes = []
    try:
        head = subprocess.Popen(
            [
                str(BIN / "ray"),
                "start",
                "--head",
                "--port",
                str(port),
                "--temp-dir",
                str(root / "head"),
                "--include-dashboard",
                "false",
                "--ray-client-server-port",
                str(free_port()),
                *common,
            ],
            env=env,
            stdout=open(root / "head.log", "w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        processes.append(head)
        wait_for_nodes(address, env, 1, root)
        node = subprocess.Popen(
            [
                str(BIN / "ray"),
                "start",
                "--address",
                address,
                "--temp-dir",
                str(root / "node"),
                "--resources",
                '{"second_node": 1}',
                *common,
            ],
            env=env,
            stdout=open(root / "node.log", "w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        processes.append(node)
        wait_for_nodes(address, env, 2, root)
        yield address, env, node, root
    finally:
        for process in reversed(processes):
            kill_group(process)
        kill_processes_mentioning(str(root))
        shutil.rmtree(root, ignore_errors=True)


def wait_for_nodes(address: str, env: dict, count: int, root: Path, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    status = ""
    while time.monotonic() < deadline:
        result = subprocess.run(
            [str(BIN / "ray"), "status", "--address", address],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        status = result.stdout
        active = status.split("Active:")[-1].split("Pending:")[0] if "Active:" in status else ""
        if active.count("node_") >= count:
            return
        time.sleep(1)
    logs = "".join(p.read_text()[-2000:] for p in root.glob("*.log"))
    raise AssertionError(
        f"the cluster did not reach {count} node(s) in {timeout} s:\n{status}\n{logs}"
    )


def test_sweep_survives_losing_a_node(cluster, tmp_path):
    address, env, node, root = cluster
    sweep_file = tmp_path / "cluster.toml"
    sweep_file.write_text(SWEEP)
    out = tmp_path / "out"
    log = open(tmp_path / "sweep.log", "w")
    sweep = subprocess.Popen(
        [
            str(BIN / "coordnet"),
            "sweep",
            str(sweep_file),
            "--ray",
            address,
            "--quiet",
            "--out",
            str(out),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 300
        while len({r["ray_node"] for r in results(out)}) < 2:  # runs finished on both nodes
            assert sweep.poll() is None, (tmp_path / "sweep.log").read_text()
            assert time.monotonic() < deadline, f"runs did not land on both nodes: {results(out)}"
            time.sleep(0.2)
        kill_group(
            node
        )  # the second node dies with a run in flight (it takes the next one at once)
        before = {r["hash"]: r for r in results(out)}
        assert len(before) < 8, (
            "the sweep finished before the node was killed; make the runs longer"
        )
        assert sweep.wait(timeout=600) == 0, (tmp_path / "sweep.log").read_text()
    finally:
        if sweep.poll() is None:
            sweep.kill()
            sweep.wait()
    records = results(out)
    assert len(records) == 8 and all(r["status"] == "done" for r in records)
    assert not list(out.glob("runs/*/error.json"))
    assert all(np.isfinite(r["test_psnr"]) and r["steps"] == 1500 for r in records)
    nodes = {r["ray_node"] for r in records}
    assert len(nodes) == 2, nodes
    second = {r["ray_node"] for r in before.values()} - {
        r["ray_node"] for r in records if r["hash"] not in before
    }
    assert len(second) == 1  # after the kill, runs finished only on the surviving node
    for run_hash, record in before.items():  # results written before the loss are intact
        assert json.loads((out / "runs" / run_hash / "result.json").read_text()) == record
    summary = (out / "results.csv").read_text().splitlines()
    assert len(summary) == 2  # one model: header + one row aggregated over the 8 seeds
