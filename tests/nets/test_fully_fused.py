"""The tiny-cuda-nn switch: FullyFusedMLP where it runs, the bias-free torch MLP otherwise."""

import sys
import types

import pytest
import torch

from coordnet.nets import ReluMLP, build_model, fully_fused
from coordnet.nets.fully_fused import FullyFusedMLP, TinyCudaNNWarning, fully_fused_mlp


def test_fallback_without_tinycudann_warns_and_builds_bias_free_relu_mlp(monkeypatch):
    monkeypatch.setattr(fully_fused, "tinycudann_unavailable_reason", lambda: "no CUDA device")
    with pytest.warns(TinyCudaNNWarning, match="unavailable \\(no CUDA device\\)"):
        net = fully_fused_mlp(2, 3, width=32, depth=2, output_activation="sigmoid")
    assert isinstance(net, ReluMLP)
    assert all(layer.bias is None for layer in net.linear_layers())
    y = net(torch.rand(5, 2))
    assert y.shape == (5, 3) and ((y > 0) & (y < 1)).all()


def test_reason_on_this_machine_is_explicit():
    reason = fully_fused.tinycudann_unavailable_reason()
    if torch.cuda.is_available():
        pytest.skip("CUDA present: the reason depends on tinycudann")
    assert reason == "no CUDA device"


def test_spec_preset_and_errors(monkeypatch):
    monkeypatch.setattr(fully_fused, "tinycudann_unavailable_reason", lambda: "no CUDA device")
    with pytest.warns(TinyCudaNNWarning):
        model = build_model("gauss:num_frequencies=8+tcnn:width=16,depth=1", 2, 1)
    assert model(torch.rand(4, 2)).shape == (4, 1)
    with pytest.raises(
        ValueError, match=r"width must be one of \(16, 32, 64, 128\) for a fully fused MLP, got 256"
    ):
        fully_fused_mlp(2, 1, width=256)
    with pytest.raises(ValueError, match="output_activation"):
        fully_fused_mlp(2, 1, output_activation="tanh")


def test_tinycudann_network_gets_the_fully_fused_config(monkeypatch):
    created = {}

    class FakeNetwork(torch.nn.Module):
        def __init__(self, n_input_dims, n_output_dims, config):
            super().__init__()
            created.update(n_input_dims=n_input_dims, n_output_dims=n_output_dims, config=config)
            self.n_output_dims = n_output_dims

        def forward(self, x):
            return torch.zeros(x.shape[0], self.n_output_dims, dtype=torch.float16)

    monkeypatch.setitem(sys.modules, "tinycudann", types.SimpleNamespace(Network=FakeNetwork))
    monkeypatch.setattr(fully_fused, "tinycudann_unavailable_reason", lambda: None)
    net = fully_fused_mlp(3, 4, width=64, depth=3, output_activation="sigmoid")
    assert isinstance(net, FullyFusedMLP)
    assert created == {
        "n_input_dims": 3,
        "n_output_dims": 4,
        "config": {
            "otype": "FullyFusedMLP",
            "activation": "ReLU",
            "output_activation": "Sigmoid",
            "n_neurons": 64,
            "n_hidden_layers": 3,
        },
    }
    y = net(torch.rand(2, 5, 3))
    assert y.shape == (2, 5, 4) and y.dtype == torch.float32


def test_resolve_tinycudann_validates_warns_and_falls_back(monkeypatch):
    from coordnet.encoders import tinycudann

    assert fully_fused.TinyCudaNNWarning is tinycudann.TinyCudaNNWarning  # re-exported
    with pytest.raises(ValueError, match="implementation must be 'torch' or 'tcnn', got 'cuda'"):
        tinycudann.resolve_tinycudann("Owner", "cuda")
    monkeypatch.setattr(
        tinycudann, "tinycudann_unavailable_reason", lambda: pytest.fail("torch needs no check")
    )
    assert tinycudann.resolve_tinycudann("Owner", "torch") is None
    monkeypatch.setattr(tinycudann, "tinycudann_unavailable_reason", lambda: "no CUDA device")
    with pytest.warns(
        TinyCudaNNWarning,
        match="^Owner: tiny-cuda-nn is unavailable \\(no CUDA device\\); using X$",
    ):
        assert tinycudann.resolve_tinycudann("Owner", "tcnn", "X") is None
    fake = types.SimpleNamespace()
    monkeypatch.setitem(sys.modules, "tinycudann", fake)
    monkeypatch.setattr(tinycudann, "tinycudann_unavailable_reason", lambda: None)
    assert tinycudann.resolve_tinycudann("Owner", "tcnn") is fake
