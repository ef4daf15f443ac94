"""HashGrid: tiny-cuda-nn's geometry, hash and layout against formulas written here; nerfstudio's real code."""

import math
import struct

import pytest
import torch

from coordnet.encoders import HashGrid

MASK32 = 0xFFFFFFFF
TCNN_PRIMES = (1, 2654435761, 805459861, 3674653429)


def f32(value):
    """``value`` rounded to the nearest float32."""
    return struct.unpack("f", struct.pack("f", value))[0]


def expected_tcnn_level(level, d, base, b, log2_size, grid_type="hash"):
    """(scale, resolution, entries) of tiny-cuda-nn's GridEncodingTemplated: every float32 operation
    (log2f, the product, exp2f, the product, the subtraction) rounded once."""
    log2_b = f32(math.log2(f32(b)))
    scale = f32(f32(f32(2.0 ** f32(level * log2_b)) * base) - 1.0)
    resolution = math.ceil(scale) + 1
    entries = -(-(resolution**d) // 8) * 8
    if grid_type == "hash":
        entries = min(entries, 2**log2_size)
    elif grid_type == "tiled":
        entries = min(entries, base**d)
    return scale, resolution, entries


@pytest.mark.parametrize(
    "d,levels,base,b,log2_size,grid_type",
    [
        (3, 16, 16, 2.0, 19, "hash"),
        (2, 8, 16, 1.5, 14, "hash"),
        (3, 6, 4, 1.38, 12, "tiled"),
        (2, 5, 8, 1.26, 19, "dense"),
        (4, 4, 3, 2.0, 10, "hash"),
        (1, 10, 16, 1.9, 8, "hash"),
    ],
)
def test_tcnn_resolution_schedule_and_sizes(d, levels, base, b, log2_size, grid_type):
    grid = HashGrid(d, levels, 2, log2_size, base, b, grid_type=grid_type)
    offset = 0
    for level in range(levels):
        scale, resolution, entries = expected_tcnn_level(level, d, base, b, log2_size, grid_type)
        assert grid.levels.scales[level] == scale
        assert grid.levels.resolutions[level] == resolution
        assert grid.levels.sizes[level] == entries
        assert grid.levels.offsets[level] == offset
        offset += entries
    assert grid.params.shape == (2 * offset,) == (grid.num_params,)
    assert grid.out_dim == 2 * levels


def test_default_grid_is_instant_ngp():
    grid = HashGrid(3)
    # Vertices per axis 16·2^l: dense while 16^3, 32^3, 64^3 entries fit in 2^19, hashed after.
    assert grid.levels.resolutions == tuple(16 * 2**level for level in range(16))
    assert grid.levels.sizes == (4096, 32768, 262144) + (2**19,) * 13
    assert grid.num_params == 2 * (4096 + 32768 + 262144 + 13 * 2**19)
    assert grid.out_dim == 32
    assert grid.params.abs().max() <= 1e-4 and grid.params.std() > 3e-5


def vertex_query(grid, level, vertex):
    """A point whose grid position in `level` is vertex + 0.25 (so nearest picks `vertex`)."""
    scale = grid.levels.scales[level]
    return torch.tensor(
        [[(v + 0.25 - grid.levels.shift) / scale for v in vertex]], dtype=torch.float64
    )


def entry_probe(grid):
    """Feature 0 of entry e holds e, feature f holds e + f/8 (so the output names the entry)."""
    features = grid.num_features_per_level
    values = (
        torch.arange(grid.levels.num_entries, dtype=torch.float64)[:, None]
        + torch.arange(features) / 8
    )
    grid.params.data = values.reshape(-1).to(grid.params.dtype)
    return grid.double()


@pytest.mark.parametrize(
    "vertex", [(5, 7, 11), (0, 0, 0), (1023, 4, 900), (-3, 2, -7), (-1, -1, -1)]
)
def test_tcnn_hash_against_formula(vertex):
    grid = entry_probe(HashGrid(3, 6, 2, 12, 16, 2.0, interpolation="nearest"))
    level = 5  # resolution 512: hashed into 2^12 entries
    assert grid.levels.modes[level] == 1
    out = grid(vertex_query(grid, level, vertex))[0, 2 * level : 2 * level + 2]
    h = 0
    for v, prime in zip(vertex, TCNN_PRIMES):
        h ^= ((v % 2**32) * prime) & MASK32
    entry = grid.levels.offsets[level] + h % 2**12
    assert out.tolist() == [entry, entry + 1 / 8]


@pytest.mark.parametrize("vertex", [(3, 9), (15, 15), (16, 2), (-1, 4), (40, -20)])
@pytest.mark.parametrize("grid_type", ["dense", "tiled", "hash"])
def test_tcnn_dense_and_tiled_index_against_formula(vertex, grid_type):
    # Level 1: 32 vertices per axis; 1024 entries dense (also for "hash" with a 2^12 table),
    # 256 = 16^2 tiled. Vertices outside the grid wrap through uint32 arithmetic.
    grid = entry_probe(HashGrid(2, 2, 2, 12, 16, 2.0, interpolation="nearest", grid_type=grid_type))
    level = 1
    resolution = grid.levels.resolutions[level]
    assert resolution == 32
    size = {"dense": 1024, "hash": 1024, "tiled": 256}[grid_type]
    assert grid.levels.sizes[level] == size
    index = sum((v % 2**32) * resolution**j for j, v in enumerate(vertex)) & MASK32
    entry = grid.levels.offsets[level] + index % size
    out = grid(vertex_query(grid, level, vertex))[0, 2:4]
    assert out.tolist() == [entry, entry + 1 / 8]


def test_linear_interpolation_against_formula():
    # 1D, one dense level of 16 entries: features at p = 15x + 0.5 blend entries floor(p) and
    # floor(p) + 1; vertex 16 (x > 31/30) wraps to entry 0, as in tiny-cuda-nn.
    grid = HashGrid(1, 1, 2, 19, 16, 2.0).double()
    table = grid.table.detach()
    assert table.shape == (16, 2)
    x = torch.cat(
        [
            torch.rand(50, 1, dtype=torch.float64),
            torch.tensor([[0.999], [1.0]], dtype=torch.float64),
        ]
    )
    p = 15 * x[:, 0] + 0.5
    low = p.floor().long()
    t = (p - low)[:, None]
    high = (low + 1) % 16
    torch.testing.assert_close(grid(x), table[low] * (1 - t) + table[high] * t)
    smooth = HashGrid(1, 1, 2, 19, 16, 2.0, interpolation="smoothstep").double()
    smooth.load_state_dict(grid.state_dict())
    s = t * t * (3 - 2 * t)
    torch.testing.assert_close(smooth(x), table[low] * (1 - s) + table[high] * s)


def test_output_is_level_major():
    grid = HashGrid(2, 3, 4, 10, 4, 1.5).double()
    x = torch.rand(7, 2, dtype=torch.float64)
    out = grid(x)
    for level in range(3):
        single = HashGrid(2, level + 1, 4, 10, 4, 1.5).double()
        single.params.data = grid.params.data[: single.num_params]
        torch.testing.assert_close(out[:, 4 * level : 4 * level + 4], single(x)[:, 4 * level :])


def test_tiled_levels_too_fine_to_index_read_their_first_entry():
    # tiny-cuda-nn computes dense indices only up to 65535 vertices per axis in 2D (uint32
    # overflow); finer non-hashed levels index entry 0 of their table.
    grid = entry_probe(HashGrid(2, 13, 2, 19, 16, 2.0, interpolation="nearest", grid_type="tiled"))
    assert grid.levels.resolutions[11:] == (32768, 65536) and grid.levels.modes[11:] == (0, 2)
    assert grid.levels.sizes == (256,) * 13
    out = grid(torch.rand(20, 2, dtype=torch.float64))
    assert torch.equal(
        out[:, 24], torch.full((20,), float(grid.levels.offsets[12]), dtype=torch.float64)
    )
    assert len(set(out[:, 22].tolist())) > 1


def test_module_works_under_torch_compile():
    grid = HashGrid(3, 4, 2, 10, 4, 2.0)
    x = torch.rand(32, 3)
    compiled = torch.compile(grid, backend="aot_eager", fullgraph=True)
    torch.testing.assert_close(compiled(x), grid(x))
    compiled(x).sum().backward()
    got = grid.params.grad.clone()
    grid.params.grad = None
    grid(x).sum().backward()
    torch.testing.assert_close(got, grid.params.grad)


def test_out_of_range_inputs_give_finite_features():
    for convention in ("tcnn", "nerfstudio"):
        grid = HashGrid(3, 4, 2, 10, 4, 2.0, convention=convention)
        x = torch.tensor(
            [[-3.0, 4.0, 0.5], [1e20, -1e20, 1e38], [float("inf"), 0.5, float("-inf")]]
        )
        assert grid(x).isfinite().all()


def test_gradients_reach_the_table_and_the_positions():
    grid = HashGrid(3, 4, 2, 10, 4, 2.0)
    x = torch.rand(100, 3, requires_grad=True)
    grid(x).square().sum().backward()
    assert grid.params.grad.abs().sum() > 0 and x.grad.abs().sum() > 0
    assert int((grid.params.grad != 0).sum()) <= 100 * 8 * 4 * 2


def test_dtypes_batch_shapes_and_autocast():
    grid = HashGrid(2, 3, 2, 8, 4, 2.0)
    x = torch.rand(3, 5, 2)
    out = grid(x)
    assert out.shape == (3, 5, 6) and out.dtype == torch.float32
    out64 = grid(x.double())
    assert out64.dtype == torch.float64
    torch.testing.assert_close(out64.float(), out, rtol=1e-5, atol=1e-9)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert grid(x.bfloat16()).dtype == torch.float32


def test_seed_generator_and_state_dict():
    a, b = HashGrid(3, 4, seed=1), HashGrid(3, 4, seed=1)
    assert torch.equal(a.params, b.params)
    assert not torch.equal(a.params, HashGrid(3, 4, seed=2).params)
    c = HashGrid(3, 4, generator=torch.Generator().manual_seed(1))
    assert torch.equal(c.params, a.params)
    d = HashGrid(3, 4, seed=5)
    d.load_state_dict(a.state_dict())
    x = torch.rand(10, 3)
    assert torch.equal(d(x), a(x))


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        (dict(in_dim=0), ValueError, "in_dim must be an integer >= 1"),
        (dict(in_dim=5), ValueError, "in_dim must be between 1 and 4, got 5"),
        (dict(in_dim=3, num_levels=0), ValueError, "num_levels must be an integer >= 1, got 0"),
        (
            dict(in_dim=3, num_features_per_level=2.0),
            ValueError,
            "num_features_per_level must be an integer",
        ),
        (
            dict(in_dim=3, log2_table_size=31),
            ValueError,
            "log2_table_size must be an integer <= 30, got 31",
        ),
        (
            dict(in_dim=3, min_resolution=0),
            ValueError,
            "min_resolution must be an integer >= 1, got 0",
        ),
        (dict(in_dim=3, growth=-1.0), ValueError, "growth must be a positive finite number"),
        (dict(in_dim=3, interpolation="cubic"), ValueError, "interpolation must be one of"),
        (dict(in_dim=3, interpolation=1), TypeError, "interpolation must be a string"),
        (dict(in_dim=3, convention="instant-ngp"), ValueError, "convention must be one of"),
        (dict(in_dim=3, grid_type="sparse"), ValueError, "grid_type must be one of"),
        (
            dict(in_dim=3, convention="nerfstudio", grid_type="dense"),
            ValueError,
            "grid_type must be 'hash'",
        ),
        (
            dict(in_dim=3, convention="nerfstudio", interpolation="nearest"),
            ValueError,
            "only linear",
        ),
        (dict(in_dim=3, grid_type="dense"), ValueError, "needs .* parameters"),
        (dict(in_dim=3, init_scale=0.0), ValueError, "init_scale must be a positive finite number"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        HashGrid(**kwargs)


def test_bad_inputs_raise_clear_errors():
    grid = HashGrid(3, 2)
    with pytest.raises(ValueError, match=r"x must have shape \(\.\.\., 3\)"):
        grid(torch.rand(4, 2))
    with pytest.raises(TypeError, match="floating-point"):
        grid(torch.ones(4, 3, dtype=torch.int64))


def test_case_insensitive_names():
    grid = HashGrid(2, 2, interpolation="Smoothstep", grid_type="Tiled", convention="TCNN")
    assert (grid.interpolation, grid.grid_type, grid.convention) == ("smoothstep", "tiled", "tcnn")


# ---------------------------------------------------------------------------------- nerfstudio

nerfstudio_encodings = pytest.importorskip("nerfstudio.field_components.encodings")


def nerfstudio_pair(seed=0, **kwargs):
    torch.manual_seed(seed)
    theirs = nerfstudio_encodings.HashEncoding(implementation="torch", **kwargs)
    ours = HashGrid.from_nerfstudio(seed=seed, **kwargs)
    return theirs, ours


def test_nerfstudio_schedule_and_init_match_its_code():
    theirs, ours = nerfstudio_pair(3, num_levels=8, min_res=4, max_res=300, log2_hashmap_size=12)
    assert list(ours.levels.scales) == theirs.scalings.tolist()
    assert ours.growth == pytest.approx(float(theirs.growth_factor), abs=0)
    assert torch.equal(ours.table, theirs.hash_table.data)
    assert ours.out_dim == theirs.get_out_dim()


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(),
        dict(num_levels=6, min_res=8, max_res=700, log2_hashmap_size=14, features_per_level=4),
        dict(num_levels=1, min_res=16, log2_hashmap_size=10),
    ],
)
def test_nerfstudio_features_and_gradients_match_its_code(kwargs):
    theirs, ours = nerfstudio_pair(0, **kwargs)
    ours.params.data = theirs.hash_table.data.reshape(-1).clone()
    x = torch.cat([torch.rand(300, 3), torch.rand(50, 3) * 3 - 1])  # inside and outside [0, 1]
    x_theirs = x.clone().requires_grad_()
    x_ours = x.clone().requires_grad_()
    out_theirs = theirs(x_theirs)
    out_ours = ours(x_ours)
    torch.testing.assert_close(out_ours, out_theirs, rtol=1e-5, atol=1e-7)
    g = torch.randn_like(out_ours)
    grad_theirs = torch.autograd.grad(out_theirs, (x_theirs, theirs.hash_table), g)
    grad_ours = torch.autograd.grad(out_ours, (x_ours, ours.params), g)
    torch.testing.assert_close(grad_ours[0], grad_theirs[0], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(
        grad_ours[1].view_as(grad_theirs[1]), grad_theirs[1], rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(min_res=0), "min_res must be an integer >= 1, got 0"),
        (dict(num_levels=0), "num_levels must be an integer >= 1, got 0"),
        (dict(max_res=2.5), "max_res must be an integer >= 1, got 2.5"),
    ],
)
def test_nerfstudio_arguments_are_named_in_errors(kwargs, message):
    from coordnet.encoders.compat import HashEncoding

    with pytest.raises(ValueError, match=message):
        HashEncoding(implementation="torch", **kwargs)
    with pytest.raises(ValueError, match=message):
        HashGrid.from_nerfstudio(**kwargs)


def test_nerfstudio_growth_factor_and_scalings():
    from coordnet.encoders.compat import HashEncoding
    from coordnet.encoders.hashgrid import nerfstudio_growth

    growth = nerfstudio_growth(6, 8, 700)
    assert (
        math.isclose(growth, (700 / 8) ** (1 / 5), rel_tol=1e-12)
        and nerfstudio_growth(1, 16, 1024) == 1
    )
    encoding = HashEncoding(6, 8, 700, 10, implementation="torch")
    expected = torch.floor(
        8 * growth ** torch.arange(6)
    )  # nerfstudio's expression (float32 powers)
    assert torch.equal(encoding.scalings, expected) and encoding.growth_factor == growth
    single = HashEncoding(1, 16, 1024, 10, implementation="torch")
    assert torch.equal(
        single.scalings, torch.floor(16 * 1 ** torch.arange(1))
    )  # int64, as nerfstudio's


def test_arguments_take_coordnet_names_only():
    grid = HashGrid(
        2, num_levels=3, num_features_per_level=4, log2_table_size=8, min_resolution=4, growth=1.5
    )
    assert (
        grid.num_levels,
        grid.num_features_per_level,
        grid.log2_table_size,
        grid.min_resolution,
        grid.growth,
    ) == (3, 4, 8, 4, 1.5)
    for old_name in ("n_levels", "log2_hashmap_size", "base_resolution", "per_level_scale"):
        with pytest.raises(TypeError, match=f"unexpected keyword argument '{old_name}'"):
            HashGrid(2, **{old_name: 3})
        assert not hasattr(grid, old_name)
    assert not hasattr(grid, "n_params")
