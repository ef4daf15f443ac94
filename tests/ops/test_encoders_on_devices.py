"""Encoders and region counting that reach a compiled op, on every device, against the reference path."""

import pytest
import torch
from devices import on_devices, to

import coordnet.ops as ops
from coordnet.encoders import GaussianFourierFeatures, HashGrid, PositionalEncoding
from coordnet.nets.mlp import ReluMLP
from coordnet.regions.count import count_regions, region_ids


@pytest.fixture
def compiled_then_reference():
    """Run a function on the compiled path, then on the reference path; restores the mode."""
    if not ops.extension_available():
        pytest.skip(f"compiled extension unavailable: {ops.extension_load_error}")
    previous = ops.get_backend_mode()

    def both(fn):
        results = []
        for mode in ("compiled", "reference"):
            ops.set_backend(mode)
            try:
                results.append(fn())
            finally:
                ops.set_backend(previous)
        return results

    return both


def grads_of(module, x):
    x = x.detach().clone().requires_grad_()
    y = module(x)
    weights = torch.linspace(-1, 1, y.shape[-1], device=y.device, dtype=y.dtype)
    params = [p for p in module.parameters() if p.requires_grad]
    grads = torch.autograd.grad((y * weights).sum(), [x, *params])
    return y.detach(), grads


@on_devices
@pytest.mark.parametrize(
    "make",
    [
        lambda: GaussianFourierFeatures(3, 64, 4.0, learnable=True),
        lambda: PositionalEncoding(2, 8, include_input=True),
        lambda: HashGrid(3, 8, 2, 12, 4, 1.6),
        lambda: HashGrid(2, 6, 2, 10, 4, 1.8, interpolation="smoothstep"),
    ],
    ids=["gauss", "pe", "hash", "hash-smoothstep"],
)
def test_encoder_matches_reference_on_device(compiled_then_reference, device, make):
    module = make().to(device)
    x = to(device, torch.rand(4096, module.in_dim))
    (got, got_grads), (want, want_grads) = compiled_then_reference(lambda: grads_of(module, x))
    assert got.device.type == device
    # float32 phases of up to ~100 rad: torch.sin of the reference is good to ~8 ulps of the phase.
    torch.testing.assert_close(got, want, rtol=0, atol=2e-4)
    for a, b in zip(got_grads, want_grads):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-3 * max(1.0, float(b.abs().max())))


@on_devices
def test_half_parameter_hash_grid_on_device(compiled_then_reference, device):
    module = HashGrid(3, 8, 2, 12, 4, 1.6, param_dtype=torch.float16, init_scale=0.5).to(device)
    assert module.params.dtype == torch.float16
    x = to(device, torch.rand(4096, 3))
    (got, got_grads), (want, want_grads) = compiled_then_reference(lambda: grads_of(module, x))
    assert got.dtype == torch.float32 and got_grads[1].dtype == torch.float16
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(got_grads[1].float(), want_grads[1].float(), rtol=2e-3, atol=2e-3)


@on_devices
def test_region_counts_match_reference_on_device(compiled_then_reference, device):
    torch.manual_seed(3)
    net = ReluMLP(2, 1, width=40, depth=3).to(device)
    side = torch.linspace(0, 1, 64)
    points = to(device, torch.cartesian_prod(side, side))
    (got_count, got_ids), (want_count, want_ids) = compiled_then_reference(
        lambda: (count_regions(net, points), region_ids(net, points))
    )
    assert got_count == want_count > 10
    assert torch.equal(got_ids.ids.cpu(), want_ids.ids.cpu())
