"""StackedMLP and fit_stacked: batched fits equal solo fits; initialisations; TF32 emulation."""

import math

import pytest
import torch

from coordnet.nets.stacked import StackedMLP, round_to_tf32
from coordnet.training.stacked import fit_stacked


def _solo_adam(mlp, x, y, steps, lr):
    optimizer = torch.optim.Adam(mlp.parameters(), lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        (0.5 * (mlp(x) - y).pow(2).mean()).backward()
        optimizer.step()
    return mlp


@pytest.mark.parametrize("shared_input", [True, False])
def test_batched_fit_equals_individual_fits(shared_input):
    torch.manual_seed(0)
    members, n = 3, 48
    x = torch.rand(n, 2) if shared_input else torch.rand(members, n, 2)
    y, xt, yt = torch.rand(members, n, 3), torch.rand(n, 2), torch.rand(members, n, 3)
    stacked = StackedMLP(
        members, 2, 3, 16, 3, "sigmoid", init="glorot", generator=torch.Generator().manual_seed(1)
    )
    solos = [stacked.member(m) for m in range(members)]
    result = fit_stacked(stacked, x, y, xt, yt, steps=12, lr=1e-2, record_every=5)
    for m, solo in enumerate(solos):
        _solo_adam(solo, x if shared_input else x[m], y[m], 12, 1e-2)
        for a, b in zip(solo.parameters(), stacked.member(m).parameters()):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
        with torch.no_grad():
            mse = (solo(xt) - yt[m]).pow(2).mean().item()
        assert result.final_test_psnr[m].item() == pytest.approx(-10 * math.log10(mse), abs=1e-4)
    assert result.record_steps == [1, 6, 11] and result.test_psnr.shape == (members, 3)
    assert result.completed and result.steps_done == 12


def test_from_mlps_round_trip_and_forward_shapes():
    stacked = StackedMLP(2, 5, 3, 8, 2)
    again = StackedMLP.from_mlps([stacked.member(0), stacked.member(1)])
    x = torch.rand(7, 5)
    assert stacked(x).shape == (2, 7, 3)
    torch.testing.assert_close(again(x), stacked(x))
    torch.testing.assert_close(stacked(x)[1], stacked.member(1)(x))
    with pytest.raises(ValueError, match="input must be"):
        stacked(torch.rand(3, 7, 5))


def test_initialisations():
    g = torch.Generator().manual_seed(0)
    same = StackedMLP(4, 512, 3, 256, 3, init="glorot", same_init=True, generator=g)
    assert all(torch.equal(w[0], w[3]) for w in same.weights)
    w = same.weights[1][0]
    std = math.sqrt(2.0 / 512)
    assert (
        w.std().item() == pytest.approx(std, rel=0.05)
        and w.abs().max().item() <= 2 * std / 0.8796 + 1e-6
    )
    assert same.biases[0].std().item() == pytest.approx(0.01, rel=0.2)
    torch_init = StackedMLP(2, 16, 3, 64, 1, generator=torch.Generator().manual_seed(0))
    assert not torch.equal(torch_init.weights[0][0], torch_init.weights[0][1])
    assert torch_init.weights[0].abs().max().item() <= 1 / math.sqrt(16)
    with pytest.raises(ValueError, match="init"):
        StackedMLP(1, 2, 3, init="xavier")


def test_tf32_rounding_and_emulated_gradients():
    x = torch.tensor([1.0 + 2**-11, 1.0 + 2**-10 + 2**-11, 1.0 + 2**-12, -3.0])
    assert round_to_tf32(x).tolist() == [1.0, 1.0 + 2**-9, 1.0, -3.0]
    exact = StackedMLP(2, 4, 3, 8, 2, generator=torch.Generator().manual_seed(0))
    emulated = StackedMLP.from_mlps([exact.member(0), exact.member(1)], tf32=True)
    x = torch.rand(10, 4)
    torch.testing.assert_close(emulated(x), exact(x), rtol=5e-3, atol=5e-3)
    assert not torch.equal(emulated(x), exact(x))
    emulated(x).sum().backward()
    exact(x).sum().backward()
    for a, b in zip(emulated.weights, exact.weights):
        torch.testing.assert_close(a.grad, b.grad, rtol=2e-2, atol=2e-3)
