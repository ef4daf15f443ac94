"""Whole tiny-cuda-nn model configs in torch: layout, padding, activations, parameters, delegation.

The forward pass is checked against an independent evaluation straight from the flat parameter
vector, read in tiny-cuda-nn's documented layout (network matrices row-major, input layer
first, then the encoding's parameters).
"""

import math
import sys
import types

import pytest
import torch

from coordnet.encoders import HashGrid, SphericalHarmonics, from_config
from coordnet.nets import CoordinateNet
from coordnet.nets.fully_fused import TinyCudaNNWarning
from coordnet.nets.tcnn_model import (
    ACTIVATIONS,
    TcnnActivation,
    TcnnMLP,
    TcnnModel,
    TinyCudaNNModel,
    model_from_config,
    network_from_config,
    parse_network_config,
)

GRID = {
    "otype": "HashGrid",
    "n_levels": 3,
    "n_features_per_level": 2,
    "log2_hashmap_size": 8,
    "base_resolution": 4,
}
NET = {
    "otype": "FullyFusedMLP",
    "activation": "ReLU",
    "output_activation": "None",
    "n_neurons": 16,
    "n_hidden_layers": 2,
}


def next16(n):
    return (n + 15) // 16 * 16


def documented_activation(name, x):
    """DOCUMENTATION.md's definitions."""
    return {
        "None": lambda: x,
        "ReLU": lambda: torch.clamp(x, min=0),
        "LeakyReLU": lambda: torch.clamp(x, min=0) + 0.01 * torch.clamp(x, max=0),
        "Exponential": lambda: torch.exp(x),
        "Sine": lambda: torch.sin(x),
        "Sigmoid": lambda: 1 / (1 + torch.exp(-x)),
        "Squareplus": lambda: 0.5 * (10 * x + torch.sqrt((10 * x) ** 2 + 4)) / 10,
        "Softplus": lambda: torch.log(torch.exp(10 * x) + 1) / 10,
        "Tanh": lambda: (torch.exp(x) - torch.exp(-x)) / (torch.exp(x) + torch.exp(-x)),
    }[name]()


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activations_match_the_documentation(name):
    x = torch.linspace(-3, 3, 121, dtype=torch.float64)
    torch.testing.assert_close(TcnnActivation(name.upper())(x), documented_activation(name, x))


def evaluate_from_flat(params, encoded, n_in, width, depth, n_out, activation, output_activation):
    """The network of tiny-cuda-nn's layout applied to the padded encoding ``encoded (N, n_in)``."""
    shapes = (
        [(width, n_in)] + [(width, width)] * (depth - 1) + [(next16(n_out), width)]
        if depth
        else [(next16(n_out), n_in)]
    )
    h, offset = encoded, 0
    for i, (rows, cols) in enumerate(shapes):
        weight = params[offset : offset + rows * cols].view(
            rows, cols
        )  # row-major (fan_out, fan_in)
        offset += rows * cols
        h = h @ weight.T
        h = documented_activation(activation if i < len(shapes) - 1 else output_activation, h)
    return h[:, :n_out], offset


@pytest.mark.parametrize(
    "encoding, n_in, network",
    [
        (GRID, 3, NET),
        (
            {"otype": "SphericalHarmonics", "degree": 3},
            3,
            {
                **NET,
                "otype": "CutlassMLP",
                "n_neurons": 24,
                "activation": "Tanh",
                "output_activation": "Sigmoid",
            },
        ),
        (
            {"otype": "Identity"},
            5,
            {
                **NET,
                "otype": "CutlassMLP",
                "n_hidden_layers": 0,
                "output_activation": "Exponential",
            },
        ),
        (
            {
                "otype": "Composite",
                "nested": [{"n_dims_to_encode": 1, "otype": "OneBlob", "n_bins": 4}, {**GRID}],
            },
            3,
            {**NET, "activation": "Softplus", "n_neurons": 32, "n_hidden_layers": 3},
        ),
    ],
)
def test_forward_is_the_flat_vector_in_tcnn_layout(encoding, n_in, network):
    n_out = 5
    model = model_from_config(
        {"encoding": encoding, "network": network}, n_in, n_out, seed=3
    ).double()
    params = model.tcnn_params()
    x = torch.rand(9, n_in, dtype=torch.float64)
    encoded = model.encoding(x)
    assert encoded.shape[-1] == next16(from_config(encoding, n_in).out_dim)
    config = parse_network_config(network)
    want, used = evaluate_from_flat(
        params,
        encoded,
        encoded.shape[-1],
        config["n_neurons"],
        config["n_hidden_layers"],
        n_out,
        config["activation"],
        config["output_activation"],
    )
    torch.testing.assert_close(model(x), want)
    grid_params = [m.params for m in model.encoding.modules() if isinstance(m, HashGrid)]
    assert used + sum(p.numel() for p in grid_params) == params.numel() == model.n_params
    if grid_params:  # the encoding's parameters come after the network's
        assert torch.equal(params[used:], torch.cat([p.detach().reshape(-1) for p in grid_params]))


def test_no_biases_and_padded_shapes():
    model = model_from_config(
        {"encoding": GRID, "network": {**NET, "n_neurons": 32, "n_hidden_layers": 3}}, 3, 3
    )
    layers = model.network.layers
    assert all(layer.bias is None for layer in layers)
    assert [tuple(layer.weight.shape) for layer in layers] == [
        (32, 16),
        (32, 32),
        (32, 32),
        (16, 32),
    ]
    assert (
        model.encoded_dims == 6
        and model.network.in_dim == 16
        and model.network.padded_output_dims == 16
    )
    assert model.n_params == 32 * 16 + 2 * 32 * 32 + 16 * 32 + model.encoding.encoder.num_params
    assert model(torch.rand(4, 3)).shape == (4, 3)
    assert model.network(torch.rand(4, 16), padded=True).shape == (4, 16)


def test_padding_values_follow_tcnn():
    x = torch.rand(6, 3)
    grid = model_from_config({"encoding": GRID, "network": NET}, 3, 1).encoding(x)
    assert torch.equal(grid[:, 6:], torch.zeros(6, 10))  # grids pad with zeros at the back
    sh = model_from_config(
        {"encoding": {"otype": "SphericalHarmonics", "degree": 3}, "network": NET}, 3, 1
    )
    y = sh.encoding(x)
    assert torch.equal(y[:, :7], torch.ones(6, 7))  # spherical harmonics pad with ones in front
    torch.testing.assert_close(y[:, 7:], SphericalHarmonics(3, 3)(x), rtol=0, atol=0)
    net = network_from_config(NET, 3, 2)  # tinycudann.Network: Identity padded with ones
    torch.testing.assert_close(
        net.encoding(x), torch.cat([x, torch.ones(6, 13)], -1), rtol=0, atol=0
    )


def test_flat_parameter_round_trip():
    config = {"encoding": GRID, "network": NET}
    a = model_from_config(config, 3, 4, seed=1)
    b = model_from_config(config, 3, 4, seed=2)
    x = torch.rand(20, 3)
    assert not torch.allclose(a(x), b(x))
    b.load_tcnn_params(a.tcnn_params().half())  # tiny-cuda-nn stores fp16 for FullyFusedMLP
    a.load_tcnn_params(a.tcnn_params().half())
    torch.testing.assert_close(b(x), a(x), rtol=0, atol=0)
    torch.testing.assert_close(b.tcnn_params(), a.tcnn_params(), rtol=0, atol=0)
    with pytest.raises(ValueError, match=f"params must be a flat tensor of {a.n_params} values"):
        a.load_tcnn_params(torch.zeros(a.n_params + 1))


def test_initialisation_follows_tcnns_distributions():
    model = model_from_config({"encoding": GRID, "network": {**NET, "n_neurons": 64}}, 3, 1, seed=0)
    for layer in model.network.layers:
        fan_out, fan_in = layer.weight.shape
        bound = math.sqrt(6 / (fan_in + fan_out))
        assert layer.weight.abs().max() <= bound and layer.weight.abs().max() > 0.9 * bound
    table = model.encoding.encoder.params
    assert table.abs().max() <= 1e-4 and table.abs().max() > 0.9e-4
    sine = network_from_config(
        {**NET, "otype": "CutlassMLP", "activation": "Sine", "n_neurons": 64}, 3, 1
    )
    first, second = sine.network.layers[0].weight, sine.network.layers[1].weight
    assert 0.9 * 30 / 16 < first.abs().max() <= 30 / 16  # SIREN's first layer, fan_in 16 (padded)
    assert 0.9 * math.sqrt(6 / 64) < second.abs().max() <= math.sqrt(6 / 64)
    same = model_from_config({"encoding": GRID, "network": {**NET, "n_neurons": 64}}, 3, 1, seed=0)
    assert torch.equal(same.tcnn_params(), model.tcnn_params())


def test_gradients_reach_network_and_grid():
    model = model_from_config({"encoding": GRID, "network": NET}, 3, 2)
    model(torch.rand(64, 3)).square().sum().backward()
    assert all(
        layer.weight.grad is not None and layer.weight.grad.abs().sum() > 0
        for layer in model.network.layers
    )
    assert model.encoding.encoder.params.grad.abs().sum() > 0


def test_usable_as_the_net_of_a_coordinate_net():
    model = model_from_config({"encoding": GRID, "network": NET}, 2, 3)
    assert model.input_domain == (0.0, 1.0)
    net = CoordinateNet(None, model, signal_domain=(0.0, 1.0))
    assert net(torch.rand(5, 2)).shape == (5, 3)


def test_model_config_sources_and_ignored_sections(tmp_path):
    import json

    path = tmp_path / "config_hash.json"
    path.write_text(
        json.dumps(
            {
                "loss": {"otype": "RelativeL2"},
                "optimizer": {"otype": "Adam"},
                "encoding": GRID,
                "network": NET,
            }
        )
    )
    model = model_from_config(str(path), 3, 3)
    assert isinstance(model, TcnnModel) and model.config["network"]["n_neurons"] == 16
    default = model_from_config({"network": {"otype": "CutlassMLP"}}, 2, 1)
    assert default.network.config == {
        "otype": "CutlassMLP",
        "activation": "ReLU",
        "output_activation": "None",
        "n_neurons": 128,
        "n_hidden_layers": 5,
    }


@pytest.mark.parametrize(
    "network, fragment",
    [
        ({"otype": "ResNet"}, "unknown otype 'ResNet'; allowed: FullyFusedMLP, CutlassMLP"),
        (
            {"otype": "FullyFusedMLP", "n_neuron": 64},
            "unknown key 'n_neuron'; allowed keys: otype, activation",
        ),
        (
            {"otype": "FullyFusedMLP", "n_neurons": 256},
            "n_neurons must be one of (16, 32, 64, 128) for FullyFusedMLP",
        ),
        (
            {"otype": "FullyFusedMLP", "n_hidden_layers": 0},
            "n_hidden_layers must be >= 1 for FullyFusedMLP",
        ),
        ({"otype": "FullyFusedMLP", "activation": "Sine"}, "FullyFusedMLP has no Sine activation"),
        (
            {"otype": "CutlassMLP", "activation": "GELU"},
            "activation: activation must be one of None, ReLU",
        ),
        (
            {"otype": "CutlassMLP", "n_hidden_layers": -1},
            "n_hidden_layers must be an integer >= 0, got -1",
        ),
        ({"otype": "CutlassMLP", "n_neurons": True}, "n_neurons must be an integer >= 1, got True"),
    ],
)
def test_network_config_errors(network, fragment):
    with pytest.raises(ValueError) as info:
        model_from_config({"encoding": {"otype": "Identity"}, "network": network}, 3, 1)
    assert fragment in str(info.value)


def test_model_config_errors():
    with pytest.raises(
        ValueError, match="model config: unknown key 'encodings'; allowed keys: encoding, network"
    ):
        model_from_config({"encodings": GRID}, 3, 1)
    with pytest.raises(ValueError, match="encoding config encoding.*unknown otype 'Hash'"):
        model_from_config({"encoding": {"otype": "Hash"}, "network": NET}, 3, 1)
    with pytest.raises(ValueError, match="implementation must be 'torch' or 'tcnn', got 'cuda'"):
        model_from_config({"network": NET}, 3, 1, implementation="cuda")
    with pytest.raises(ValueError, match="n_output_dims must be an integer >= 1, got 0"):
        TcnnMLP(16, 0, NET)


def test_tcnn_implementation_falls_back_with_a_warning(monkeypatch):
    monkeypatch.setattr(
        "coordnet.encoders.tinycudann.tinycudann_unavailable_reason", lambda: "no CUDA device"
    )
    with pytest.warns(TinyCudaNNWarning, match="unavailable \\(no CUDA device\\)"):
        model = model_from_config({"encoding": GRID, "network": NET}, 3, 2, implementation="tcnn")
    assert isinstance(model, TcnnModel)


def test_tcnn_implementation_delegates_to_tinycudann(monkeypatch):
    created = {}

    class FakeNetworkWithInputEncoding(torch.nn.Module):
        def __init__(self, n_input_dims, n_output_dims, encoding_config, network_config, seed=1337):
            super().__init__()
            created.update(
                n_input_dims=n_input_dims,
                n_output_dims=n_output_dims,
                encoding=encoding_config,
                network=network_config,
                seed=seed,
            )
            self.params = torch.nn.Parameter(torch.zeros(7, dtype=torch.float16))
            self.n_output_dims = n_output_dims

        def forward(self, x):
            assert x.dim() == 2
            return torch.zeros(x.shape[0], self.n_output_dims, dtype=torch.float16)

    fake = types.SimpleNamespace(NetworkWithInputEncoding=FakeNetworkWithInputEncoding)
    monkeypatch.setitem(sys.modules, "tinycudann", fake)
    monkeypatch.setattr("coordnet.encoders.tinycudann.tinycudann_unavailable_reason", lambda: None)
    model = model_from_config(
        {"encoding": GRID, "network": NET}, 3, 2, seed=5, implementation="tcnn"
    )
    assert isinstance(model, TinyCudaNNModel)
    assert created == {
        "n_input_dims": 3,
        "n_output_dims": 2,
        "encoding": GRID,
        "network": NET,
        "seed": 5,
    }
    y = model(torch.rand(4, 6, 3))
    assert y.shape == (4, 6, 2) and y.dtype == torch.float32
    model.load_tcnn_params(torch.arange(7.0))
    assert torch.equal(model.tcnn_params(), torch.arange(7.0))
