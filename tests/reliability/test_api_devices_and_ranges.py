"""Device arguments, op arguments, meta tensors and the input range of the encoders: errors that
name the argument, shape inference on ``meta``, and finite features for every finite input."""

import math
import re

import pytest
import torch

import coordnet
import coordnet.tcnn as tcnn
from coordnet import ops
from coordnet.encoders import (
    BasicFourier,
    Composite,
    FourierFeatures,
    GaussianFourierFeatures,
    HashGrid,
    Identity,
    IntegratedPositionalEncoding,
    OneBlob,
    PositionalEncoding,
    SphericalHarmonics,
    TriangleWave,
)
from coordnet.encoders.config import from_config

FLOAT32_MAX = torch.finfo(torch.float32).max


# ---------------------------------------------------------------- 16: device arguments
@pytest.mark.parametrize("device", ["tpu", 5, "cuda:99", "cuda:x", None])
def test_load_refuses_a_device_it_cannot_use_naming_it(tmp_path, device):
    # Checked before the file is read: the device is the problem, not the path.
    with pytest.raises(ValueError, match=re.escape(repr(device))) as caught:
        coordnet.load(str(tmp_path / "checkpoint.pt"), device=device)
    assert str(caught.value).startswith("load(device):")


@pytest.mark.parametrize("device", ["tpu", 5, "xla:x"])
def test_route_refuses_an_unknown_device_naming_it(device):
    with pytest.raises(ValueError, match=re.escape(repr(device))):
        ops.route("fourier_features", device=device)


# ---------------------------------------------------------------- 17: op arguments
@pytest.mark.parametrize("factor", [math.nan, math.inf, -math.inf])
def test_fourier_features_refuses_a_non_finite_factor(factor):
    with pytest.raises(ValueError, match=r"fourier_features: factor must be finite, got"):
        ops.fourier_features(torch.rand(4, 2), torch.rand(3, 2), factor=factor)


def test_fourier_features_refuses_x_and_B_on_different_devices():
    x = torch.empty(4, 2, device="meta")
    with pytest.raises(ValueError, match=r"B is on cpu but x on meta"):
        ops.fourier_features(x, torch.rand(3, 2))
    with pytest.raises(ValueError, match=r"amplitude must be .* on meta"):
        ops.fourier_features(x, torch.empty(3, 2, device="meta"), torch.rand(3))


LEVEL_ARGS = dict(
    in_dim=3,
    num_levels=4,
    num_features_per_level=2,
    log2_table_size=12,
    min_resolution=16,
    growth=1.5,
)


@pytest.mark.parametrize("levels", [ops.tcnn_levels, ops.nerfstudio_levels])
@pytest.mark.parametrize(
    "name, value",
    [
        ("num_levels", 0),
        ("log2_table_size", 64),
        ("growth", math.nan),
        ("growth", 0.0),
        ("in_dim", 9),
        ("num_features_per_level", 0),
        ("min_resolution", 2**40),
        ("num_levels", 1.5),
    ],
)
def test_level_geometry_refuses_bad_arguments_naming_them(levels, name, value):
    with pytest.raises((ValueError, TypeError), match=rf"^{levels.__name__}: {name} must be"):
        levels(**{**LEVEL_ARGS, name: value})


def test_tcnn_levels_refuses_an_unknown_grid_type_and_a_finest_level_beyond_2_31():
    with pytest.raises(
        ValueError, match=r"grid_type must be one of 'hash', 'dense', 'tiled', got 'x'"
    ):
        ops.tcnn_levels(**LEVEL_ARGS, grid_type="x")
    with pytest.raises(ValueError, match=r"growth=4 over 40 levels .* outside \[1, 2\^31\]"):
        ops.tcnn_levels(**{**LEVEL_ARGS, "num_levels": 40, "growth": 4.0})


# ---------------------------------------------------------------- 18: meta tensors
ENCODERS = {
    "identity": lambda: Identity(3, scale=2.0, offset=-1.0),
    "basic": lambda: BasicFourier(3),
    "pe": lambda: PositionalEncoding(3, 4, include_input=True),
    "gauss": lambda: GaussianFourierFeatures(3, 16, 10.0),
    "fourier-learnable": lambda: FourierFeatures(torch.randn(8, 3), learnable=True),
    "ipe": lambda: IntegratedPositionalEncoding(3, 0, 4),
    "hash": lambda: HashGrid(3, 4, 2, 12, 4, 1.5),
    "hash-half": lambda: HashGrid(3, 4, 2, 12, 4, 1.5, param_dtype=torch.float16),
    "sh": lambda: SphericalHarmonics(3, 4),
    "oneblob": lambda: OneBlob(3, 8),
    "triwave": lambda: TriangleWave(3, 4),
    "composite": lambda: Composite(3, [OneBlob(1, 4), TriangleWave(2, 3)]),
    "config": lambda: from_config({"otype": "Frequency", "n_frequencies": 3}, 3),
    "tcnn-encoding": lambda: tcnn.Encoding(
        3, {"otype": "HashGrid", "n_levels": 4, "log2_hashmap_size": 12}
    ),
    "tcnn-network": lambda: tcnn.Network(
        3, 2, {"otype": "FullyFusedMLP", "n_neurons": 16, "n_hidden_layers": 1}
    ),
    "tcnn-with-encoding": lambda: tcnn.NetworkWithInputEncoding(
        3,
        2,
        {"otype": "Frequency", "n_frequencies": 2},
        {"otype": "FullyFusedMLP", "n_neurons": 16, "n_hidden_layers": 1},
    ),
}


@pytest.mark.parametrize("module_on_meta", [False, True], ids=["module-on-cpu", "module-on-meta"])
@pytest.mark.parametrize("name", list(ENCODERS))
def test_meta_inputs_infer_the_output_shape(name, module_on_meta):
    module = ENCODERS[name]()
    shape = (5, 3) if name.startswith("tcnn") else (2, 5, 3)
    want = module(torch.rand(*shape))
    if module_on_meta:
        module = module.to("meta")
    got = module(torch.empty(*shape, device="meta"))
    assert got.device.type == "meta"
    assert got.shape == want.shape and got.dtype == want.dtype


# ---------------------------------------------------------------- 19: finite inputs, finite outputs
HUGE = torch.tensor([[FLOAT32_MAX, -FLOAT32_MAX, 3.4e38], [1.0, 0.5, -3.0e38]])


@pytest.mark.parametrize(
    "make",
    [
        lambda: PositionalEncoding(3, 10),
        lambda: GaussianFourierFeatures(3, 64, 10.0),
        lambda: BasicFourier(3),
        lambda: TriangleWave(3, 12),
    ],
    ids=["pe", "gauss", "basic", "triwave"],
)
@pytest.mark.parametrize("rows", [2, 4000], ids=["small", "large"])  # reference, compiled kernel
def test_features_stay_finite_for_the_largest_float32_inputs(make, rows):
    encoder = make()
    x = HUGE.repeat(rows // 2, 1)
    y = encoder(x)
    assert y.dtype == torch.float32 and torch.isfinite(y).all()
    # Rows of ordinary inputs are computed as they always were.
    torch.testing.assert_close(y[1::2][:1], encoder(x[1:2]), rtol=0, atol=1e-6)
    assert torch.isnan(encoder(torch.tensor([[math.nan, 0.0, 0.0]]))).any()


def test_overflowing_fourier_phases_are_computed_in_float64():
    B = torch.randn(16, 3) * 10
    x = HUGE
    got = ops.fourier_features(x, B)
    want = ops.fourier_features(x.double(), B.double()).float()
    assert torch.equal(got, want)


def test_triangle_wave_of_an_overflowing_input_is_the_wave_at_its_phase_shift():
    # 2^(l-1) x is an even integer once it overflows: feature l is the wave at v = l/4.
    levels = torch.arange(4, dtype=torch.float64)
    want = 4 * torch.abs(0.25 * levels - torch.floor(0.25 * levels) - 0.5) - 1
    got = TriangleWave(1, 4)(torch.tensor([[FLOAT32_MAX]]))
    torch.testing.assert_close(got[0].double(), want)


@pytest.mark.parametrize("name", ["scale", "offset"])
def test_identity_refuses_parameters_that_overflow_float32(name):
    with pytest.raises(ValueError, match=rf"^Identity: {name} must be at most 3.403e\+38"):
        Identity(3, **{name: 1e40})
    assert torch.isfinite(Identity(3, **{name: 1e38})(torch.rand(4, 3))).all()


def test_integrated_encoding_stays_finite_for_the_largest_float32_means():
    encoder = IntegratedPositionalEncoding(3, 0, 8)
    for cov in (None, torch.full((2, 3), 0.01)):
        y = encoder(HUGE, cov)
        assert y.dtype == torch.float32 and torch.isfinite(y).all()
        want = encoder(HUGE.double(), None if cov is None else cov.double()).float()
        assert torch.equal(y, want)
    with pytest.raises(TypeError, match="cov must be a floating-point tensor"):
        encoder(HUGE, [[0.1] * 3] * 2)  # a bad cov is refused on the float64 path too
