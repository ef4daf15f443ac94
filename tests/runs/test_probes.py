"""The probe registry of the fit runner: choices, construction, plugging into a run."""

import pytest

from coordnet.nets import build_model
from coordnet.runs import probes
from coordnet.signals import load_signal, split_signal


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
    from coordnet.runs.run import run_fit
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
        outcome = run_fit(
            load_signal("camera", size=16),
            "relu:width=8,depth=1",
            TrainConfig(steps=5, eval_every=5),
            str(tmp_path),
            progress=False,
            probes=("counting",),
        )
    finally:
        del probes.PROBES["counting"]
    assert outcome.metrics["counted_steps"] == 5
    assert load_checkpoint(str(tmp_path / "checkpoint.pt"))["counting_probe"] == {"steps": 5}
