"""Exact resume: after interruptions at random steps, every output file of a fit equals that of
the uninterrupted fit. Only wall-time fields differ: ``seconds`` and ``wall_seconds`` (any
top-level key ending in ``seconds``) in metrics.json and
``trainer.seconds`` (with the content hash that covers it) in checkpoint.pt."""

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest
import torch

from coordnet.runs import run as run_module
from coordnet.runs.run import run_fit
from coordnet.signals import load_signal
from coordnet.training import TrainConfig
from coordnet.training.callbacks import ProgressBar
from coordnet.training.checkpoint import load_checkpoint

SPEC = "relu:width=16,depth=2"


def wall_time(key):
    return key.endswith("seconds")


def same_tree(straight, resumed):
    """Assert the two output folders hold the same files with equal contents (wall time excluded)."""
    names = sorted(n for n in os.listdir(straight) if not n.startswith("."))
    assert names == sorted(n for n in os.listdir(resumed) if not n.startswith("."))
    for name in names:
        a, b = os.path.join(straight, name), os.path.join(resumed, name)
        if name.endswith(".json"):
            left, right = json.load(open(a)), json.load(open(b))
            for document in (left, right):
                for key in [k for k in document if wall_time(k)]:
                    document.pop(key)
            assert left == right, name
        elif name == "checkpoint.pt":
            left, right = load_checkpoint(a), load_checkpoint(b)
            for document in (left, right):
                document.pop("sha256"), document["trainer"].pop("seconds")
            assert left.keys() == right.keys()
            assert left["trainer"]["history"] == right["trainer"]["history"]
            for key, tensor in left["trainer"]["model"].items():
                assert torch.equal(tensor, right["trainer"]["model"][key]), key
            for key in left:
                if key not in ("trainer",):
                    assert left[key] == right[key], key
        else:
            assert open(a, "rb").read() == open(b, "rb").read(), name
    return names


@pytest.mark.parametrize("probe", ["spectrum", "regions"])
def test_interrupted_fits_resume_to_identical_outputs(tmp_path, monkeypatch, probe):
    torch.set_num_threads(1)
    camera = load_signal("camera", size=16)
    config = TrainConfig(steps=30, lr=1e-2, seed=3, eval_every=4, batch_size=40)
    kwargs = dict(
        split="tancik", progress=False, checkpoint_every=3, probes=(probe,), probe_every=5
    )
    straight = str(tmp_path / "straight")
    run_fit(camera, SPEC, config, straight, **kwargs)

    stops = sorted(random.Random(14).sample(range(2, 30), 4))  # seeded random interruption steps
    state = {"stops": list(stops)}

    class InterruptingBar(ProgressBar):
        def on_step(self, trainer, step, loss):
            if state["stops"] and step == state["stops"][0]:
                state["stops"].pop(0)
                raise KeyboardInterrupt
            super().on_step(trainer, step, loss)

    resumed = str(tmp_path / "resumed")
    monkeypatch.setattr(run_module, "ProgressBar", InterruptingBar)
    interruptions = 0
    while True:
        try:
            run_fit(camera, SPEC, config, resumed, resume=True, **kwargs)
            break
        except KeyboardInterrupt:
            interruptions += 1
    assert interruptions == len(stops)
    names = same_tree(straight, resumed)
    assert {"metrics.json", "curves.png", "checkpoint.pt"} <= set(names)
    assert ("spectrum.json" in names) if probe == "spectrum" else ("region_counts.json" in names)
    history = json.load(open(os.path.join(resumed, "metrics.json")))["history"]
    assert history["steps"] == list(range(4, 30, 4)) + [
        30
    ]  # every evaluation, incl. those at checkpoint steps


@pytest.mark.slow
def test_sigkill_at_random_moments_then_resume_gives_identical_outputs(tmp_path):
    args = [
        "fit",
        "camera",
        "--size",
        "16",
        "--steps",
        "3000",
        "--eval-every",
        "20",
        "--checkpoint-every",
        "7",
        "--probe",
        "spectrum",
        "--probe-every",
        "50",
        "-m",
        SPEC,
        "--quiet",
        "--seed",
        "1",
        "--batch-size",
        "50",
    ]
    command = [sys.executable, "-m", "coordnet"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    straight = tmp_path / "straight"
    subprocess.run(command + args + ["--out", str(straight)], check=True, env=env, timeout=600)
    resumed = tmp_path / "resumed"
    checkpoint = resumed / "checkpoint.pt"
    rng = random.Random(7)
    steps_at_kill = []
    for _ in range(3):  # three SIGKILLs at random moments of training, then a run to the end
        before = checkpoint.stat().st_mtime_ns if checkpoint.exists() else None
        process = subprocess.Popen(
            command + args + ["--out", str(resumed), "--resume"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 300
        while (
            not checkpoint.exists() or checkpoint.stat().st_mtime_ns == before
        ) and time.monotonic() < deadline:
            time.sleep(0.05)  # training has written a new checkpoint
        time.sleep(rng.uniform(0.0, 1.5))
        if process.poll() is not None:
            break
        process.send_signal(signal.SIGKILL)
        process.wait()
        steps_at_kill.append(load_checkpoint(str(checkpoint))["trainer"]["step"])
    final = subprocess.run(
        command + args + ["--out", str(resumed), "--resume"],
        env=env,
        timeout=600,
        capture_output=True,
        text=True,
    )
    assert final.returncode == 0, final.stderr
    assert steps_at_kill and all(0 < step < 3000 for step in steps_at_kill), steps_at_kill
    same_tree(str(straight), str(resumed))
