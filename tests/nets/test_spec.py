"""Model specs: parsing, aliases, labels, dict/TOML round trips, errors, build_model, one real fit."""

import json
import math
import re

import pytest
import torch
from torch import nn

from coordnet.encoders import BasicFourier, GaussianFourierFeatures, Identity, PositionalEncoding
from coordnet.nets import (
    CoordinateNet,
    FinerMLP,
    GaussianMLP,
    ModelSpec,
    ReluMLP,
    Siren,
    WireMLP,
    build_model,
    load_spec_file,
    parse_spec,
)

EXAMPLES = {
    # spec: (encoder type or None, net type, canonical label)
    "none": (None, ReluMLP, "none"),
    "basic": (BasicFourier, ReluMLP, "basic"),
    "pe:num_frequencies=10": (PositionalEncoding, ReluMLP, "pe:num_frequencies=10"),
    "gauss:sigma=10,num_frequencies=256": (
        GaussianFourierFeatures,
        ReluMLP,
        "gauss:num_frequencies=256,sigma=10",
    ),
    "siren:omega=30": (None, Siren, "siren:omega=30"),
    "relu:width=128,depth=3": (None, ReluMLP, "relu:width=128,depth=3"),
    "gauss:sigma=10+relu:width=128,depth=2": (
        GaussianFourierFeatures,
        ReluMLP,
        "gauss:sigma=10+relu:width=128,depth=2",
    ),
    "pe+siren": (PositionalEncoding, Siren, "pe+siren"),
    "relu": (None, ReluMLP, "none"),
    "gauss-act": (None, GaussianMLP, "gauss-act"),
    "finer:k=1": (None, FinerMLP, "finer:first_bias_scale=1"),
    "basic+wire:omega=10": (BasicFourier, WireMLP, "basic+wire:omega=10"),
}


@pytest.mark.parametrize("spec", list(EXAMPLES))
def test_examples_build_and_run(spec):
    encoder_type, net_type, label = EXAMPLES[spec]
    model = build_model(spec, 2, 3)
    assert isinstance(model, CoordinateNet)
    assert (
        model.encoder is None if encoder_type is None else isinstance(model.encoder, encoder_type)
    )
    assert type(model.net) is net_type
    assert (model.in_dim, model.out_dim) == (2, 3)
    for batch in [(), (0,), (5,), (2, 3)]:
        assert model(torch.rand(*batch, 2)).shape == (*batch, 3)
    parsed = parse_spec(spec)
    assert parsed.label == label == str(parsed)
    assert parse_spec(parsed.label) == parsed
    assert model.spec == parsed


def test_example_arguments_reach_the_modules():
    model = build_model("pe:num_frequencies=10", 2, 1)
    assert model.encoder.bands == 10 and model.encoder.out_dim == 40
    model = build_model("gauss:sigma=10,num_frequencies=256", 2, 1)
    assert model.encoder.sigma == 10.0 and model.encoder.B.shape == (256, 2)
    assert model.net.in_dim == 512 and (model.net.width, model.net.depth) == (
        256,
        3,
    )  # default relu
    net = build_model("siren:omega=30", 2, 1).net
    assert (net.first_omega, net.hidden_omega) == (30.0, 30.0)
    net = build_model("gauss:sigma=10+relu:width=128,depth=2", 2, 1).net
    assert (net.width, net.depth) == (128, 2)


def test_net_alone_means_no_encoding_and_relu_alone_equals_none():
    assert parse_spec("relu") == parse_spec("none") == ModelSpec()
    assert parse_spec("siren") == ModelSpec("none", {}, "siren", {})
    torch.manual_seed(1)
    a = build_model("relu", 2, 1)
    torch.manual_seed(1)
    b = build_model("none", 2, 1)
    x = torch.rand(10, 2)
    assert torch.equal(a(x), b(x))
    assert a.target_domain is None  # raw coordinates
    assert build_model("siren", 2, 1).target_domain == (-1.0, 1.0)


def test_identity_with_keys_is_an_explicit_encoder():
    model = build_model("none:scale=2,offset=-1+siren:width=8,depth=1", 2, 1)
    assert isinstance(model.encoder, Identity)
    seen = []
    model.net.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    x = torch.rand(6, 2)
    model(x)
    torch.testing.assert_close(seen[0], 2 * x - 1)  # the Identity's map, no other


@pytest.mark.parametrize(
    "spec, key, value",
    [
        ("pe:L=4", "num_frequencies", 4),
        ("triwave:L=4", "num_frequencies", 4),
        ("gauss:sigma=5", "sigma", 5.0),
        ("gauss:sigma=1e+1", "sigma", 10.0),
        ("gauss:m=8", "num_frequencies", 8),
        ("hash:levels=4", "num_levels", 4),
        ("hash:F=4", "num_features_per_level", 4),
        ("hash:T=12", "log2_table_size", 12),
        ("hash:N_min=8", "min_resolution", 8),
        ("hash:b=1.5", "growth", 1.5),
        ("oneblob:bins=8", "num_bins", 8),
        ("relu:w=64", "width", 64),
        ("relu:depth=2", "depth", 2),
        ("relu:bias=false", "bias", False),
        ("siren:omega=10", "first_omega", 10.0),
        ("siren:omega=10", "hidden_omega", 10.0),
        ("wire:s0=4", "s", 4.0),
        ("gauss-act:a=0.2", "sigma", 0.2),
        ("basic:include_input=true", "include_input", True),
        ("pe:include_input=last", "include_input", "last"),
    ],
)
def test_aliases_and_value_kinds(spec, key, value):
    parsed = parse_spec(spec)
    args = parsed.encoder_args if parsed.encoder != "none" else parsed.net_args
    assert args[key] == value and type(args[key]) is type(value)


def test_whitespace_and_case_are_tolerated():
    assert parse_spec(" Gauss : sigma = 10 + RELU : width = 64 ") == parse_spec(
        "gauss:sigma=10+relu:width=64"
    )


def test_label_collapses_omega_only_when_equal():
    assert parse_spec("siren:first_omega=30,hidden_omega=30").label == "siren:omega=30"
    spec = parse_spec("siren:first_omega=30,hidden_omega=10")
    assert spec.label == "siren:first_omega=30,hidden_omega=10"
    assert parse_spec(spec.label) == spec


DICT_SPEC = {"encoder": {"type": "gauss", "sigma": 10}, "net": {"type": "relu", "width": 128}}


def test_dict_spec_and_round_trips():
    spec = parse_spec(DICT_SPEC)
    assert spec == parse_spec("gauss:sigma=10+relu:width=128")
    assert spec.to_dict() == {
        "encoder": {"type": "gauss", "sigma": 10.0},
        "net": {"type": "relu", "width": 128},
    }
    assert ModelSpec.from_dict(spec.to_dict()) == spec
    assert ModelSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
    assert parse_spec({"encoder": "pe"}) == parse_spec("pe")
    assert parse_spec({"net": {"type": "siren", "omega": 20}}) == parse_spec("siren:omega=20")
    assert parse_spec({}) == ModelSpec()
    for example in EXAMPLES:
        parsed = parse_spec(example)
        assert ModelSpec.from_dict(parsed.to_dict()) == parsed
    assert parse_spec(spec) == spec and parse_spec(spec) is not spec


def test_model_spec_is_validated_on_construction():
    spec = ModelSpec("PE", {"L": 3}, "siren", {"omega": 5})
    assert spec == parse_spec("pe:L=3+siren:omega=5")
    with pytest.raises(ValueError, match="'siren' is a net, not an encoder"):
        ModelSpec(encoder="siren")


def test_toml_spec_file(tmp_path):
    path = tmp_path / "model.toml"
    path.write_text(
        '[encoder]\ntype = "gauss"\nsigma = 10\nnum_frequencies = 64\n\n[net]\ntype = "relu"\nwidth = 128\ndepth = 2\n'
    )
    spec = load_spec_file(path)
    assert spec == parse_spec("gauss:sigma=10,num_frequencies=64+relu:width=128,depth=2")
    assert load_spec_file(str(path)) == spec == parse_spec(path) == parse_spec(str(path))
    model = build_model(path, 2, 3)
    assert model(torch.rand(4, 2)).shape == (4, 3)


def test_toml_spec_file_errors(tmp_path):
    missing = tmp_path / "missing.toml"
    with pytest.raises(ValueError, match=re.escape(f"spec file {str(missing)!r}: cannot read it")):
        load_spec_file(missing)
    bad = tmp_path / "bad.toml"
    bad.write_text("[encoder\ntype = gauss\n")
    with pytest.raises(ValueError, match=re.escape(f"spec file {str(bad)!r}: not valid TOML")):
        load_spec_file(bad)
    wrong = tmp_path / "wrong.toml"
    wrong.write_text('[encoder]\ntype = "gauss"\nscael = 3\n')
    message = f"model spec file {str(wrong)!r}: part 'encoder': unknown key 'scael'"
    with pytest.raises(ValueError, match=re.escape(message)):
        load_spec_file(wrong)


VALID_NAMES = "valid encoders: none, basic, pe, gauss, hash, sh, oneblob, triwave; valid nets: relu, tcnn, siren, gauss-act, finer, wire"


@pytest.mark.parametrize(
    "spec, message",
    [
        ("foo", f"model spec 'foo': part 'foo': unknown encoder or net 'foo'; {VALID_NAMES}"),
        (
            "pe+sirne",
            f"model spec 'pe+sirne': part 'sirne': unknown encoder or net 'sirne'; {VALID_NAMES}",
        ),
        (
            "pe:foo=1",
            "model spec 'pe:foo=1': part 'pe:foo=1': unknown key 'foo' for encoder 'pe'; valid keys: "
            "num_frequencies (L), min_log2_freq,",
        ),
        (
            "relu:omega=3",
            "unknown key 'omega' for net 'relu'; valid keys: width (w), depth, bias",
        ),
        (
            "gauss:scale",
            "model spec 'gauss:scale': part 'gauss:scale': 'scale' is not key=value; write gauss:key=",
        ),
        ("gauss:sigma=", "part 'gauss:sigma=': 'sigma=' is not key=value"),
        (
            "gauss:sigma=abc",
            "model spec 'gauss:sigma=abc': part 'gauss:sigma=abc': key 'sigma' needs a finite number, got 'abc'",
        ),
        ("gauss:sigma=nan", "key 'sigma' needs a finite number, got 'nan'"),
        (
            "gauss:scale=10",
            "unknown key 'scale' for encoder 'gauss'; valid keys: num_frequencies (m), sigma,",
        ),
        ("hash:L=8", "unknown key 'L' for encoder 'hash'; valid keys: num_levels (levels),"),
        ("relu:d=2", "unknown key 'd' for net 'relu'"),
        ("hash:n_levels=8", "unknown key 'n_levels' for encoder 'hash'"),
        ("pe:L=2.5", "key 'L' needs an integer, got '2.5'"),
        ("relu:bias=maybe", "key 'bias' needs true or false, got 'maybe'"),
        (
            "pe+gauss",
            "model spec 'pe+gauss': part 'gauss': two encoders ('pe' and 'gauss'); the second part must be a net: "
            "relu, tcnn, siren, gauss-act, finer, wire",
        ),
        (
            "relu+siren",
            "model spec 'relu+siren': part 'relu': two nets ('relu' and 'siren'); the first part must be an "
            "encoder: none, basic, pe, gauss",
        ),
        (
            "siren+pe",
            "part 'siren': net before encoder ('siren' and 'pe'); write ENCODER+NET, e.g. 'pe+siren'",
        ),
        ("pe+siren+relu", "3 parts; a spec is ENCODER, NET or ENCODER+NET"),
        ("", "model spec '': part '': empty part; a spec is ENCODER, NET or ENCODER+NET"),
        ("pe+", "model spec 'pe+': part '': empty part"),
        (
            "siren:omega=3,first_omega=2",
            "key 'first_omega' given twice (as 'omega' and 'first_omega')",
        ),
    ],
)
def test_parse_errors(spec, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_spec(spec)


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"encoder": {"type": "siren"}}, "part 'encoder': 'siren' is a net, not an encoder"),
        ({"net": {"type": "pe"}}, "part 'net': 'pe' is an encoder, not a net"),
        ({"encoder": {"sigma": 3}}, "part 'encoder': missing 'type' (the encoder or net name)"),
        (
            {"encoder": {"type": "gauss", "sigma": "big"}},
            "part 'encoder': key 'sigma' needs a finite number, got 'big",
        ),
        (
            {"net": {"type": "relu", "width": 12.5}},
            "part 'net': key 'width' needs an integer, got 12.5",
        ),
        ({"net": {"type": "relu", "bias": 1}}, "key 'bias' needs true or false, got 1"),
        (
            {"encoder": "gauss", "optimizer": "adam"},
            "unknown section(s) 'optimizer'; valid sections: encoder, net",
        ),
    ],
)
def test_dict_errors(spec, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_spec(spec)


def test_build_errors_name_spec_and_part():
    message = (
        "model spec 'gauss:sigma=-1': part 'gauss:sigma=-1': sigma must be a positive finite number"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        build_model("gauss:sigma=-1", 2, 1)
    with pytest.raises(
        ValueError, match=re.escape("part 'relu:width=0': width must be an integer >= 1, got 0")
    ):
        build_model("relu:w=0", 2, 1)
    with pytest.raises(
        ValueError, match=re.escape("part 'pe:layout=diagonal': layout must be one of")
    ):
        build_model("pe:layout=diagonal", 2, 1)
    with pytest.raises(ValueError, match="in_dim must be an integer >= 1, got 0"):
        build_model("none", 0, 1)
    with pytest.raises(
        TypeError, match="spec must be a string, a dict, a path or a ModelSpec, got int"
    ):
        parse_spec(3)


def test_build_model_output_activation_and_signal_domain():
    model = build_model(
        "gauss:sigma=3,num_frequencies=8+siren:width=8,depth=1", 2, 3, output_activation="sigmoid"
    )
    assert isinstance(model.net.layers[-1], nn.Sigmoid)
    y = model(torch.rand(20, 2))
    assert ((y > 0) & (y < 1)).all()
    model = build_model("siren:width=8,depth=1", 1, 1, signal_domain=(0.0, 10.0))
    seen = []
    model.net.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    model(torch.tensor([[0.0], [5.0], [10.0]]))
    torch.testing.assert_close(seen[0], torch.tensor([[-1.0], [0.0], [1.0]]))


def fit_mse(spec, t, y, steps=200, lr=1e-3):
    torch.manual_seed(0)
    model = build_model(spec, 1, 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = ((model(t) - y) ** 2).mean()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        return ((model(t) - y) ** 2).mean().item()


@pytest.fixture
def single_thread():
    """Tiny matmuls: one intra-op thread is faster, and far faster when the other core is busy
    (OpenMP workers spin waiting for it: 0.6 s vs 15-25 s measured on our shared 2-core machines)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def test_fourier_features_beat_raw_coordinates_on_a_high_frequency_signal(single_thread):
    # Spectral bias (Tancik et al. 2020): a ReLU MLP on raw coordinates barely starts on
    # sin(2π·16·t) in 200 steps, the same net on Gaussian Fourier features fits it.
    t = torch.linspace(0, 1, 257)[:-1, None]
    y = torch.sin(2 * math.pi * 16 * t)
    net = "relu:width=64,depth=2"
    raw = fit_mse(f"none+{net}", t, y)
    fourier = fit_mse(f"gauss:sigma=10,num_frequencies=64+{net}", t, y)
    assert raw > 0.3  # the signal's variance is 0.5
    assert fourier < 1e-2
    assert fourier < raw / 100
