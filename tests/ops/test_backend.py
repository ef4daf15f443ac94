"""Routing by the kernels' fixed limits: coordnet.ops.backend.supports and route (CPU-testable)."""

import importlib
import re
import warnings

import pytest
import torch

import coordnet.ops as ops
import coordnet.ops.fourier as fourier_op
from coordnet.ops.fourier_reference import fourier_features_reference
from coordnet.ops.hashgrid_reference import tcnn_levels

# (coordnet.ops.backend the attribute is the function; the module comes from importlib)
backend_module = importlib.import_module("coordnet.ops.backend")


@pytest.mark.parametrize(
    "op,device,shape,expected",
    [
        ("fourier_features", "cpu", {"d": 50}, True),
        ("fourier_features", "cuda", {"d": 8}, True),
        ("fourier_features", "cuda:0", {"d": 9}, False),
        ("fourier_features", "cuda", {"dtype": torch.float16}, False),
        ("hashgrid", "cpu", {"d": 4, "levels": 200}, True),
        ("hashgrid", "cpu", {"d": 5}, False),
        ("hashgrid", "cuda", {"d": 3, "levels": 64}, True),
        ("hashgrid", "cuda", {"d": 3, "levels": 65}, False),
        ("hashgrid", "cuda", {"dtype": torch.float32, "param_dtype": torch.float16}, True),
        ("hashgrid", "cuda", {"dtype": torch.float64, "param_dtype": torch.float16}, False),
        ("hashgrid", "cpu", {"dtype": torch.float32, "param_dtype": torch.float16}, False),
        ("hashgrid", "cpu", {"dtype": torch.float64, "param_dtype": torch.float64}, True),
        ("pack_signs_relu_", "cuda", {"dtype": torch.float32}, True),
        ("hash_patterns", "cuda", {}, True),
        ("unique_patterns", "cpu", {}, True),
        ("unique_patterns", torch.device("cuda"), {}, False),
        ("hash_patterns", "meta", {}, False),
    ],
)
def test_supports(op, device, shape, expected):
    assert ops.supports(op, device, **shape) is expected


def test_supports_rejects_unknown_ops_and_shape_keys():
    with pytest.raises(ValueError, match="op must be one of .*got 'conv'"):
        ops.supports("conv", "cpu")
    with pytest.raises(TypeError, match="unknown shape argument\\(s\\) levels"):
        ops.supports("fourier_features", "cpu", levels=3)


def test_route_falls_back_to_the_reference_for_unsupported_shapes(monkeypatch):
    monkeypatch.setattr(backend_module, "backend", lambda device=None: torch.device(device).type)
    assert ops.route("fourier_features", "cuda", d=8) == "cuda"
    assert ops.route("fourier_features", "cuda", d=12) == "reference"
    assert ops.route("hashgrid", "cuda", d=3, levels=80) == "reference"
    assert ops.route("hashgrid", "cpu", d=3, levels=80) == "cpu"


def test_wide_fourier_input_on_a_cuda_device_runs_the_reference(monkeypatch):
    """A CUDA problem the kernel would reject (d > 8) is routed to the reference, never to the kernel."""
    monkeypatch.setattr(backend_module, "backend", lambda device=None: torch.device(device).type)
    monkeypatch.setattr(fourier_op, "SMALL_PROBLEM_PAIRS", 0)
    seen = []
    monkeypatch.setattr(
        fourier_op, "fourier_features_reference", lambda *a: seen.append(a[0].shape) or "ref"
    )

    class CudaLike(
        torch.Tensor
    ):  # a CPU tensor that reports a CUDA device, to exercise the routing
        @property
        def device(self):
            return torch.device("cuda")

    x = torch.rand(40, 11).as_subclass(CudaLike)
    assert ops.fourier_features(x, torch.randn(16, 11).as_subclass(CudaLike)) == "ref"
    assert seen == [(40, 11)]


@pytest.mark.parametrize("path", ["reference", "compiled"])
def test_half_table_on_the_cpu_is_upcast(request, path):
    if path == "compiled" and not ops.extension_available():
        pytest.skip("compiled extension unavailable")
    request.getfixturevalue(f"{path}_path")
    levels = tcnn_levels(2, 3, 2, 8, 4, 1.5)
    x = torch.rand(50, 2)
    table = torch.randn(levels.num_entries, 2).half()
    torch.testing.assert_close(
        ops.hashgrid_encode(x, table, levels), ops.hashgrid_encode(x, table.float(), levels)
    )
    with pytest.raises(TypeError, match="float16 with float32 x"):
        ops.hashgrid_encode(x.double(), table, levels)
    if path == "compiled":  # the CPU kernel itself refuses half tables (the wrapper upcasts first)
        with pytest.raises(RuntimeError, match="float16 tables need float32 x and a CUDA device"):
            torch.ops.coordnet.hashgrid_forward(
                x,
                table,
                list(levels.scales),
                levels.flat_levels(),
                1,
                levels.shift,
                levels.ceil_corner,
            )


def test_fourier_reference_is_what_the_wide_path_computes(reference_path):
    x, B = torch.rand(30, 12, dtype=torch.float64), torch.randn(5, 12, dtype=torch.float64)
    torch.testing.assert_close(ops.fourier_features(x, B), fourier_features_reference(x, B))


@pytest.mark.skipif(not ops.extension_available(), reason="no extension")
@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda t: torch.ops.coordnet.fourier_features(t(5, 3), t(4, 2), None, 1.0, 4, 0),
            "B has 2 columns but x has d = 3",
        ),
        (
            lambda t: torch.ops.coordnet.fourier_features(t(5, 2), t(4, 2), None, 1.0, 3, 0),
            "group = 3 must be positive and divide M = 4",
        ),
        (
            lambda t: torch.ops.coordnet.fourier_features(t(5, 2), t(4, 2), None, 1.0, 4, 7),
            "input_mode must be 0 (none)",
        ),
        (
            lambda t: torch.ops.coordnet.fourier_features(t(5, 2), t(4, 2), t(3), 1.0, 4, 0),
            "amplitude must have shape (M,) = (4,)",
        ),
        (
            lambda t: torch.ops.coordnet.fourier_features_backward(
                t(5, 7), t(5, 2), t(4, 2), None, 1.0, 4, 0, True, True
            ),
            "grad_out must have shape (5, 8)",
        ),
        (
            lambda t: torch.ops.coordnet.hashgrid_forward(
                t(5, 6), t(16, 2), [1.0], [0, 16, 4, 0], 1, 0.0, False
            ),
            "1 <= d <= 4",
        ),
        (
            lambda t: torch.ops.coordnet.hashgrid_forward(
                t(5, 2), t(16, 2), [1.0], [8, 16, 4, 0], 1, 0.0, False
            ),
            "level 0 (offset 8, size 16) does not fit a table of 16 entries",
        ),
        (
            lambda t: torch.ops.coordnet.hashgrid_forward(
                t(5, 2), t(16, 2), [1.0, 2.0], [0, 16, 4, 0], 1, 0.0, False
            ),
            "levels must hold 4 integers",
        ),
        (
            lambda t: torch.ops.coordnet.hash_patterns(t(5, 2), -1),
            "hash_patterns: packed must be int64",
        ),
        (
            lambda t: torch.ops.coordnet.pack_signs_relu_(
                t(5, 70), torch.zeros(5, 1, dtype=torch.int64), 0, True
            ),
            "a layer of 70 units takes 2 word(s) and packed has 1",
        ),
    ],
)
def test_fake_kernels_refuse_what_the_kernels_refuse(call, message):
    """The same call fails with the same message on real tensors (TORCH_CHECK) and when traced
    with fake tensors (the fake kernels' torch._check)."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    def real(*shape):
        return torch.zeros(*shape)

    with pytest.raises(RuntimeError, match=re.escape(message)):
        call(real)
    with FakeTensorMode() as mode:

        def fake(*shape):
            return torch.zeros(*shape)

        with pytest.raises(RuntimeError, match=re.escape(message)):
            call(fake)
    assert mode is not None


@pytest.fixture
def mocked_cuda_kernels(monkeypatch):
    """A CPU machine that looks like one with a CUDA build of the extension (no GPU needed)."""
    monkeypatch.setattr(backend_module._extension, "available", lambda: True)
    monkeypatch.setattr(backend_module._extension, "has_cuda_kernels", lambda: True)
    monkeypatch.setattr(backend_module, "_warned_unverified", False)
    monkeypatch.setattr(backend_module, "_mode", "auto")


def test_auto_backend_on_cuda_warns_once_that_the_kernels_are_unverified(mocked_cuda_kernels):
    with pytest.warns(backend_module.UnverifiedKernelWarning) as caught:
        assert ops.backend("cuda:0") == "cuda"
    (message,) = [str(w.message) for w in caught]
    assert "not yet been verified" in message and "coordnet doctor --verify" in message
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a second warning would raise
        assert ops.backend("cuda") == "cuda"
        assert ops.route("hashgrid", "cuda", d=3) == "cuda"


def test_no_unverified_warning_on_the_cpu_for_forced_modes_or_once_verified(
    mocked_cuda_kernels, monkeypatch
):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ops.backend("cpu") == "cpu"
        monkeypatch.setattr(backend_module, "_mode", "compiled")  # chosen knowingly
        assert ops.backend("cuda") == "cuda"
        monkeypatch.setattr(backend_module, "_mode", "auto")
        monkeypatch.setattr(backend_module, "CUDA_KERNELS_VERIFIED", True)
        assert ops.backend("cuda") == "cuda"


@pytest.mark.parametrize("device", ["tpu", 5, None, "cuda:x"])
def test_route_and_supports_name_an_unknown_device(device):
    with pytest.raises(ValueError, match=re.escape(repr(device))):
        ops.route("fourier_features", device)
    with pytest.raises(ValueError, match=re.escape(repr(device))):
        ops.supports("hashgrid", device)
