"""The hash-grid op: compiled kernels against the pure-PyTorch reference, gradients, accumulation."""

import pytest
import torch
from devices import on_devices, to
from helpers import requires_extension

import coordnet.ops as ops
from coordnet.ops.hashgrid import INTERPOLATION_CODES
from coordnet.ops.hashgrid_reference import (
    MODE_DENSE,
    MODE_HASH,
    MODE_ZERO,
    GridLevels,
    hashgrid_reference,
    nerfstudio_levels,
    tcnn_levels,
)
from coordnet.ops.tolerances import (
    HASHGRID_FLOAT32_GRAD,
    HASHGRID_FLOAT64_GRAD,
    HASHGRID_HALF_TABLE_GRAD,
    hashgrid_tolerance,
)

INTERPOLATIONS = ("nearest", "linear", "smoothstep")


def small_levels(d, grid_type="hash", features=2):
    """Five levels of growing resolution: dense, tiled or hashed depending on grid_type and d."""
    return tcnn_levels(d, 5, features, 7, 3, 1.9, grid_type)


def random_problem(levels, n, dtype, low=-0.3, high=1.3, device="cpu"):
    x = torch.rand(n, levels.in_dim, dtype=dtype) * (high - low) + low
    table = torch.randn(levels.num_entries, levels.num_features_per_level, dtype=dtype)
    return to(device, x, table)


def op_args(levels, interpolation):
    return (
        list(levels.scales),
        levels.flat_levels(),
        INTERPOLATION_CODES[interpolation],
        levels.shift,
        levels.ceil_corner,
    )


def tolerance(dtype, table, levels=None, x=None):
    """coordnet.ops.tolerances.hashgrid_tolerance (shared with ``coordnet doctor --verify``)."""
    return hashgrid_tolerance(dtype, table, None if levels is None else levels.scales, x)


def test_small_levels_cover_every_mode():
    modes = {
        m
        for d in (1, 2, 3, 4)
        for g in ("hash", "dense", "tiled")
        for m in small_levels(d, g).modes
    }
    assert modes == {MODE_DENSE, MODE_HASH}
    assert MODE_ZERO in tcnn_levels(3, 2, 2, 19, 2000, 2.0, "tiled").modes


@requires_extension
@on_devices
@pytest.mark.parametrize("d", [1, 2, 3, 4])
@pytest.mark.parametrize("grid_type", ["hash", "dense", "tiled"])
@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_compiled_forward_matches_reference(compiled_path, device, d, grid_type, interpolation):
    for dtype, features, n in ((torch.float64, 2, 301), (torch.float32, 3, 97)):
        levels = small_levels(d, grid_type, features)
        x, table = random_problem(levels, n, dtype, device=device)
        got = ops.hashgrid_encode(x, table, levels, interpolation)
        want = hashgrid_reference(x, table, levels, interpolation)
        assert got.shape == want.shape == (n, 5 * features) and got.dtype == dtype
        torch.testing.assert_close(got, want, rtol=0, atol=tolerance(dtype, table, levels, x))


@requires_extension
@on_devices
@pytest.mark.parametrize("features", [1, 2, 5, 8])
def test_compiled_matches_reference_for_odd_sizes(compiled_path, device, features):
    levels = tcnn_levels(3, 3, features, 9, 5, 2.3)
    for n in (1, 15, 17, 1025):
        x, table = random_problem(levels, n, torch.float64, device=device)
        torch.testing.assert_close(
            ops.hashgrid_encode(x, table, levels), hashgrid_reference(x, table, levels)
        )


@requires_extension
def test_compiled_matches_reference_in_nerfstudio_convention(compiled_path):
    levels = nerfstudio_levels(3, 6, 2, 10, 4, 1.7)
    x, table = random_problem(levels, 500, torch.float32)
    torch.testing.assert_close(
        ops.hashgrid_encode(x, table, levels),
        hashgrid_reference(x, table, levels),
        rtol=0,
        atol=tolerance(torch.float32, table, levels, x),
    )
    # Points on integer positions: the upper vertex is ceil(p) = p itself.
    x = torch.tensor([[0.25, 0.5, 0.75], [0.0, 1.0, 0.5]], dtype=torch.float64)
    x64, table64 = x.requires_grad_(), table.double().requires_grad_()
    got = ops.hashgrid_encode(x64, table64, levels)
    want = hashgrid_reference(x64, table64, levels)
    torch.testing.assert_close(got, want)
    g = torch.randn_like(got)
    for a, b in zip(
        torch.autograd.grad(got, (x64, table64), g), torch.autograd.grad(want, (x64, table64), g)
    ):
        torch.testing.assert_close(a, b)


@requires_extension
@on_devices
@pytest.mark.parametrize("d", [1, 2, 3, 4])
@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_compiled_backward_matches_reference(compiled_path, device, d, interpolation):
    levels = small_levels(d, "hash" if d != 2 else "tiled")
    x, table = random_problem(levels, 203, torch.float64, device=device)
    x.requires_grad_()
    table.requires_grad_()
    got = ops.hashgrid_encode(x, table, levels, interpolation)
    g = torch.randn_like(got)
    got_grads = torch.autograd.grad(got, (x, table), g)
    want = hashgrid_reference(x, table, levels, interpolation)
    want_grads = torch.autograd.grad(want, (x, table), g, allow_unused=True)
    want_grads = [torch.zeros_like(t) if w is None else w for t, w in zip((x, table), want_grads)]
    for a, b in zip(got_grads, want_grads):
        torch.testing.assert_close(a, b, rtol=HASHGRID_FLOAT64_GRAD, atol=HASHGRID_FLOAT64_GRAD)


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("compiled", marks=requires_extension),
        "reference",
    ],
)
@pytest.mark.parametrize("interpolation", ["nearest", "linear", "smoothstep"])
def test_empty_batch_and_any_batch_shape(request, path, interpolation):
    request.getfixturevalue(f"{path}_path")
    levels = small_levels(2)
    table = torch.randn(levels.num_entries, 2, requires_grad=True)
    out = ops.hashgrid_encode(torch.rand(0, 2), table, levels, interpolation)
    assert out.shape == (0, 10)
    out.sum().backward()
    assert torch.equal(table.grad, torch.zeros_like(table))
    x = torch.rand(4, 5, 2)
    out = ops.hashgrid_encode(x, table, levels, interpolation)
    assert out.shape == (4, 5, 10)
    torch.testing.assert_close(
        out, ops.hashgrid_encode(x.reshape(20, 2), table, levels, interpolation).reshape(4, 5, 10)
    )
    non_contiguous = torch.rand(2, 30).t()[:, :2]
    torch.testing.assert_close(
        ops.hashgrid_encode(non_contiguous, table, levels),
        ops.hashgrid_encode(non_contiguous.contiguous(), table, levels),
    )


@requires_extension
@on_devices
@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_gradcheck_table_and_positions(compiled_path, device, interpolation):
    levels = tcnn_levels(3, 3, 2, 5, 2, 1.8)
    x, table = to(
        device,
        torch.rand(12, 3, dtype=torch.float64),
        torch.randn(levels.num_entries, 2, dtype=torch.float64),
    )
    x.requires_grad_()
    table.requires_grad_()
    fn = lambda x, t: ops.hashgrid_encode(x, t, levels, interpolation)  # noqa: E731
    assert torch.autograd.gradcheck(fn, (x, table), fast_mode=True)
    assert torch.autograd.gradcheck(fn, (x[:3], table))


@requires_extension
def test_double_backward_matches_reference(compiled_path):
    # Eikonal-style loss on the gradient with respect to the positions.
    levels = small_levels(3)
    x, table = random_problem(levels, 40, torch.float64, 0.0, 1.0)
    x.requires_grad_()
    table.requires_grad_()

    def loss(fn):
        out = fn(x, table, levels, "smoothstep")
        (gx,) = torch.autograd.grad(out.sum(), x, create_graph=True)
        return torch.autograd.grad(gx.square().sum(), (x, table))

    for a, b in zip(loss(ops.hashgrid_encode), loss(hashgrid_reference)):
        torch.testing.assert_close(a, b)
    tiny = tcnn_levels(2, 2, 1, 3, 2, 1.5)
    x, table = random_problem(tiny, 4, torch.float64, 0.0, 1.0)
    inputs = (x.requires_grad_(), table.requires_grad_())
    assert torch.autograd.gradgradcheck(
        lambda x, t: ops.hashgrid_encode(x, t, tiny, "smoothstep"), inputs
    )


@requires_extension
@pytest.mark.parametrize("threads", [1, 2, 8])
def test_parallel_gradient_accumulation_with_shared_entries(compiled_path, threads):
    # 40,000 points on 10 positions: every entry gets thousands of contributions. With 8 threads
    # and 2 levels the levels are split into slices that add atomically.
    levels = tcnn_levels(3, 2, 2, 8, 4, 3.0)
    positions = torch.rand(10, 3, dtype=torch.float64)
    x = positions.repeat(4000, 1)
    table = torch.randn(levels.num_entries, 2, dtype=torch.float64, requires_grad=True)
    g = torch.randn(10, 4, dtype=torch.float64).repeat(4000, 1)
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        (got,) = torch.autograd.grad(ops.hashgrid_encode(x, table, levels), table, g)
    finally:
        torch.set_num_threads(previous)
    # Independent expectation: the gradient of the 10 distinct points, times 4000.
    (once,) = torch.autograd.grad(hashgrid_reference(positions, table, levels), table, g[:10])
    torch.testing.assert_close(got, 4000 * once, rtol=1e-9, atol=1e-9)
    assert int((got != 0).any(dim=1).sum()) > 20


@requires_extension
def test_float32_accumulation_is_close_to_float64(compiled_path):
    levels = small_levels(3)
    x = torch.rand(5000, 3)
    table = torch.randn(levels.num_entries, 2, requires_grad=True)
    g = torch.randn(5000, 10)
    (got,) = torch.autograd.grad(ops.hashgrid_encode(x, table, levels), table, g)
    table64 = table.detach().double().requires_grad_()
    (want,) = torch.autograd.grad(
        hashgrid_reference(x.double(), table64, levels), table64, g.double()
    )
    torch.testing.assert_close(got.double(), want, rtol=0, atol=1e-3)


@on_devices
@pytest.mark.parametrize("path", ["reference", "compiled"])
def test_out_of_range_inputs_are_finite_and_nan_propagates(path, device, request):
    request.getfixturevalue(f"{path}_path")
    levels = small_levels(3, "dense")
    table = to(device, torch.randn(levels.num_entries, 2))
    x = to(
        device,
        torch.tensor(
            [
                [-5.0, 6.0, 0.5],
                [1e30, -1e30, 3.0],
                [float("inf"), float("-inf"), 0.1],
                [-0.01, 1.01, 2.0],
            ]
        ),
    )
    out = ops.hashgrid_encode(x, table, levels)
    assert out.isfinite().all()
    nan = ops.hashgrid_encode(to(device, torch.tensor([[float("nan"), 0.5, 0.5]])), table, levels)
    assert nan.isnan().all()


@requires_extension
@on_devices
def test_out_of_range_rule_agrees_between_paths(compiled_path, device):
    for grid_type in ("hash", "dense", "tiled"):
        levels = small_levels(2, grid_type)
        x, table = random_problem(levels, 400, torch.float64, -40.0, 40.0, device=device)
        torch.testing.assert_close(
            ops.hashgrid_encode(x, table, levels), hashgrid_reference(x, table, levels)
        )


@requires_extension
@on_devices
def test_opcheck(device):
    levels = tcnn_levels(3, 2, 2, 5, 2, 1.8)
    x, table = to(
        device,
        torch.rand(30, 3, dtype=torch.float64),
        torch.randn(levels.num_entries, 2, dtype=torch.float64),
    )
    x.requires_grad_()
    table.requires_grad_()
    for interpolation in ("nearest", "smoothstep"):
        torch.library.opcheck(
            torch.ops.coordnet.hashgrid_forward.default, (x, table, *op_args(levels, interpolation))
        )
    g = to(device, torch.randn(30, 4, dtype=torch.float64))
    torch.library.opcheck(
        torch.ops.coordnet.hashgrid_backward.default,
        (g, x.detach(), table.detach(), *op_args(levels, "linear"), True, True),
    )
    if ops.supports("hashgrid", device, dtype=torch.float32, param_dtype=torch.float16):
        x16, table16 = x.detach().float().requires_grad_(), table.detach().half().requires_grad_()
        torch.library.opcheck(
            torch.ops.coordnet.hashgrid_forward.default, (x16, table16, *op_args(levels, "linear"))
        )
        torch.library.opcheck(
            torch.ops.coordnet.hashgrid_backward.default,
            (g.float(), x16.detach(), table16.detach(), *op_args(levels, "linear"), True, True),
        )


@on_devices
@pytest.mark.parametrize("path", ["reference", "compiled"])
def test_float16_table_matches_float32_reference(request, path, device):
    # tiny-cuda-nn keeps half parameters: CUDA reads them as half and accumulates in float32, the CPU
    # upcasts. Features must equal the float32 reference of the same (half-representable) table, and
    # the table gradient comes back in float16, rounded from the float32 gradient.
    if path == "compiled" and not ops.extension_available():
        pytest.skip("compiled extension unavailable")
    request.getfixturevalue(f"{path}_path")
    levels = tcnn_levels(3, 6, 2, 12, 4, 1.7)
    x, table = random_problem(levels, 3000, torch.float32, 0.0, 1.0, device=device)
    table16 = table.half().requires_grad_()
    table32 = table16.detach().float().requires_grad_()
    x.requires_grad_()
    got = ops.hashgrid_encode(x, table16, levels)
    want = hashgrid_reference(x, table32, levels)
    assert got.dtype == torch.float32 and got.shape == want.shape
    torch.testing.assert_close(
        got, want, rtol=0, atol=tolerance(torch.float32, table, levels, x.detach())
    )
    g = torch.randn_like(got)
    got_x, got_table = torch.autograd.grad(got, (x, table16), g)
    want_x, want_table = torch.autograd.grad(want, (x, table32), g)
    assert got_table.dtype == torch.float16
    rel = HASHGRID_FLOAT32_GRAD
    torch.testing.assert_close(got_x, want_x, rtol=rel, atol=rel * float(want_x.abs().max()))
    rtol, atol = HASHGRID_HALF_TABLE_GRAD
    torch.testing.assert_close(got_table.float(), want_table.half().float(), rtol=rtol, atol=atol)


@requires_extension
def test_torch_compile_aot_eager(compiled_path):
    levels = small_levels(3)
    x = torch.rand(64, 3, requires_grad=True)
    table = torch.randn(levels.num_entries, 2, requires_grad=True)

    def fn(x, table):
        return ops.hashgrid_encode(x, table, levels).square().sum()

    compiled = torch.compile(fn, backend="aot_eager", fullgraph=True)
    value = compiled(x, table)
    got = torch.autograd.grad(value, (x, table))
    want = torch.autograd.grad(fn(x, table), (x, table))
    torch.testing.assert_close(value, fn(x, table))
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b)


@pytest.mark.slow
@requires_extension
def test_torch_compile_inductor(compiled_path):
    levels = small_levels(3)
    x = torch.rand(256, 3)
    table = torch.randn(levels.num_entries, 2, requires_grad=True)

    def fn(table):
        return ops.hashgrid_encode(x, table, levels).square().sum()

    compiled = torch.compile(fn, backend="inductor", fullgraph=True)
    value = compiled(table)
    torch.testing.assert_close(value, fn(table))
    torch.testing.assert_close(
        torch.autograd.grad(value, table)[0], torch.autograd.grad(fn(table), table)[0]
    )


def test_bad_inputs_raise_clear_errors():
    levels = small_levels(3)
    table = torch.randn(levels.num_entries, 2)
    with pytest.raises(ValueError, match=r"x must have shape \(\.\.\., 3\)"):
        ops.hashgrid_encode(torch.rand(5, 2), table, levels)
    with pytest.raises(TypeError, match="float32 or float64.*int64"):
        ops.hashgrid_encode(torch.ones(5, 3, dtype=torch.int64), table, levels)
    with pytest.raises(TypeError, match="table has dtype torch.float64"):
        ops.hashgrid_encode(torch.rand(5, 3), table.double(), levels)
    with pytest.raises(ValueError, match=r"table must have shape \(\d+, 2\)"):
        ops.hashgrid_encode(torch.rand(5, 3), table[1:], levels)
    with pytest.raises(ValueError, match="interpolation must be one of"):
        ops.hashgrid_encode(torch.rand(5, 3), table, levels, "cubic")
    with pytest.raises(TypeError, match="levels must be a GridLevels"):
        ops.hashgrid_encode(torch.rand(5, 3), table, {"levels": 5})


@requires_extension
def test_kernel_rejects_inconsistent_levels():
    levels = small_levels(3)
    table = torch.randn(levels.num_entries, 2)
    x = torch.rand(4, 3)
    scales, flat, interpolation, shift, ceil_corner = op_args(levels, "linear")
    flat[-3] = levels.num_entries  # last level's size: runs past the table
    with pytest.raises(RuntimeError, match="does not fit a table"):
        torch.ops.coordnet.hashgrid_forward(
            x, table, scales, flat, interpolation, shift, ceil_corner
        )
    with pytest.raises(RuntimeError, match="4 integers"):
        torch.ops.coordnet.hashgrid_forward(
            x, table, scales, flat[:-1], interpolation, shift, ceil_corner
        )
    with pytest.raises(RuntimeError, match="interpolation must be"):
        torch.ops.coordnet.hashgrid_forward(
            x, table, scales, levels.flat_levels(), 7, shift, ceil_corner
        )


def test_levels_round_trip_through_flat_form():
    levels = small_levels(3, "tiled")
    again = GridLevels.from_flat(
        3, 2, levels.scales, levels.flat_levels(), levels.shift, levels.ceil_corner
    )
    assert again == levels


def test_next_multiple():
    from coordnet.ops.hashgrid_reference import next_multiple

    for divisor in (1, 8, 16):
        for value in range(0, 50):
            result = next_multiple(value, divisor)
            assert result % divisor == 0 and value <= result < value + divisor
