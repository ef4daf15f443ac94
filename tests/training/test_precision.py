"""bf16 "auto" follows a fixed rule of the CPU's flags and the net's shapes, never a timing; the
decision is stored in the trainer's state and reused on resume, with the thread count."""

import pytest
import torch

from coordnet.nets import build_model
from coordnet.training import precision
from coordnet.training.trainer import Samples, TrainConfig, Trainer

pytestmark = pytest.mark.usefixtures("one_thread")
NATIVE = frozenset({"avx512f", "avx512_bf16"})


def _model(spec):
    torch.manual_seed(0)
    return build_model(spec, in_dim=2, out_dim=1)


def _native(monkeypatch, native=True):
    monkeypatch.setattr(precision, "cpu_has_bf16", lambda flags=None: native)


def test_layer_macs_of_a_two_layer_net():
    first, hidden = precision.layer_macs(
        _model("gauss:num_frequencies=256+relu:width=128,depth=2").net
    )
    assert (first, hidden) == (512 * 128, 128 * 128)
    assert precision.layer_macs(torch.nn.ReLU()) == (0, 0)


@pytest.mark.parametrize(
    "spec, bf16",
    [
        ("gauss:num_frequencies=256+relu:width=128,depth=2", False),  # 512 inputs into 128
        ("gauss:num_frequencies=128+relu:width=128,depth=2", False),
        ("relu:width=128,depth=2", True),
        ("pe:num_frequencies=6,max_log2_freq=5+relu:width=128,depth=2", True),
        ("siren:width=128,depth=2", True),
        ("hash:levels=16,F=2,N_min=8,b=1.26+relu:width=64,depth=2", True),
        ("gauss", True),  # the paper's 3x256 net on 512 features
    ],
)
def test_auto_rule_on_a_native_bf16_cpu(monkeypatch, spec, bf16):
    _native(monkeypatch)
    decision = precision.decide_bf16(_model(spec), "cpu", "auto")
    assert decision.bf16 is bf16 and decision.reason.startswith("auto: ")


def test_auto_is_float32_without_native_bf16_or_off_the_cpu(monkeypatch):
    model = _model("relu:width=128,depth=2")
    no_flags = precision.decide_bf16(model, "cpu", "auto", flags=frozenset({"avx2"}))
    assert not no_flags.bf16 and "no native bf16" in no_flags.reason
    _native(monkeypatch)
    assert not precision.decide_bf16(model, "meta", "auto").bf16
    assert precision.decide_bf16(model, "cpu", True).to_dict() == {
        "precision": "bf16",
        "bf16": True,
        "reason": "bf16 forced",
    }
    assert not precision.decide_bf16(model, "cpu", "off").bf16
    with pytest.raises(ValueError, match="bf16 setting"):
        precision.decide_bf16(model, "cpu", "sometimes")


def test_the_rule_reads_no_clock(monkeypatch):
    _native(monkeypatch)

    def forbidden():
        raise AssertionError("the precision rule must not time anything")

    monkeypatch.setattr(precision.torch, "autocast", forbidden, raising=False)
    for _ in range(3):
        assert precision.decide_bf16(_model("relu:width=128,depth=2"), "cpu", "auto").bf16


def _samples():
    x = torch.rand(32, 2, generator=torch.Generator().manual_seed(0))
    return Samples(x, torch.sin(4 * x[:, :1]))


def test_a_resumed_trainer_keeps_the_stored_precision_and_threads(monkeypatch):
    config = dict(steps=4, lr=1e-2, eval_every=2, bf16="auto")
    _native(monkeypatch, True)
    first = Trainer(_model("relu:width=16,depth=2"), _samples(), TrainConfig(**config))
    first.config.steps = 2
    first.fit()
    state = first.state_dict()
    assert state["decisions"]["precision"] == "bf16" and state["decisions"]["threads"] == 1
    state["decisions"]["threads"] = 2  # as if written by a process with two threads

    _native(monkeypatch, False)  # the resuming machine would decide float32
    resumed = Trainer(_model("relu:width=16,depth=2"), _samples(), TrainConfig(**config))
    assert resumed.bf16 is False
    resumed.load_state_dict(state)
    assert resumed.bf16 is True and resumed.decisions()["precision"] == "bf16"
    seen = []
    monkeypatch.setattr(resumed, "train_step", lambda: seen.append(torch.get_num_threads()) or 0.1)
    resumed.fit()
    assert seen == [2, 2] and torch.get_num_threads() == 1  # restored after the fit
    with pytest.raises(ValueError, match="precision"):
        resumed.load_state_dict({**state, "decisions": {"precision": "fp8", "threads": 1}})
