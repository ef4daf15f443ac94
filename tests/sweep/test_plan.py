"""The sweep plan: run statuses and durations, computed apart from the command line."""

import json
import os

import pytest

from coordnet.sweep import expand, load_sweep
from coordnet.sweep.plan import format_duration, sweep_state
from coordnet.sweep.run import RESULT, run_directory

SWEEP = """\
images = ["camera"]
size = 16
steps = 5
seeds = [0, 1, 2]

[[models]]
spec = "relu:width=8,depth=1"
"""


@pytest.mark.parametrize(
    "seconds, text",
    [(0, "0 s"), (119, "119 s"), (120, "2.0 min"), (7199, "120.0 min"), (9000, "2.5 h")],
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_sweep_state_counts_unreadable_results_as_pending(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(SWEEP)
    runs = expand(load_sweep(str(path)))
    out = str(tmp_path / "out")
    done, broken, _ = runs
    for run, text in ((done, json.dumps({"hash": done.hash})), (broken, "{not json")):
        folder = run_directory(out, run)
        os.makedirs(folder)
        with open(os.path.join(folder, RESULT), "w") as handle:
            handle.write(text)
    state = sweep_state(runs, out)
    assert state.unreadable == 1
    assert state.unreadable_example == os.path.join(folder, RESULT)
    assert state.status[broken.hash] == "unreadable" and state.status[done.hash] == "done"
    assert state.counts == {"done": 1, "failed": 0, "pending": 2}
    assert state.summary() == "1 done, 0 failed, 2 pending"
