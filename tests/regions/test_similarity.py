"""Hamming distances of activation patterns, gradient confusion, and the pair sampler."""

import math

import pytest
import torch
from torch import nn

import coordnet.regions as regions
from coordnet.nets import build_model


def test_popcount_against_python():
    words = torch.randint(-(2**63), 2**63 - 1, (500,), dtype=torch.int64)
    words[:4] = torch.tensor([0, -1, -(2**63), 2**63 - 1])
    expected = [bin(int(w) & (2**64 - 1)).count("1") for w in words]
    assert regions.popcount(words).tolist() == expected


def hand_net():
    """Units x, -x and 2x - 1 (then ReLU): patterns of 0.25, 0.75, -0.5 are 100, 101, 010."""
    layer = nn.Linear(1, 3)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[1.0], [-1.0], [2.0]]))
        layer.bias.copy_(torch.tensor([0.0, 0.0, -1.0]))
    return nn.Sequential(layer, nn.ReLU(), nn.Linear(3, 1))


def test_hamming_distance_by_hand():
    model = hand_net()
    a = torch.tensor([[0.25], [0.25], [0.75], [0.3]])
    b = torch.tensor([[0.75], [-0.5], [-0.5], [0.4]])
    assert regions.hamming_distance(model, a, b).tolist() == [1, 2, 3, 0]
    fractions = regions.hamming_distance(model, a, b, normalize=True)
    torch.testing.assert_close(
        fractions, torch.tensor([1 / 3, 2 / 3, 1.0, 0.0], dtype=torch.float64)
    )


def test_hamming_distance_of_a_deep_net_against_dense_patterns():
    model = build_model("pe:num_frequencies=2+relu:width=70,depth=3", 2, 1)
    a, b = torch.rand(300, 2), torch.rand(300, 2)
    network = regions.relu_network(model)
    dense_a = torch.cat(network.forward_patterns(a), dim=1)
    dense_b = torch.cat(network.forward_patterns(b), dim=1)
    assert dense_a.shape[1] == 210
    assert torch.equal(regions.hamming_distance(model, a, b), (dense_a != dense_b).sum(dim=1))
    assert (regions.hamming_distance(model, a, a) == 0).all()


def loop_gradients(model, x, targets=None):
    rows = []
    params = [p for p in model.parameters() if p.requires_grad]
    for i in range(x.shape[0]):
        out = model(x[i : i + 1])
        loss = out.sum() if targets is None else ((out - targets[i : i + 1]) ** 2).sum()
        grads = torch.autograd.grad(loss, params)
        rows.append(torch.cat([g.reshape(-1) for g in grads]))
    return torch.stack(rows)


@pytest.mark.parametrize(
    "spec",
    [
        "relu:width=16,depth=2",
        "pe:num_frequencies=3+relu:width=12,depth=2",
        "siren:width=12,depth=2",
    ],
)
@pytest.mark.parametrize("with_targets", [False, True])
def test_gradient_confusion_against_one_sample_at_a_time(spec, with_targets):
    model = build_model(spec, 2, 2).double()
    a, b = torch.rand(9, 2, dtype=torch.float64), torch.rand(9, 2, dtype=torch.float64)
    ya = yb = None
    if with_targets:
        ya, yb = torch.rand(9, 2, dtype=torch.float64), torch.rand(9, 2, dtype=torch.float64)
    ga, gb = loop_gradients(model, a, ya), loop_gradients(model, b, yb)
    torch.testing.assert_close(regions.per_sample_gradients(model, a, ya), ga)
    expected = torch.nn.functional.cosine_similarity(ga, gb, dim=1)
    got = regions.gradient_confusion(model, a, b, ya, yb, chunk=4)
    assert got.shape == (9,) and got.dtype == torch.float64
    torch.testing.assert_close(got, expected)


def test_gradient_confusion_of_identical_inputs_is_one_and_zero_gradients_give_zero():
    model = build_model("relu:width=16,depth=2", 2, 1)
    x = torch.rand(5, 2)
    torch.testing.assert_close(
        regions.gradient_confusion(model, x, x), torch.ones(5, dtype=torch.float64)
    )
    dead = nn.Sequential(
        nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1, bias=False)
    )  # every gradient is zero
    with torch.no_grad():
        for p in dead.parameters():
            p.zero_()
    assert regions.gradient_confusion(dead, x, x).tolist() == [0.0] * 5


def test_gradient_confusion_bad_input():
    model = build_model("relu:width=8,depth=1", 2, 1)
    with pytest.raises(ValueError, match="same shape"):
        regions.gradient_confusion(model, torch.rand(3, 2), torch.rand(4, 2))
    with pytest.raises(ValueError, match="both a and b"):
        regions.gradient_confusion(model, torch.rand(3, 2), torch.rand(3, 2), torch.rand(3, 1))


def test_sample_pairs_follow_the_radius_rule():
    box = ((0.0, 2.0), (-1.0, 1.0))
    pairs = regions.sample_pairs(400, 2, box, near_radius=0.05, far_radius=1.0, seed=3)
    low, high = (
        torch.tensor([0.0, -1.0], dtype=torch.float64),
        torch.tensor([2.0, 1.0], dtype=torch.float64),
    )
    for x in (pairs.near_a, pairs.near_b, pairs.far_a, pairs.far_b):
        assert x.shape == (400, 2) and x.dtype == torch.float64
        assert torch.all(x >= low) and torch.all(x <= high)
    near = regions.pair_distances(pairs.near_a, pairs.near_b)
    far = regions.pair_distances(pairs.far_a, pairs.far_b)
    assert torch.all(near > 0) and torch.all(near <= 0.05 + 1e-12)
    assert near.max() > 0.045 and near.min() < 0.005  # uniform over (0, radius]
    assert torch.all(far >= 1.0)
    again = regions.sample_pairs(400, 2, box, near_radius=0.05, far_radius=1.0, seed=3)
    assert torch.equal(again.far_b, pairs.far_b)
    defaults = regions.sample_pairs(10, 3)
    assert defaults.near_radius == 0.01 and defaults.far_radius == 0.5
    with pytest.raises(ValueError, match="far_radius"):
        regions.sample_pairs(10, 2, far_radius=2.0)
    with pytest.raises(ValueError, match="near_radius"):
        regions.sample_pairs(10, 2, near_radius=-1.0)


def test_compare_pairs_summarises_both_measures():
    model = build_model("relu:width=32,depth=2", 2, 1)
    pairs = regions.sample_pairs(40, 2, seed=0)

    def target(x):
        return torch.sin(6 * x.sum(dim=1, keepdim=True)).float()

    result = regions.compare_pairs(model, pairs, target=target)
    hamming_near = regions.hamming_distance(model, pairs.near_a, pairs.near_b)
    a, b = pairs.far_a, pairs.far_b
    confusion_far = regions.gradient_confusion(model, a, b, target(a), target(b))
    assert torch.equal(result.hamming_near, hamming_near)
    assert result.near.hamming_mean == pytest.approx(float(hamming_near.double().mean()))
    assert result.near.hamming_std == pytest.approx(float(hamming_near.double().std(correction=0)))
    torch.testing.assert_close(result.confusion_far, confusion_far)
    assert result.far.confusion_mean == pytest.approx(float(confusion_far.mean()))
    assert result.num_units == 64 and result.near.pairs == result.far.pairs == 40
    assert result.near.hamming_mean < result.far.hamming_mean  # nearby points share more units
    assert set(result.to_dict()) == {"near", "far", "num_units", "near_radius", "far_radius"}
    siren = regions.compare_pairs(build_model("siren:width=8,depth=1", 2, 1), pairs)
    assert siren.hamming_near is None and siren.near.hamming_mean is None
    assert math.isfinite(siren.near.confusion_mean)
    with pytest.raises(TypeError, match="Sine"):
        regions.compare_pairs(build_model("siren:width=8,depth=1", 2, 1), pairs, hamming=True)
