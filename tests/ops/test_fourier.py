"""The fused Fourier-feature op: compiled kernels against the pure-PyTorch reference."""

import math
import os
import subprocess
import sys

import pytest
import torch
from devices import on_devices, to
from helpers import TWO_PI, phase_tolerance, requires_extension

import coordnet.ops as ops
from coordnet.ops.fourier_reference import (
    fourier_features_backward_reference,
    fourier_features_reference,
)
from coordnet.ops.tolerances import fourier_gradient_tolerance

MODES = {None: 0, "first": 1, "last": 2}


def random_problem(n, d, m, dtype, scale=10.0, amplitude=False, device="cpu"):
    x = torch.rand(n, d, dtype=dtype)
    B = torch.randn(m, d, dtype=dtype) * scale
    a = torch.rand(m, dtype=dtype) if amplitude else None
    return to(device, x, B, a)


def max_phase(x, B, scale=TWO_PI):
    if x.numel() == 0:
        return 1.0
    return float((x.double() @ B.double().T).abs().max() * scale)


@requires_extension
@on_devices
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(
    "n,d,m,group,include,amplitude",
    [
        (1, 1, 1, None, None, False),
        (7, 2, 3, 1, "first", True),
        (1000, 3, 64, None, "last", False),
        (4097, 2, 256, 1, None, True),
        (33, 5, 12, 4, "first", False),
        (130, 3, 30, 3, "last", True),
        (300, 8, 16, 2, "first", False),
        (300, 11, 16, None, "last", True),  # more coordinates than the CUDA kernel holds: reference
    ],
)
def test_compiled_forward_matches_reference(
    compiled_path, device, dtype, n, d, m, group, include, amplitude
):
    x, B, a = random_problem(n, d, m, dtype, amplitude=amplitude, device=device)
    got = ops.fourier_features(x, B, a, group=group, include_input=include)
    want = fourier_features_reference(x, B, a, TWO_PI, group or m, MODES[include])
    assert got.shape == want.shape == (n, 2 * m + (d if include else 0))
    assert got.dtype == dtype and got.device == x.device
    torch.testing.assert_close(got, want, rtol=0, atol=phase_tolerance(max_phase(x, B), dtype))


@requires_extension
@on_devices
def test_compiled_float32_is_more_accurate_than_its_tolerance(compiled_path, device):
    # Phases of tens of turns: the kernel reduces them exactly, so it beats float32 torch.sin.
    x, B, _ = random_problem(5000, 3, 128, torch.float32, scale=20.0, device=device)
    got = ops.fourier_features(x, B).double()
    exact = fourier_features_reference(x.double(), B.double())
    reference = fourier_features_reference(x, B).double()
    kernel_error = (got - exact).abs().max().item()
    reference_error = (reference - exact).abs().max().item()
    assert kernel_error <= reference_error
    # Only the rounding of the phase itself remains: about one float32 ulp of the largest phase.
    assert kernel_error < 2 * torch.finfo(torch.float32).eps * max_phase(x, B) + 1e-6


@requires_extension
@on_devices
@pytest.mark.parametrize("factor", [1.0, math.pi, TWO_PI, 0.37])
def test_compiled_phase_factors(compiled_path, device, factor):
    x, B, _ = random_problem(300, 2, 40, torch.float64, device=device)
    got = ops.fourier_features(x, B, factor=factor, group=1)
    want = fourier_features_reference(x, B, None, factor, 1, 0)
    torch.testing.assert_close(
        got, want, rtol=0, atol=phase_tolerance(max_phase(x, B, factor), torch.float64)
    )


@requires_extension
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_empty_batch_and_any_batch_shape(compiled_path, dtype):
    B = torch.randn(8, 3, dtype=dtype)
    assert ops.fourier_features(torch.rand(0, 3, dtype=dtype), B).shape == (0, 16)
    assert ops.fourier_features(
        torch.rand(2, 0, 4, 3, dtype=dtype), B, include_input="first"
    ).shape == (2, 0, 4, 19)
    x = torch.rand(2, 5, 4, 3, dtype=dtype)
    got = ops.fourier_features(x, B)
    want = fourier_features_reference(x.reshape(-1, 3), B).reshape(2, 5, 4, 16)
    torch.testing.assert_close(
        got, want, rtol=0, atol=phase_tolerance(max_phase(x.reshape(-1, 3), B), dtype)
    )


@requires_extension
def test_non_contiguous_input(compiled_path):
    x = torch.rand(3, 500, dtype=torch.float64).T  # (500, 3), non-contiguous
    B = torch.randn(6, 16, dtype=torch.float64)[:, ::4][:, :3]  # non-contiguous B
    assert not x.is_contiguous() and not B.is_contiguous()
    got = ops.fourier_features(x, B)
    want = fourier_features_reference(x.contiguous(), B.contiguous())
    torch.testing.assert_close(got, want, rtol=0, atol=1e-12)


@requires_extension
@on_devices
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(
    "group,include,amplitude", [(None, None, False), (1, "first", True), (2, "last", False)]
)
def test_backward_kernel_matches_reference(device, dtype, group, include, amplitude):
    n, d, m = 777, 3, 20
    x, B, a = random_problem(n, d, m, dtype, scale=3.0, amplitude=amplitude, device=device)
    g = to(device, torch.randn(n, 2 * m + (d if include else 0), dtype=dtype))
    mode = MODES[include]
    gx, gB = torch.ops.coordnet.fourier_features_backward(
        g, x, B, a, TWO_PI, group or m, mode, True, True
    )
    # Exact gradients in float64, within the shared bound (coordnet.ops.tolerances).
    a64 = None if a is None else a.double()
    want_x, want_B, _ = fourier_features_backward_reference(
        g.double(), x.double(), B.double(), a64, TWO_PI, group or m, mode
    )
    atol_x, atol_B = fourier_gradient_tolerance(
        g, x, B, dtype, TWO_PI, d if include == "first" else 0
    )
    torch.testing.assert_close(gx.double(), want_x, rtol=0, atol=atol_x)
    torch.testing.assert_close(gB.double(), want_B, rtol=0, atol=atol_B)
    # Gradients that are not asked for come back with zero rows.
    gx0, gB0 = torch.ops.coordnet.fourier_features_backward(
        g, x, B, a, 1.0, group or m, mode, False, False
    )
    assert gx0.shape == (0, d) and gB0.shape == (0, d)


@requires_extension
@on_devices
@pytest.mark.parametrize("group,include", [(None, None), (1, "first"), (2, "last")])
def test_gradcheck(compiled_path, device, group, include):
    x, B, a = to(
        device,
        torch.rand(9, 2, dtype=torch.float64),
        torch.randn(6, 2, dtype=torch.float64) * 2,
        torch.rand(6, dtype=torch.float64),
    )
    x.requires_grad_()
    B.requires_grad_()
    fn = lambda x, B: ops.fourier_features(x, B, a, group=group, include_input=include)  # noqa: E731
    assert torch.autograd.gradcheck(fn, (x, B))
    assert torch.autograd.gradgradcheck(fn, (x, B))


@requires_extension
def test_gradcheck_with_trainable_amplitude(compiled_path):
    x = torch.rand(5, 3, dtype=torch.float64, requires_grad=True)
    B = torch.randn(4, 3, dtype=torch.float64)
    a = torch.rand(4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, a: ops.fourier_features(x, B, a, group=2), (x, a))


@requires_extension
def test_eikonal_style_double_backward_matches_reference(compiled_path):
    x = torch.rand(300, 3, dtype=torch.float64, requires_grad=True)
    B = torch.randn(16, 3, dtype=torch.float64, requires_grad=True)
    w = torch.randn(32, dtype=torch.float64)

    def eikonal(features_fn):
        y = features_fn(x, B) @ w
        (grad,) = torch.autograd.grad(y.sum(), x, create_graph=True)
        loss = ((grad.norm(dim=-1) - 1) ** 2).mean()
        return torch.autograd.grad(loss, (x, B))

    got = eikonal(lambda x, B: ops.fourier_features(x, B))
    want = eikonal(lambda x, B: fourier_features_reference(x, B))
    for g, r in zip(got, want):
        torch.testing.assert_close(g, r, rtol=1e-9, atol=1e-9)


@requires_extension
@on_devices
def test_opcheck(device):
    x, B, a = to(
        device,
        torch.rand(40, 3, dtype=torch.float64),
        torch.randn(8, 3, dtype=torch.float64),
        torch.rand(8, dtype=torch.float64),
    )
    x.requires_grad_()
    B.requires_grad_()
    for args in [(x, B, None, 1.0, 8, 0), (x, B, a, 0.5, 2, 1), (x, B, a, 0.25, 1, 2)]:
        torch.library.opcheck(torch.ops.coordnet.fourier_features.default, args)
    g = to(device, torch.randn(40, 16, dtype=torch.float64))
    torch.library.opcheck(
        torch.ops.coordnet.fourier_features_backward.default,
        (g, x.detach(), B.detach(), None, 1.0, 4, 0, True, True),
    )


@requires_extension
def test_torch_compile_aot_eager(compiled_path):
    x = torch.rand(64, 2, requires_grad=True)
    B = torch.randn(32, 2) * 5

    def fn(x):
        return ops.fourier_features(x, B, group=1, include_input="first").square().sum()

    compiled = torch.compile(fn, backend="aot_eager", fullgraph=True)
    value = compiled(x)
    (grad,) = torch.autograd.grad(value, x)
    (want_grad,) = torch.autograd.grad(fn(x), x)
    torch.testing.assert_close(value, fn(x))
    torch.testing.assert_close(grad, want_grad)


@pytest.mark.slow
@requires_extension
def test_torch_compile_inductor(compiled_path):
    x = torch.rand(256, 3, requires_grad=True)
    B = torch.randn(64, 3) * 5

    def fn(x):
        return ops.fourier_features(x, B).square().sum()

    compiled = torch.compile(fn, backend="inductor", fullgraph=True)
    value = compiled(x)
    (grad,) = torch.autograd.grad(value, x)
    (want_grad,) = torch.autograd.grad(fn(x), x)
    torch.testing.assert_close(value, fn(x))
    torch.testing.assert_close(grad, want_grad)


def test_reference_backward_matches_autograd():
    x = torch.rand(50, 3, dtype=torch.float64, requires_grad=True)
    B = torch.randn(12, 3, dtype=torch.float64, requires_grad=True)
    a = torch.rand(12, dtype=torch.float64, requires_grad=True)
    for group, mode in [(12, 0), (1, 1), (3, 2)]:
        out = fourier_features_reference(x, B, a, 0.8, group, mode)
        g = torch.randn_like(out)
        want = torch.autograd.grad(out, (x, B, a), g)
        got = fourier_features_backward_reference(g, x, B, a, 0.8, group, mode)
        for w, h in zip(want, got):
            torch.testing.assert_close(h, w)


@on_devices
@pytest.mark.parametrize("path", ["reference", "compiled"])
def test_nan_and_inf_give_nan_features(path, device, request):
    request.getfixturevalue(f"{path}_path")
    x = to(
        device, torch.tensor([[0.25, float("nan")], [float("inf"), 0.5], [0.1, 0.2]]).repeat(20, 1)
    )
    B = to(device, torch.eye(2).repeat(40, 1))
    out = ops.fourier_features(x, B)
    assert out[0::3].isnan().all() and out[1::3].isnan().all()
    assert out[2::3].isfinite().all()


def test_bad_inputs_raise_clear_errors():
    B = torch.randn(4, 3)
    with pytest.raises(ValueError, match=r"x must have shape \(\.\.\., 3\)"):
        ops.fourier_features(torch.rand(5, 2), B)
    with pytest.raises(TypeError, match="float32 or float64.*int64"):
        ops.fourier_features(torch.ones(5, 3, dtype=torch.int64), B)
    with pytest.raises(TypeError, match="B has dtype torch.float64"):
        ops.fourier_features(torch.rand(5, 3), B.double())
    with pytest.raises(ValueError, match="group=3 must be positive and divide M=4"):
        ops.fourier_features(torch.rand(5, 3), B, group=3)
    with pytest.raises(ValueError, match=r"amplitude must be .* shape \(4,\)"):
        ops.fourier_features(torch.rand(5, 3), B, torch.ones(3))
    with pytest.raises(ValueError, match="include_input"):
        ops.fourier_features(torch.rand(5, 3), B, include_input="middle")


@requires_extension
def test_kernel_checks_name_the_argument():
    with pytest.raises(RuntimeError, match="B has 2 columns but x has d = 3"):
        torch.ops.coordnet.fourier_features(torch.rand(4, 3), torch.rand(5, 2), None, 1.0, 5, 0)
    with pytest.raises(RuntimeError, match="input_mode"):
        torch.ops.coordnet.fourier_features(torch.rand(4, 3), torch.rand(5, 3), None, 1.0, 5, 7)


def test_backend_selection(reference_path):
    assert ops.backend() == "reference"
    assert ops.backend("cpu") == "reference"
    ops.set_backend("auto")
    assert ops.backend("cpu") == ("cpu" if ops.extension_available() else "reference")
    with pytest.raises(
        ValueError,
        match="set_backend\\(mode\\) must be one of auto, reference, compiled; got 'gpu'",
    ):
        ops.set_backend("gpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA answer")
def test_backend_for_cuda_device_without_cuda_kernels():
    ops.set_backend("auto")
    expected = "cuda" if ops.has_cuda_kernels() else "reference"
    assert ops.backend("cuda") == expected


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )


def test_env_var_forces_reference():
    result = run_python(
        "import coordnet.ops as o; print(o.backend('cpu'))", COORDNET_BACKEND="reference"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "reference"


def test_env_var_rejects_unknown_value():
    result = run_python("import coordnet.ops", COORDNET_BACKEND="fast")
    assert result.returncode != 0
    assert "COORDNET_BACKEND must be one of auto, reference, compiled; got 'fast'" in result.stderr


def test_package_runs_without_the_extension():
    code = """
import sys, warnings
sys.modules['coordnet._C'] = None  # makes `from coordnet import _C` fail as a missing build would
import torch
import coordnet.ops as ops
from coordnet.encoders import GaussianFourierFeatures
assert not ops.extension_available()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter('always')
    assert ops.backend('cpu') == 'reference'
    y = GaussianFourierFeatures(2, 16, 3.0)(torch.rand(5000, 2, requires_grad=True))
    y.sum().backward()
    ops.backend('cpu')
messages = [str(w.message) for w in caught if issubclass(w.category, ops.ExtensionWarning)]
assert len(messages) == 1, messages
print(messages[0])
"""
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert "compiled extension is unavailable (ModuleNotFoundError" in result.stdout


def test_compiled_mode_without_extension_is_an_error():
    code = """
import sys
sys.modules['coordnet._C'] = None
import coordnet.ops as ops
ops.backend('cpu')
"""
    result = run_python(code, COORDNET_BACKEND="compiled")
    assert result.returncode != 0
    assert "COORDNET_BACKEND=compiled but no compiled kernel for 'cpu'" in result.stderr


@requires_extension
@pytest.mark.parametrize(
    "layout, factor, include_input",
    [
        ("nerf-pytorch", 1.0, True),
        ("blocks", TWO_PI, False),
        ("tcnn", math.pi, False),
        ("blocks", math.pi, "last"),
    ],
)
def test_a_row_encodes_the_same_alone_and_inside_a_large_batch(layout, factor, include_input):
    """Small batches take the reference path, large ones the kernel: both reduce phases in turns,
    so power-of-two frequencies agree to a few float32 roundings of the unit-size outputs."""
    from coordnet.encoders import PositionalEncoding

    encoder = PositionalEncoding(3, 12, layout=layout, factor=factor, include_input=include_input)
    x = torch.rand(4096, 3, generator=torch.Generator().manual_seed(3)) * 2 - 1
    batch = encoder(x)
    for i in range(0, 4096, 409):
        assert (encoder(x[i : i + 1])[0] - batch[i]).abs().max() <= 4 * torch.finfo(
            torch.float32
        ).eps


@requires_extension
def test_gaussian_features_agree_across_batch_sizes_within_one_rounding_of_the_phase():
    from coordnet.encoders import GaussianFourierFeatures

    encoder = GaussianFourierFeatures(2, 256, 10.0)
    x = torch.rand(4096, 2, generator=torch.Generator().manual_seed(4)) * 2 - 1
    batch = encoder(x)
    turns = (x @ encoder.B.t()).abs().max().item()  # the largest phase in turns
    bound = (
        2 * math.pi * turns * torch.finfo(torch.float32).eps + 4 * torch.finfo(torch.float32).eps
    )
    for i in range(0, 4096, 409):
        assert (encoder(x[i : i + 1])[0] - batch[i]).abs().max() <= bound


@requires_extension
def test_a_stale_build_is_detected_once_on_load_and_falls_back_to_the_reference():
    code = """
import warnings
import torch
import coordnet._C as built
built.ABI_VERSION = built.ABI_VERSION - 1  # as a build from before the last interface change
import coordnet.ops as ops
from coordnet.encoders import PositionalEncoding
from coordnet.regions import count_regions, relu_network
assert not ops.extension_available()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter('always')
    assert ops.backend('cpu') == 'reference'
    PositionalEncoding(2, 4)(torch.rand(5000, 2))
    ops.backend('cpu')
messages = [str(w.message) for w in caught if issubclass(w.category, ops.ExtensionWarning)]
assert len(messages) == 1, messages
print(messages[0])
"""
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert (
        "stale build: coordnet._C has interface version" in result.stdout
        and "rebuild it" in result.stdout
    )


def test_stale_build_error_names_both_versions():
    from types import SimpleNamespace

    from coordnet.ops import _extension

    assert (
        _extension.stale_build_error(SimpleNamespace(ABI_VERSION=_extension.EXPECTED_ABI_VERSION))
        is None
    )
    assert "version 1, this coordnet expects 2" in _extension.stale_build_error(
        SimpleNamespace(ABI_VERSION=1), 2
    )
    assert "version none (older)" in _extension.stale_build_error(SimpleNamespace(), 2)
