"""The training core's former module paths and the probe registry of the fit runner."""
import importlib
import subprocess
import sys

import pytest

from coordnet.fit import probes
from coordnet.nets import build_model
from coordnet.signals import load_signal, split_signal

MOVED = ["trainer", "callbacks", "checkpoint", "metrics", "learning_rates", "precision", "stacked"]


@pytest.mark.parametrize("name", MOVED)
def test_former_module_paths_warn_and_alias_the_training_core(name):
    code = (
        "import warnings, importlib\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        f"    old = importlib.import_module('coordnet.fit.{name}')\n"
        f"new = importlib.import_module('coordnet.training.{name}')\n"
        "assert old is new, (old, new)\n"
        "messages = [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)]\n"
        f"assert any('coordnet.training.{name}' in m for m in messages), messages\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_application_re_exports_the_core_without_warnings():
    fit = importlib.import_module("coordnet.fit")
    training = importlib.import_module("coordnet.training")
    for name in training.__all__:
        assert getattr(fit, name) is getattr(training, name)


def test_cli_probe_choices_are_the_registered_probes():
    from coordnet.cli.main import fit as fit_command

    option = next(p for p in fit_command.params if p.name == "probe")
    assert sorted(option.type.choices) == sorted(probes.PROBES)


def _context(spec: str):
    signal = load_signal("camera", size=16)
    parts = split_signal(signal, "tancik", seed=0)
    model = build_model(spec, in_dim=2, out_dim=signal.channels)
    return probes.ProbeContext(parts, model, signal.coordinates().reshape(-1, 2), every=3)


def test_unknown_probe_is_an_error_naming_the_known_ones():
    with pytest.raises(ValueError, match=r"probe must be one of spectrum, regions, got 'bogus'"):
        probes.build_probe("bogus", _context("relu:width=8,depth=1"))


def test_registered_probe_is_built_from_its_context():
    spectrum = probes.build_probe("spectrum", _context("relu:width=8,depth=1"))
    regions = probes.build_probe("regions", _context("relu:width=8,depth=1"))
    assert spectrum.checkpoint_key == "spectrum_probe" and spectrum.callback.every == 3
    assert regions.checkpoint_key == "region_probe" and regions.callback.every == 3
    assert spectrum.grid == {"grid": "train", "grid_shape": [8, 8]}
    with pytest.raises(TypeError):
        probes.build_probe("regions", _context("siren:width=8,depth=1"))


def test_a_registered_probe_plugs_into_the_runner(tmp_path):
    from coordnet.fit.run import run_fit
    from coordnet.training import Callback, TrainConfig, load_checkpoint

    class StepCounter(Callback):
        def __init__(self):
            self.steps = 0

        def on_step(self, trainer, step, loss):
            self.steps += 1

        def state_dict(self):
            return {"steps": self.steps}

        def load_state_dict(self, state):
            self.steps = state["steps"]

    class CountingProbe(probes.FitProbe):
        checkpoint_key = "counting_probe"

        def __init__(self, context):
            super().__init__(StepCounter())

        def metrics(self):
            return {"counted_steps": self.callback.steps}

    probes.register_probe("counting", CountingProbe)
    try:
        outcome = run_fit(load_signal("camera", size=16), "relu:width=8,depth=1", TrainConfig(steps=5, eval_every=5),
                          str(tmp_path), progress=False, probe="counting")
    finally:
        del probes.PROBES["counting"]
    assert outcome.metrics["counted_steps"] == 5
    assert load_checkpoint(str(tmp_path / "checkpoint.pt"))["counting_probe"] == {"steps": 5}
