"""tiny-cuda-nn encoding configs (``from_config``), its encodings OneBlob / TriangleWave / Composite,
and the new encoders in model specs and the ``coordnet fit`` command.

Output widths are checked against tiny-cuda-nn's formulas (DOCUMENTATION.md and the encodings'
``n_output_dims``); OneBlob against a numerical integral of its quartic kernel, TriangleWave
against an arccos form of the triangle wave.
"""

import json
import math

import numpy as np
import pytest
import torch
from scipy.integrate import quad

from coordnet.encoders import (
    Composite,
    Empty,
    HashGrid,
    Identity,
    OneBlob,
    Padded,
    PositionalEncoding,
    SphericalHarmonics,
    TriangleWave,
    from_config,
)
from coordnet.encoders.compat import tcnn_frequency
from coordnet.encoders.config import TCNN_OTYPES, alignment, tcnn_pad
from coordnet.nets import build_model, parse_spec

SMALL_GRID = {"n_levels": 3, "log2_hashmap_size": 8, "base_resolution": 4}


def rows(n, d, seed=0, dtype=torch.float32):
    return torch.rand(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).to(
        dtype
    )


# ------------------------------------------------------------------------- every tcnn otype


# (config, n_input_dims, tiny-cuda-nn's n_output_dims)
TCNN_WIDTHS = [
    ({"otype": "Identity"}, 5, 5),
    ({"otype": "Empty"}, 4, 0),
    ({"otype": "Frequency"}, 3, 3 * 2 * 12),
    ({"otype": "Frequency", "n_frequencies": 4}, 2, 2 * 2 * 4),
    ({"otype": "TriangleWave"}, 3, 3 * 12),
    ({"otype": "OneBlob"}, 2, 2 * 16),
    ({"otype": "OneBlob", "n_bins": 4}, 5, 5 * 4),
    ({"otype": "SphericalHarmonics"}, 3, 16),
    ({"otype": "SphericalHarmonics", "degree": 8}, 3, 64),
    ({"otype": "HashGrid", **SMALL_GRID}, 3, 3 * 2),
    ({"otype": "Grid", "type": "Dense", "n_levels": 2, "base_resolution": 4}, 2, 2 * 2),
    (
        {"otype": "DenseGrid", "n_levels": 2, "base_resolution": 4, "n_features_per_level": 4},
        2,
        2 * 4,
    ),
    ({"otype": "TiledGrid", **SMALL_GRID, "n_features_per_level": 1}, 2, 3),
    ({"otype": "HashGrid", "n_features": 8, "log2_hashmap_size": 8}, 3, 8),
    ({"otype": "NRC"}, 10, 3 * 12 + 5 * 4 + 2),
    ({"otype": "OneBlobFrequency", "n_frequencies": 2, "n_bins": 8}, 8, 3 * 2 + 5 * 8),
    (
        {
            "otype": "Composite",
            "nested": [
                {"n_dims_to_encode": 3, "otype": "SphericalHarmonics"},
                {"otype": "Identity"},
            ],
        },
        5,
        18,
    ),
]


@pytest.mark.parametrize(
    "config, n_input_dims, width",
    TCNN_WIDTHS,
    ids=lambda v: json.dumps(v) if isinstance(v, dict) else str(v),
)
def test_output_width_is_tcnns(config, n_input_dims, width):
    encoder = from_config(config, n_input_dims)
    assert encoder.in_dim == n_input_dims and encoder.out_dim == width
    y = encoder(rows(7, n_input_dims))
    assert y.shape == (7, width) and torch.isfinite(y).all()


def test_every_tcnn_otype_is_covered():
    tested = {from_config(c, n).config["otype"] for c, n, _ in TCNN_WIDTHS}
    assert tested == set(TCNN_OTYPES)


@pytest.mark.parametrize("otype", ["hashgrid", "HASHGRID", "hAsHgRiD", "HashGrid"])
def test_otype_is_case_insensitive(otype):
    encoder = from_config(
        {"otype": otype, **SMALL_GRID, "interpolation": "SMOOTHSTEP", "type": "hash"}, 2
    )
    assert (
        isinstance(encoder, HashGrid)
        and encoder.interpolation == "smoothstep"
        and encoder.grid_type == "hash"
    )


def test_missing_otype_is_oneblob_as_in_tcnn():
    encoder = from_config({}, 2)
    assert isinstance(encoder, OneBlob) and encoder.num_bins == 16


def test_defaults_are_tcnns():
    assert from_config({"otype": "Frequency"}, 3).bands == 12
    assert from_config({"otype": "TriangleWave"}, 3).num_frequencies == 12
    assert from_config({"otype": "OneBlob"}, 3).num_bins == 16
    sh = from_config({"otype": "SphericalHarmonics"}, 3)
    assert sh.degree == 4 and sh.convention == "tcnn"
    identity = from_config({"otype": "Identity"}, 2)
    assert identity.scale == 1.0 and identity.offset == 0.0
    grid = from_config({"otype": "HashGrid", "log2_hashmap_size": 8}, 2)
    assert (grid.num_levels, grid.num_features_per_level, grid.min_resolution) == (16, 2, 16)
    assert (grid.growth, grid.interpolation, grid.grid_type, grid.convention) == (
        2.0,
        "linear",
        "hash",
        "tcnn",
    )
    assert from_config({"otype": "HashGrid"}, 3).log2_table_size == 19
    assert from_config({"otype": "Grid", "log2_hashmap_size": 8}, 2).grid_type == "hash"
    assert from_config({"otype": "TiledGrid", **SMALL_GRID}, 2).grid_type == "tiled"
    assert (
        from_config({"otype": "Grid", "type": "Tile", **SMALL_GRID}, 2).grid_type == "tiled"
    )  # tcnn's alias
    nrc = from_config({"otype": "NRC"}, 9)
    assert (
        nrc.encoders[0].num_frequencies == 12
        and nrc.encoders[1].num_bins == 4
        and nrc.begins == (0, 3, 8)
    )


def test_dense_grid_default_scale_is_tcnns_formula():
    """tiny-cuda-nn: per_level_scale = exp(log(256 / base_resolution) / (n_levels - 1)) for dense grids."""
    grid = from_config({"otype": "DenseGrid", "n_levels": 5, "base_resolution": 16}, 2)
    assert grid.growth == pytest.approx(math.exp(math.log(256 / 16) / 4), rel=1e-6)
    assert grid.growth == float(np.float32(grid.growth))  # computed in float32, as tcnn does
    assert (
        from_config(
            {"otype": "Grid", "type": "Dense", "n_levels": 1, "base_resolution": 8}, 2
        ).out_dim
        == 2
    )


def test_identity_scale_and_offset():
    x = rows(4, 3)
    torch.testing.assert_close(
        from_config({"otype": "Identity", "scale": 2, "offset": -1}, 3)(x), 2 * x - 1
    )


def test_frequency_is_tcnn_frequency():
    x = rows(6, 3)
    encoder = from_config({"otype": "frequency", "n_frequencies": 5}, 3)
    torch.testing.assert_close(encoder(x), tcnn_frequency(3, 5)(x), rtol=0, atol=0)


def test_grid_matches_the_constructor():
    config = {
        "otype": "HashGrid",
        "n_levels": 4,
        "n_features_per_level": 4,
        "log2_hashmap_size": 10,
        "base_resolution": 8,
        "per_level_scale": 1.5,
        "interpolation": "Smoothstep",
    }
    encoder = from_config(config, 3)
    direct = HashGrid(3, 4, 4, 10, 8, 1.5, "smoothstep")
    direct.load_state_dict(encoder.state_dict())
    x = rows(50, 3)
    torch.testing.assert_close(encoder(x), direct(x), rtol=0, atol=0)


def test_coordnet_otypes():
    pe = from_config(
        {"otype": "PositionalEncoding", "num_frequencies": 4, "layout": "nerf-pytorch"}, 2
    )
    assert isinstance(pe, PositionalEncoding) and pe.out_dim == 16 and pe.layout == "nerf-pytorch"
    gauss = from_config(
        {"otype": "gaussianfourierfeatures", "num_frequencies": 8, "sigma": 3.0, "seed": 4}, 2
    )
    assert gauss.out_dim == 16 and gauss.sigma == 3.0
    with pytest.raises(ValueError, match="'scale'"):
        from_config(
            {"otype": "GaussianFourierFeatures", "num_frequencies": 8, "scale": 3.0, "seed": 4}, 2
        )
    assert from_config({"otype": "BasicFourier", "include_input": True}, 2).out_dim == 6


def test_seed_makes_grids_reproducible_and_different_grids_differ():
    config = {
        "otype": "Composite",
        "nested": [
            {"otype": "HashGrid", "n_dims_to_encode": 2, **SMALL_GRID},
            {"otype": "HashGrid", **SMALL_GRID},
        ],
    }
    a, b, c = (
        from_config(config, 4, seed=1),
        from_config(config, 4, seed=1),
        from_config(config, 4, seed=2),
    )
    assert torch.equal(a.encoders[0].params, b.encoders[0].params)
    assert not torch.equal(a.encoders[0].params, c.encoders[0].params)
    assert not torch.equal(
        a.encoders[0].params, a.encoders[1].params
    )  # one generator, drawn in config order


def test_config_as_json_string_file_and_whole_model(tmp_path):
    config = {"otype": "SphericalHarmonics", "degree": 3}
    path = tmp_path / "config.json"
    path.write_text(
        json.dumps(
            {"loss": {"otype": "L2"}, "encoding": config, "network": {"otype": "FullyFusedMLP"}}
        )
    )
    for source in (json.dumps(config), str(path), path):
        encoder = from_config(source, 3)
        assert isinstance(encoder, SphericalHarmonics) and encoder.out_dim == 9


# ------------------------------------------------------------------------- Composite semantics


def test_composite_slices_and_the_rest_passed_on():
    config = {
        "otype": "Composite",
        "nested": [
            {"n_dims_to_encode": 3, "otype": "SphericalHarmonics", "degree": 2},
            {"n_dims_to_encode": 1, "otype": "OneBlob", "n_bins": 4},
            {"otype": "Identity", "scale": 3.0},
        ],
    }
    encoder = from_config(config, 6)
    x = rows(5, 6)
    want = torch.cat(
        [SphericalHarmonics(3, 2)(x[:, :3]), OneBlob(1, 4)(x[:, 3:4]), 3.0 * x[:, 4:]], dim=-1
    )
    torch.testing.assert_close(encoder(x), want, rtol=0, atol=0)
    assert encoder.begins == (0, 3, 4) and encoder.out_dim == 4 + 4 + 2


def test_composite_dims_to_encode_begin_and_dropped_dims():
    config = {
        "otype": "Composite",
        "nested": [
            {"n_dims_to_encode": 2, "dims_to_encode_begin": 3, "otype": "Identity"},
            {
                "n_dims_to_encode": 1,
                "dims_to_encode_begin": 0,
                "otype": "TriangleWave",
                "n_frequencies": 2,
            },
        ],
    }
    encoder = from_config(config, 5)
    x = rows(4, 5)
    torch.testing.assert_close(
        encoder(x), torch.cat([x[:, 3:5], TriangleWave(1, 2)(x[:, :1])], -1), rtol=0, atol=0
    )
    only_first = from_config(
        {"otype": "Composite", "nested": [{"n_dims_to_encode": 2, "otype": "Identity"}]}, 4
    )
    torch.testing.assert_close(
        only_first(x[:, :4]), x[:, :2], rtol=0, atol=0
    )  # dims 2, 3 are dropped


def test_composite_skips_zero_dim_nested_encodings():
    config = {
        "otype": "Composite",
        "nested": [{"n_dims_to_encode": 0, "otype": "OneBlob"}, {"otype": "Identity"}],
    }
    encoder = from_config(config, 2)
    assert len(encoder.encoders) == 1 and encoder.out_dim == 2


def test_composite_pads_to_the_next_grids_alignment():
    """tiny-cuda-nn pads a nested output so the next nested grid starts at a multiple of its
    n_features_per_level: Identity (1 dim) + Grid(F=4) -> 1 + 3 ones, then the grid."""
    config = {
        "otype": "Composite",
        "nested": [
            {"n_dims_to_encode": 1, "otype": "Identity"},
            {"otype": "HashGrid", "n_features_per_level": 4, **SMALL_GRID},
        ],
    }
    encoder = from_config(config, 3)
    assert encoder.out_dim == 4 + 3 * 4 and alignment(encoder) == 4
    x = rows(5, 3)
    y = encoder(x)
    assert torch.equal(y[:, 0], x[:, 0]) and torch.equal(y[:, 1:4], torch.ones(5, 3))
    grid = encoder.encoders[1]
    torch.testing.assert_close(y[:, 4:], grid(x[:, 1:]), rtol=0, atol=0)


def test_nested_composite_pads_to_its_own_alignment():
    """A nested composite [Grid(F=4), Identity(1)] is 13 wide; tiny-cuda-nn creates nested encodings
    with alignment 1, which pads it to 16 (lcm of its nested alignments), with ones after the Identity."""
    inner = {
        "otype": "Composite",
        "n_dims_to_encode": 3,
        "nested": [
            {"n_dims_to_encode": 2, "otype": "HashGrid", "n_features_per_level": 4, **SMALL_GRID},
            {"otype": "Identity"},
        ],
    }
    encoder = from_config({"otype": "Composite", "nested": [inner, {"otype": "Identity"}]}, 4)
    assert encoder.encoders[0].out_dim == 16 and encoder.out_dim == 17
    x = rows(3, 4)
    y = encoder(x)
    assert (
        torch.equal(y[:, 12], x[:, 2])
        and torch.equal(y[:, 13:16], torch.ones(3, 3))
        and torch.equal(y[:, 16], x[:, 3])
    )
    top = from_config(inner, 3)  # at the top level (tinycudann.Encoding) no alignment padding
    assert top.out_dim == 13


@pytest.mark.parametrize("reduction, combine", [("Sum", torch.add), ("product", torch.mul)])
def test_composite_reductions(reduction, combine):
    config = {
        "otype": "Composite",
        "reduction": reduction,
        "nested": [
            {"n_dims_to_encode": 2, "otype": "TriangleWave", "n_frequencies": 3},
            {"otype": "OneBlob", "n_bins": 2},
        ],
    }
    encoder = from_config(config, 5)
    x = rows(4, 5)
    torch.testing.assert_close(
        encoder(x), combine(TriangleWave(2, 3)(x[:, :2]), OneBlob(3, 2)(x[:, 2:]))
    )


def test_tcnn_padding_rules():
    x = rows(3, 3)
    sh = tcnn_pad(SphericalHarmonics(3, 2), 4)
    assert torch.equal(sh(x)[:, :4], torch.ones(3, 4)) and sh.out_dim == 8  # in front, ones
    grid = tcnn_pad(from_config({"otype": "HashGrid", **SMALL_GRID}, 3), 2)
    assert torch.equal(grid(x)[:, -2:], torch.zeros(3, 2))  # at the back, zeros
    identity = tcnn_pad(Identity(3), 5)
    assert torch.equal(identity(x), torch.cat([x, torch.ones(3, 5)], -1))
    composite = tcnn_pad(
        Composite(3, [Identity(1), SphericalHarmonics(3, 1, convention="nerfstudio")], [0, 0]), 2
    )
    assert (
        torch.equal(composite(x)[:, -2:], torch.ones(3, 2)) and composite.out_dim == 4
    )  # last nested pads
    twice = tcnn_pad(tcnn_pad(Identity(2), 1), 2)
    assert isinstance(twice, Padded) and twice.n_back == 3 and twice.out_dim == 5
    assert tcnn_pad(Identity(2), 0).__class__ is Identity


# ------------------------------------------------------------------------- error cases


def message(text):
    return text.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[").replace("]", r"\]")


@pytest.mark.parametrize(
    "config, n, fragments",
    [
        (
            {"otype": "HashGird"},
            3,
            ["unknown otype 'HashGird'", "allowed otypes", "HashGrid", "SphericalHarmonics"],
        ),
        (
            {"otype": "SphericalHarmonics", "degre": 4},
            3,
            ["(SphericalHarmonics)", "unknown key 'degre'", "allowed keys: otype, degree"],
        ),
        (
            {"otype": "OneBlob", "n_dims_to_encode": 2},
            3,
            ["n_dims_to_encode=2 at the top level must equal n_input_dims=3"],
        ),
        (
            {"otype": "OneBlob", "dims_to_encode_begin": 1},
            3,
            ["unknown key 'dims_to_encode_begin' (it belongs in a Composite"],
        ),
        (
            {"otype": "SphericalHarmonics", "degree": 9},
            3,
            ["degree must be an integer between 1 and 8, got 9"],
        ),
        (
            {"otype": "SphericalHarmonics", "degree": 0},
            3,
            ["degree must be an integer between 1 and 8, got 0"],
        ),
        (
            {"otype": "SphericalHarmonics", "degree": "4"},
            3,
            ["degree must be an integer between 1 and 8, got '4'"],
        ),
        ({"otype": "SphericalHarmonics"}, 2, ["needs 3 input dims, got 2"]),
        ({"otype": "OneBlob", "n_bins": 12}, 2, ["n_bins must be a power of two, got 12"]),
        (
            {"otype": "Frequency", "n_frequencies": -1},
            2,
            ["n_frequencies must be an integer >= 1, got -1"],
        ),
        ({"otype": "Identity", "scale": "2"}, 2, ["scale must be a finite number, got '2'"]),
        (
            {"otype": "HashGrid", "n_levels": 4, "n_features": 8},
            2,
            ["give n_levels or n_features, not both"],
        ),
        (
            {"otype": "HashGrid", "hash": "Prime"},
            2,
            ["hash must be one of CoherentPrime", "got 'Prime'"],
        ),
        (
            {"otype": "HashGrid", "stochastic_interpolation": True},
            2,
            ["stochastic_interpolation must be false"],
        ),
        (
            {"otype": "HashGrid", "interpolation": "cubic"},
            2,
            ["interpolation must be one of Nearest, Linear, Smoothstep"],
        ),
        ({"otype": "Grid", "type": "Sparse"}, 2, ["type must be one of Hash, Dense, Tiled"]),
        ({"otype": "HashGrid", "n_levels": 0}, 2, ["n_levels must be an integer >= 1, got 0"]),
        ({"otype": "HashGrid"}, 5, ["in_dim must be between 1 and 4, got 5"]),
        ({"otype": "Composite"}, 2, ["nested must be a non-empty list"]),
        (
            {"otype": "Composite", "nested": [{"otype": "Identity"}], "reduction": "max"},
            2,
            ["reduction must be one of Concatenation, Sum, Product"],
        ),
        (
            {"otype": "Composite", "nested": [3]},
            2,
            ["nested[0] must be an encoding config (a dict), got int"],
        ),
        ({"otype": "NRC"}, 6, ["add up to 8 but the composite encodes 6 dims"]),
    ],
)
def test_errors_name_the_key_and_the_allowed_values(config, n, fragments):
    with pytest.raises(ValueError) as info:
        from_config(config, n)
    text = str(info.value)
    assert text.startswith("encoding config encoding")
    for fragment in fragments:
        assert fragment in text, (fragment, text)


@pytest.mark.parametrize(
    "nested, n, fragments",
    [
        (
            [
                {"n_dims_to_encode": 3, "otype": "Identity"},
                {"n_dims_to_encode": 2, "otype": "Identity"},
            ],
            4,
            ["the nested n_dims_to_encode add up to 5 but the composite encodes 4 dims"],
        ),
        (
            [{"otype": "Identity"}, {"otype": "OneBlob"}],
            4,
            ["may be left out of one nested encoding only", "nested[0, 1]"],
        ),
        (
            [{"n_dims_to_encode": -1, "otype": "Identity"}],
            4,
            ["encoding.nested[0] (Identity)", "n_dims_to_encode must be an integer >= 0, got -1"],
        ),
        (
            [{"n_dims_to_encode": 2, "dims_to_encode_begin": 3, "otype": "Identity"}],
            4,
            ["encoding.nested[0] (Identity): encodes input dims 3..4 but the composite has only 4"],
        ),
        (
            [{"n_dims_to_encode": 2, "otype": "OneBlob", "n_bin": 4}],
            2,
            ["encoding.nested[0] (OneBlob): unknown key 'n_bin'", "n_dims_to_encode"],
        ),
        (
            [{"n_dims_to_encode": 2, "otype": "SphericalHarmonics"}],
            2,
            ["encoding.nested[0] (SphericalHarmonics)", "needs 3 input dims, got 2"],
        ),
        (
            [
                {"n_dims_to_encode": 1, "otype": "Identity"},
                {"otype": "Composite", "nested": [{"otype": "Foo"}]},
            ],
            3,
            ["encoding.nested[1].nested[0]: unknown otype 'Foo'"],
        ),
    ],
)
def test_composite_errors(nested, n, fragments):
    with pytest.raises(ValueError) as info:
        from_config({"otype": "Composite", "nested": nested}, n)
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))


def test_reduction_needs_equal_widths():
    config = {
        "otype": "Composite",
        "reduction": "sum",
        "nested": [{"n_dims_to_encode": 1, "otype": "Identity"}, {"otype": "OneBlob", "n_bins": 4}],
    }
    with pytest.raises(
        ValueError,
        match=message("reduction 'sum' needs nested encodings of one output width, got [1, 4]"),
    ):
        from_config(config, 2)


def test_bad_sources(tmp_path):
    with pytest.raises(TypeError, match="must be a dict"):
        from_config([1, 2], 2)
    with pytest.raises(ValueError, match="encoding config string: not valid JSON"):
        from_config('{"otype": ', 2)
    with pytest.raises(ValueError, match="cannot read it"):
        from_config(str(tmp_path / "missing.json"), 2)
    with pytest.raises(ValueError, match="n_input_dims must be an integer >= 1, got 0"):
        from_config({"otype": "Identity"}, 0)
    with pytest.raises(ValueError, match="model config: 'encoding' must be an encoding config"):
        from_config({"network": {"otype": "FullyFusedMLP"}}, 2)


# ------------------------------------------------------------------------- OneBlob


def oneblob_by_integration(x, n_bins):
    """Mass of the quartic kernel (radius one bin) centred at x, x - 1 and x + 1 in each bin."""

    def pdf(t, centre):
        u = (t - centre) * n_bins
        return n_bins * 15 / 16 * (1 - u * u) ** 2 if abs(u) < 1 else 0.0

    values = []
    for k in range(n_bins):
        a, b = k / n_bins, (k + 1) / n_bins
        values.append(
            sum(quad(pdf, a, b, args=(x + s,), points=[x + s], epsabs=1e-13)[0] for s in (-1, 0, 1))
        )
    return values


@pytest.mark.parametrize("n_bins", [1, 4, 16])
def test_oneblob_is_the_binned_quartic_kernel(n_bins):
    xs = [0.0, 0.013, 0.25, 0.5, 0.61, 0.97, 1.0]
    got = OneBlob(1, n_bins).double()(torch.tensor(xs, dtype=torch.float64)[:, None])
    want = torch.tensor([oneblob_by_integration(x, n_bins) for x in xs], dtype=torch.float64)
    torch.testing.assert_close(got, want, rtol=0, atol=1e-10)


def test_oneblob_layout_sums_and_out_of_range():
    encoder = OneBlob(3, 8)
    x = torch.tensor([[0.1, 0.5, 0.9], [-0.3, 1.7, 40.0], [-1e6, 1e6, -2.5]])
    y = encoder(x)
    assert y.shape == (3, 24)
    torch.testing.assert_close(
        y.view(3, 3, 8).sum(-1), torch.ones(3, 3)
    )  # each coordinate's bins sum to 1
    torch.testing.assert_close(y[0, 8:16], OneBlob(1, 8)(x[0, 1:2]))  # coordinate-major
    far = y.view(3, 3, 8)[1:, :, :]  # more than a unit outside: all mass in the last bin
    assert torch.equal(far[1], torch.eye(8)[-1].expand(3, 8)) and torch.equal(
        far[0, 2], torch.eye(8)[-1]
    )
    inner = torch.tensor([[0.3, 0.5, 0.85]])  # kernels inside [0, 1]: x - 1 and x + 1 encode alike
    torch.testing.assert_close(encoder(inner + 1.0), encoder(inner), rtol=0, atol=1e-6)
    torch.testing.assert_close(encoder(inner - 1.0), encoder(inner), rtol=0, atol=1e-6)


def test_oneblob_gradcheck():
    x = torch.tensor([[0.11, 0.47], [0.73, 0.02]], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(OneBlob(2, 8).double(), (x,))


def test_oneblob_errors():
    with pytest.raises(ValueError, match="num_bins must be a power of two, got 6"):
        OneBlob(2, 6)
    with pytest.raises(ValueError, match="num_bins must be an integer >= 1, got 0"):
        OneBlob(2, 0)
    with pytest.raises(
        ValueError, match="n_bins must be a power of two, got 6"
    ):  # a config names its key
        from_config({"otype": "OneBlob", "n_bins": 6}, 2)
    with pytest.raises(TypeError, match="n_bins"):
        OneBlob(2, n_bins=4)
    assert not hasattr(TriangleWave(2, num_frequencies=3), "n_frequencies")


# ------------------------------------------------------------------------- TriangleWave


def test_triangle_wave_against_an_arccos_form():
    """4|frac(v) - 1/2| - 1 = 1 - (2/π) arccos(cos 2πv), v = 2^(l-1) x + l/4."""
    x = torch.linspace(-2.3, 2.9, 301, dtype=torch.float64)[:, None].repeat(1, 2)
    got = TriangleWave(2, 6).double()(x).view(301, 2, 6)
    levels = torch.arange(6, dtype=torch.float64)
    v = x[..., None] * 2.0 ** (levels - 1) + levels / 4
    want = 1 - 2 / math.pi * torch.arccos(torch.cos(2 * math.pi * v).clamp(-1, 1))
    torch.testing.assert_close(got, want, rtol=0, atol=1e-7)
    assert got.abs().max() <= 1.0


def test_triangle_wave_layout_and_gradient():
    encoder = TriangleWave(3, 4).double()
    assert encoder.out_dim == 12
    x = torch.tensor([[0.1, 0.37, 0.81]], dtype=torch.float64, requires_grad=True)
    torch.testing.assert_close(encoder(x)[0, 4:8], TriangleWave(1, 4).double()(x[:, 1:2])[0])
    assert torch.autograd.gradcheck(encoder, (x,))
    encoder(x)[0, 3].backward()  # d/dx of level 3: ±2^(3+1)
    assert abs(x.grad[0, 0].item()) == 16.0


# ------------------------------------------------------------------------- Empty, Padded, Composite API


def test_empty_and_padded_modules():
    x = rows(4, 3, dtype=torch.float64).requires_grad_()
    empty = Empty(3)
    assert empty(x).shape == (4, 0) and empty.out_dim == 0
    padded = Padded(Identity(3), n_front=1, n_back=2, value=0.5)
    y = padded(x)
    assert padded.out_dim == 6 and torch.equal(y[:, 0], torch.full((4,), 0.5, dtype=torch.float64))
    y.sum().backward()
    assert torch.equal(x.grad, torch.ones_like(x))
    with pytest.raises(ValueError, match="value must be a finite number"):
        Padded(Identity(3), value=float("nan"))


def test_composite_api_errors():
    with pytest.raises(ValueError, match="at least one nested encoder"):
        Composite(3, [])
    with pytest.raises(
        ValueError,
        match=message("encoders[1] (Identity) reads input coordinates 2..3 but in_dim is 3"),
    ):
        Composite(3, [Identity(2), Identity(2)])
    with pytest.raises(ValueError, match="begins must give one start per encoder"):
        Composite(3, [Identity(2)], begins=[0, 1])
    with pytest.raises(ValueError, match="reduction must be one of"):
        Composite(3, [Identity(2)], reduction="max")
    mixed = Composite(
        6, [SphericalHarmonics(3, 2), SphericalHarmonics(3, 2, convention="nerfstudio")]
    )
    assert mixed.input_domain is None and Composite(3, [Identity(3)]).input_domain is None


# ------------------------------------------------------------------------- model specs and the CLI


@pytest.mark.parametrize(
    "spec, label, cls, attrs",
    [
        (
            "hash:levels=4,F=4,T=10,N_min=8,b=1.5",
            "hash:num_levels=4,num_features_per_level=4,log2_table_size=10,min_resolution=8,growth=1.5",
            HashGrid,
            {
                "num_levels": 4,
                "num_features_per_level": 4,
                "log2_table_size": 10,
                "min_resolution": 8,
                "growth": 1.5,
            },
        ),
        (
            "hash:num_levels=4,num_features_per_level=4,log2_table_size=10,min_resolution=8,growth=1.5",
            "hash:num_levels=4,num_features_per_level=4,log2_table_size=10,min_resolution=8,growth=1.5",
            HashGrid,
            {"num_levels": 4, "min_resolution": 8},
        ),
        (
            "hash:num_levels=2,T=8,grid_type=dense,interpolation=smoothstep",
            None,
            HashGrid,
            {"grid_type": "dense", "interpolation": "smoothstep"},
        ),
        ("sh:degree=3", "sh:degree=3", SphericalHarmonics, {"degree": 3, "convention": "tcnn"}),
        (
            "sh:convention=nerfstudio+relu:width=16,depth=1",
            None,
            SphericalHarmonics,
            {"convention": "nerfstudio"},
        ),
        ("oneblob:bins=8", "oneblob:num_bins=8", OneBlob, {"num_bins": 8}),
        ("triwave:L=5", "triwave:num_frequencies=5", TriangleWave, {"num_frequencies": 5}),
    ],
)
def test_specs_build_the_new_encoders(spec, label, cls, attrs):
    parsed = parse_spec(spec)
    if label is not None:
        assert parsed.label == label
    assert parse_spec(parsed.label) == parsed and parse_spec(parsed.to_dict()) == parsed
    model = build_model(parsed, 3, 2)
    assert isinstance(model.encoder, cls)
    for name, value in attrs.items():
        assert getattr(model.encoder, name) == value
    assert model(rows(5, 3)).shape == (5, 2)


@pytest.mark.parametrize(
    "spec, fragment",
    [
        ("hash:levels=0", "num_levels must be an integer >= 1, got 0"),
        ("hash:T=abc", "key 'T' needs an integer, got 'abc'"),
        ("hash:convention=ngp", "convention must be one of 'tcnn', 'nerfstudio', got 'ngp'"),
        (
            "hash:degree=3",
            "unknown key 'degree' for encoder 'hash'; valid keys: num_levels (levels)",
        ),
        ("sh:degree=9", "degree must be an integer between 1 and 8"),
        ("oneblob:num_bins=5", "num_bins must be a power of two, got 5"),
    ],
)
def test_spec_errors(spec, fragment):
    with pytest.raises(ValueError) as info:
        build_model(spec, 3, 1)
    assert fragment in str(info.value) and str(info.value).startswith("model spec ")


def test_spherical_harmonics_spec_needs_three_dims():
    with pytest.raises(ValueError, match="in_dim must be 3, got 2"):
        build_model("sh", 2, 3)


def test_coordnet_fit_with_a_hash_spec(tmp_path):
    from cli.test_cli import invoke

    spec = "hash:levels=4,F=2,T=10,N_min=4,b=2+relu:width=16,depth=1"
    out = tmp_path / "fit"
    result = invoke(
        "fit",
        "camera",
        "--size",
        "16",
        "-m",
        spec,
        "--steps",
        "30",
        "--eval-every",
        "10",
        "--quiet",
        "--lr",
        "1e-2",
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert (
        metrics["model"]
        == "hash:num_levels=4,num_features_per_level=2,log2_table_size=10,min_resolution=4,growth=2+relu:width=16,depth=1"
    )
    assert metrics["steps"] == 30 and np.isfinite(metrics["train_psnr"])
    assert metrics["history"]["train_psnr"][-1] > metrics["history"]["train_psnr"][0]  # it learns
    import coordnet

    model = coordnet.load(out / "checkpoint.pt")
    assert isinstance(model.encoder, HashGrid) and model.encoder.num_levels == 4
