"""Region-id and boundary maps on 1D, 2D and 3D grids."""

import itertools

import pytest
import torch

import coordnet.regions as regions
from coordnet.nets import build_model
from coordnet.signals import Signal, grid_axis


def boundary_by_loops(ids):
    """True where a neighbour along some axis (previous or next sample) has another id."""
    out = torch.zeros(ids.shape, dtype=torch.bool)
    for index in itertools.product(*(range(n) for n in ids.shape)):
        for axis in range(ids.dim()):
            for step in (-1, 1):
                other = list(index)
                other[axis] += step
                if 0 <= other[axis] < ids.shape[axis] and ids[tuple(other)] != ids[index]:
                    out[index] = True
    return out


@pytest.mark.parametrize(
    "shape, domain",
    [
        ((257,), (0.0, 1.0)),
        ((23, 17), (-1.0, 2.0)),
        ((9, 8, 7), ((0.0, 1.0), (-0.5, 0.5), (0.0, 3.0))),
    ],
)
def test_region_map_matches_ids_of_grid_points(shape, domain):
    d = len(shape)
    model = build_model("relu:width=32,depth=3", d, 1)
    result = regions.region_map(model, shape, domain, chunk=100)
    box = domain if isinstance(domain[0], tuple) else (domain,) * d
    axes = [grid_axis(low, high, n) for n, (low, high) in zip(shape, box)]
    points = torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1).reshape(-1, d)
    expected = regions.region_ids(model, points)
    assert result.shape == shape and result.domain == tuple(box)
    assert torch.equal(result.ids.reshape(-1), expected.ids)
    assert torch.equal(result.sizes, expected.sizes)
    assert result.num_regions == expected.num_regions > 3
    assert int(result.sizes.sum()) == points.shape[0]
    assert torch.equal(result.boundary, boundary_by_loops(result.ids))
    assert 0 < result.boundary_fraction < 1


def test_region_map_lines_up_with_a_signal_grid():
    model = build_model(
        "pe:num_frequencies=3+relu:width=16,depth=2", 2, 1, signal_domain=(-1.0, 1.0)
    )
    signal = Signal(torch.zeros(31, 20, 1), domain=((-1.0, 1.0), (-1.0, 1.0)))
    coords, _ = signal.flat()
    result = regions.region_map(model, (31, 20))  # domain from the model's signal_domain
    assert result.domain == ((-1.0, 1.0), (-1.0, 1.0))
    assert torch.equal(result.ids.reshape(-1), regions.region_ids(model, coords).ids)


def test_boundary_map_of_a_known_id_grid():
    ids = torch.tensor([[0, 0, 1], [0, 0, 1], [2, 2, 2]])
    expected = torch.tensor([[False, True, True], [True, True, True], [True, True, True]])
    assert torch.equal(regions.boundary_map(ids), expected)
    assert not regions.boundary_map(torch.zeros(4, 4, dtype=torch.int64)).any()
    line = torch.tensor([3, 3, 5, 5, 5])
    assert torch.equal(regions.boundary_map(line), torch.tensor([False, True, True, False, False]))


def test_integer_shape_means_every_axis():
    model = build_model("relu:width=8,depth=1", 2, 1)
    assert regions.region_map(model, 12).shape == (12, 12)


def test_grid_too_large_reports_the_estimate():
    model = build_model("relu:width=256,depth=3", 2, 1)
    expected = r"400000000 samples needs about [0-9.]+ GiB .*max_memory=1\.0 GiB"
    with pytest.raises(regions.RegionMemoryError, match=expected) as info:
        regions.region_map(model, (20000, 20000), max_memory=2**30)
    estimate = info.value.estimate
    assert estimate.packed == 400_000_000 * 3 * 4 * 8  # 3 layers of 256 units: 4 words each
    assert estimate.ids == 400_000_000 * 8 and estimate.extra == 400_000_000 * 2
    assert f"{estimate.total / 2**30:.1f} GiB" in str(info.value)
    with pytest.raises(regions.RegionMemoryError, match=r"needs about [0-9.]+ TiB"):
        regions.region_map(model, (100000, 100000))  # the default limit (at most 8 GiB)


@pytest.mark.parametrize(
    "shape, message",
    [((0, 4), "shape"), ((4, 4, 4, 4), "shape"), ((4,), "has 1 axes"), ("big", "shape")],
)
def test_bad_shapes(shape, message):
    model = build_model("relu:width=8,depth=1", 2, 1)
    with pytest.raises(ValueError, match=message):
        regions.region_map(model, shape)


def test_bad_domain_and_dimension():
    model = build_model("relu:width=8,depth=1", 2, 1)
    with pytest.raises(ValueError, match="domain"):
        regions.region_map(model, (4, 4), (1.0, 0.0))
    with pytest.raises(ValueError, match="1 to 3 input dimensions"):
        regions.region_map(build_model("relu:width=8,depth=1", 4, 1), 4)
