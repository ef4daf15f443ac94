"""Exact activation-region counts along segments, and region density along random lines."""

import math

import numpy as np
import pytest
import torch
from torch import nn

import coordnet.regions as regions
from coordnet.encoders import Identity
from coordnet.nets import CoordinateNet, ReluMLP, build_model


def one_layer(d, width, seed):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(d, width), nn.ReLU(), nn.Linear(width, 1)).double()


def crossings_of_one_layer(model, start, end):
    """Sorted distinct t in (0, 1) where a unit of the single hidden layer changes sign."""
    W = model[0].weight.detach().double()
    b = model[0].bias.detach().double()
    z0 = W @ start + b
    slope = W @ (end - start)
    t = -z0 / slope
    inside = t[(slope != 0) & (t > 0) & (t < 1)]
    return torch.unique(inside)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("d", [1, 2, 3])
def test_one_hidden_layer_against_unit_crossings(d, seed):
    model = one_layer(d, 40, seed)
    start, end = torch.rand(d, dtype=torch.float64) - 3, torch.rand(d, dtype=torch.float64) + 2
    expected = crossings_of_one_layer(model, start, end)
    found = regions.breakpoints_1d(model, start, end)
    assert found.dtype == torch.float64
    assert found.shape == expected.shape and len(expected) > 3
    torch.testing.assert_close(found, expected, rtol=0, atol=1e-12)
    assert regions.exact_count_1d(model, start, end) == len(expected) + 1


def patterns_at(model, start, end, t):
    points = start[None, :] + t[:, None] * (end - start)[None, :]
    return regions.unpack_patterns(regions.activation_patterns(model, points), model)


@pytest.mark.parametrize("spec", ["relu:width=24,depth=3", "relu:width=16,depth=4,bias=false"])
@pytest.mark.parametrize("seed", range(3))
def test_deep_nets_against_sampling(spec, seed):
    torch.manual_seed(seed)
    model = build_model(spec, 2, 1).double()
    start = torch.tensor([-0.3, 0.2], dtype=torch.float64) + 0.1 * seed
    end = torch.tensor([1.4, 0.9], dtype=torch.float64)
    t = regions.breakpoints_1d(model, start, end)
    count = regions.exact_count_1d(model, start, end)
    assert count == len(t) + 1 > 5
    assert torch.all(t[1:] > t[:-1]) and t[0] > 0 and t[-1] < 1
    # One sample inside every piece: consecutive pieces differ, and all pieces are distinct regions.
    edges = torch.cat([torch.zeros(1, dtype=torch.float64), t, torch.ones(1, dtype=torch.float64)])
    middles = (edges[1:] + edges[:-1]) / 2
    inside = patterns_at(model, start, end, middles)
    assert (inside[1:] != inside[:-1]).any(dim=1).all()
    assert torch.unique(inside, dim=0).shape[0] == count
    # Just before and just after each breakpoint the pattern differs.
    gap = float(torch.diff(edges).min())
    before = patterns_at(model, start, end, t - gap / 4)
    after = patterns_at(model, start, end, t + gap / 4)
    assert (before != after).any(dim=1).all()
    # Sampled counts never exceed the exact count, and reach it once samples are finer than the smallest piece.
    for samples in (10, 100, 1000):
        points = start + torch.linspace(0, 1, samples, dtype=torch.float64)[:, None] * (end - start)
        assert regions.count_regions(model, points) <= count
    fine = int(min(4.0 / gap, 2_000_000))
    points = start + torch.linspace(0, 1, fine, dtype=torch.float64)[:, None] * (end - start)
    assert regions.count_regions(model, points) == count


def hand_made_net():
    """1D input: layer 1 is (relu(x), relu(-x)); layer 2 is (|x|, relu(x), 0) before its ReLU."""
    first = nn.Linear(1, 2)
    second = nn.Linear(2, 3)
    with torch.no_grad():
        first.weight.copy_(torch.tensor([[1.0], [-1.0]]))
        first.bias.zero_()
        second.weight.copy_(torch.tensor([[1.0, 1.0], [1.0, 0.0], [0.0, 0.0]]))
        second.bias.zero_()
    return nn.Sequential(first, nn.ReLU(), second, nn.ReLU(), nn.Linear(3, 1))


def test_simultaneous_touching_and_identically_zero_units():
    # At x = 0 both first-layer units cross, |x| touches zero without changing state,
    # relu(x) leaves a stretch where it is identically zero, and the last unit is always zero.
    model = hand_made_net()
    assert regions.exact_count_1d(model, [-1.0], [1.0]) == 2
    torch.testing.assert_close(
        regions.breakpoints_1d(model, [-1.0], [1.0]), torch.tensor([0.5], dtype=torch.float64)
    )
    assert regions.exact_count_1d(model, [-1.0], [-0.25]) == 1
    assert regions.exact_count_1d(model, [0.5], [-3.0]) == 2
    assert regions.exact_count_1d(model, [0.5], [0.5]) == 1  # a single point
    samples = torch.linspace(-1, 1, 1000)[:, None]  # never exactly 0
    assert regions.count_regions(model, samples) == 2


def test_bias_free_net_crosses_all_units_at_the_origin():
    # Without biases the net is positively homogeneous: along -p -> p the pattern is that of
    # -p, then that of p, every unit of every layer switching together at t = 1/2.
    torch.manual_seed(3)
    model = build_model("relu:width=32,depth=4,bias=false", 3, 1).double()
    p = torch.tensor([0.3, -0.7, 0.5], dtype=torch.float64)
    t = regions.breakpoints_1d(model, -p, p)
    assert t.shape == (1,) and abs(float(t[0]) - 0.5) < 1e-12
    assert regions.exact_count_1d(model, -p, 3 * p) == 2
    assert regions.exact_count_1d(model, p, 3 * p) == 1


def test_affine_input_maps():
    class DomainRelu(ReluMLP):
        input_domain = (-1.0, 1.0)

    torch.manual_seed(0)
    inner = DomainRelu(2, 1, width=24, depth=3).double()
    mapped = CoordinateNet(None, inner)  # [0, 1] -> [-1, 1]
    start, end = torch.tensor([0.1, 0.2]), torch.tensor([0.9, 0.6])
    assert regions.exact_count_1d(mapped, start, end) == regions.exact_count_1d(
        inner, 2 * start - 1, 2 * end - 1
    )
    torch.manual_seed(0)
    net = ReluMLP(2, 1, width=24, depth=3).double()
    with_identity = CoordinateNet(Identity(2, scale=3.0, offset=-1.0), net)
    assert regions.exact_count_1d(with_identity, start, end) == regions.exact_count_1d(
        net, 3 * start - 1, 3 * end - 1
    )


def test_non_affine_encoder_is_refused():
    model = build_model("pe:num_frequencies=4+relu:width=8,depth=2", 2, 1)
    with pytest.raises(ValueError, match="affine input map.*PositionalEncoding"):
        regions.exact_count_1d(model, [0.0, 0.0], [1.0, 1.0])


def test_bad_segment_ends():
    model = build_model("relu:width=8,depth=2", 2, 1)
    with pytest.raises(ValueError, match=r"start must have shape \(2,\)"):
        regions.exact_count_1d(model, [0.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="end must be finite"):
        regions.exact_count_1d(model, [0.0, 0.0], [math.inf, 1.0])
    with pytest.raises(TypeError, match="Sine"):
        regions.exact_count_1d(build_model("siren:width=8,depth=2", 2, 1), [0.0, 0.0], [1.0, 1.0])


def test_no_hidden_layer():
    assert regions.exact_count_1d(build_model("relu:depth=0", 2, 1), [0.0, 0.0], [1.0, 1.0]) == 1


def test_region_density_exact():
    torch.manual_seed(1)
    model = build_model("relu:width=16,depth=2", 2, 1).double()
    result = regions.region_density(model, 6, ((0.0, 1.0), (-1.0, 2.0)), seed=5)
    assert result.exact and result.counts.shape == result.lengths.shape == (6,)
    low = torch.tensor([0.0, -1.0], dtype=torch.float64)
    high = torch.tensor([1.0, 2.0], dtype=torch.float64)
    for start, end, length, count in zip(result.starts, result.ends, result.lengths, result.counts):
        for point in (start, end):  # on the surface of the box
            assert torch.all(point >= low - 1e-12) and torch.all(point <= high + 1e-12)
            assert torch.isclose(point, low).any() or torch.isclose(point, high).any()
        assert math.isclose(float(length), float((end - start).norm()))
        assert int(count) == regions.exact_count_1d(model, start, end)
    torch.testing.assert_close(result.densities, result.counts.double() / result.lengths)
    assert result.mean == pytest.approx(float(np.mean(result.densities.numpy())))
    assert result.std == pytest.approx(float(np.std(result.densities.numpy())))
    again = regions.region_density(model, 6, ((0.0, 1.0), (-1.0, 2.0)), seed=5)
    assert torch.equal(again.counts, result.counts) and torch.equal(again.starts, result.starts)


def test_region_density_sampled_is_a_lower_bound_reached_by_fine_sampling():
    torch.manual_seed(2)
    model = build_model("relu:width=12,depth=2", 2, 1).double()
    exact = regions.region_density(model, 4, seed=1)
    coarse = regions.region_density(model, 4, seed=1, samples_per_line=5)
    fine = regions.region_density(model, 4, seed=1, samples_per_line=20000)
    assert not coarse.exact
    assert torch.all(coarse.counts <= exact.counts)
    assert torch.equal(fine.counts, exact.counts)
    # With an encoder only the sampled mode applies.
    pe = build_model("pe:num_frequencies=3+relu:width=8,depth=2", 2, 1)
    assert regions.region_density(pe, 3, samples_per_line=50).counts.min() >= 1
    with pytest.raises(ValueError, match="affine"):
        regions.region_density(pe, 3)
