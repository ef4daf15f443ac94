"""Counting activation regions: counts, ids and sizes against a dense pure-PyTorch reference."""

import pytest
import torch
from torch import nn

import coordnet.ops as ops
import coordnet.regions as regions
import coordnet.regions.count as count_module
from coordnet.encoders import Identity
from coordnet.nets import ActivationMLP, CoordinateNet, ReluMLP, build_model


def dense_patterns(model: nn.Module, points: torch.Tensor) -> torch.Tensor:
    """(N, units) bool: the sign of the input of every nn.ReLU module, captured by forward hooks."""
    captured = []
    hooks = [
        module.register_forward_hook(lambda mod, inputs, output: captured.append(inputs[0] > 0))
        for module in model.modules()
        if type(module) is nn.ReLU
    ]
    try:
        with torch.no_grad():
            model(points)
    finally:
        for hook in hooks:
            hook.remove()
    return torch.cat(captured, dim=1)


def dense_count(model: nn.Module, points: torch.Tensor) -> int:
    return torch.unique(dense_patterns(model, points), dim=0).shape[0]


def nested_sequential():
    return nn.Sequential(
        nn.Sequential(nn.Linear(2, 70), nn.ReLU()),
        nn.Sequential(nn.Linear(70, 20), nn.ReLU(), nn.Sequential(nn.Linear(20, 65), nn.ReLU())),
        nn.Linear(65, 3),
    )


MODELS = {
    "relu-bias": lambda: build_model("relu:width=48,depth=3", 2, 1),
    "relu-nobias": lambda: build_model("relu:width=40,depth=2,bias=false", 2, 3),
    "relu-sigmoid-out": lambda: build_model(
        "relu:width=33,depth=2", 2, 3, output_activation="sigmoid"
    ),
    "pe": lambda: build_model("pe:num_frequencies=4+relu:width=32,depth=2", 2, 1),
    "gauss": lambda: build_model("gauss:num_frequencies=16,sigma=5+relu:width=24,depth=2", 2, 1),
    "sequential": nested_sequential,
    "sequential-ending-relu": lambda: nn.Sequential(
        nn.Linear(2, 30), nn.ReLU(), nn.Linear(30, 10), nn.ReLU()
    ),
    "sequential-encoder": lambda: nn.Sequential(
        Identity(2, scale=3.0, offset=-1.0), nn.Linear(2, 30), nn.ReLU(), nn.Linear(30, 1)
    ),
    "float64": lambda: build_model("relu:width=20,depth=3", 2, 1).double(),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_count_matches_dense_reference(name):
    model = MODELS[name]()
    points = torch.rand(3000, 2) * 2 - 0.5
    expected = dense_count(model, points.to(next(model.parameters()).dtype))
    assert expected > 10  # the test sees many regions
    assert regions.count_regions(model, points) == expected
    assert regions.count_regions(model, points, chunk=257) == expected


def test_patterns_match_hooks_bit_for_bit():
    model = nested_sequential()
    points = torch.rand(500, 2)
    packed = regions.activation_patterns(model, points, chunk=100)
    network = regions.relu_network(model)
    assert packed.shape == (500, network.num_words) == (500, 2 + 1 + 2)
    assert torch.equal(regions.unpack_patterns(packed, model), dense_patterns(model, points))


def test_ids_are_consistent_with_patterns_and_sizes_sum_to_n():
    model = build_model("pe:num_frequencies=3+relu:width=24,depth=3", 2, 1)
    points = torch.rand(4000, 2)
    result = regions.region_ids(model, points, chunk=999)
    patterns = dense_patterns(model, points)
    u = result.num_regions
    assert u == torch.unique(patterns, dim=0).shape[0]
    # same id <=> same pattern: (id, pattern) pairs are as many as ids and as patterns
    joint = torch.cat([result.ids[:, None], patterns.long()], dim=1)
    assert torch.unique(joint, dim=0).shape[0] == u
    # numbered by first occurrence
    assert torch.equal(result.ids[result.first], torch.arange(u))
    assert torch.all(result.first[1:] > result.first[:-1])
    first_seen = torch.full((u,), len(points), dtype=torch.int64)
    first_seen.scatter_reduce_(0, result.ids, torch.arange(len(points)), "amin")
    assert torch.equal(first_seen, result.first)
    assert int(result.sizes.sum()) == len(points)
    assert torch.equal(result.sizes, torch.bincount(result.ids, minlength=u))


@pytest.mark.parametrize("mask", [0, 0x3])
def test_hash_collisions_do_not_change_counts(monkeypatch, mask):
    model = build_model("relu:width=64,depth=3", 2, 1)
    points = torch.rand(3000, 2)
    honest = regions.region_ids(model, points)
    packed = regions.activation_patterns(model, points)
    hashes = ops.hash_patterns(packed, hash_mask=mask)
    assert (
        torch.unique(hashes).numel() <= mask + 1 < honest.num_regions
    )  # almost every pair collides

    seen_masks = []
    original = ops.unique_patterns

    def spy(packed, hash_mask=-1):
        seen_masks.append(hash_mask)
        return original(packed, hash_mask=hash_mask)

    monkeypatch.setattr(count_module, "HASH_MASK", mask)
    monkeypatch.setattr(ops, "unique_patterns", spy)
    weak = regions.region_ids(model, points)
    assert seen_masks == [mask]
    assert weak.num_regions == honest.num_regions == dense_count(model, points)
    assert torch.equal(weak.ids, honest.ids)
    assert regions.count_regions(model, points) == honest.num_regions


def test_encoder_patterns_are_over_the_input_points():
    # A PE model's count over points equals the count of its net over the encoded points.
    model = build_model("pe:num_frequencies=5+relu:width=32,depth=2", 2, 1)
    points = torch.rand(2000, 2)
    encoded = model.encoder(model.map_coordinates(points))
    assert regions.count_regions(model, points) == regions.count_regions(model.net, encoded)


def test_coordinate_mapping_is_applied():
    class DomainRelu(ReluMLP):
        input_domain = (-1.0, 1.0)

    model = CoordinateNet(None, DomainRelu(2, 1, width=32, depth=2))
    assert model.maps_coordinates
    points = torch.rand(2000, 2)
    assert regions.count_regions(model, points) == dense_count(model, points)
    assert regions.count_regions(model, points) == regions.count_regions(model.net, points * 2 - 1)


def test_bfloat16_model_is_counted_in_float32():
    model = build_model("relu:width=32,depth=2", 2, 1)
    low = model.to(torch.bfloat16)
    points = torch.rand(2000, 2)
    as_float = build_model("relu:width=32,depth=2", 2, 1)
    as_float.load_state_dict({k: v.float() for k, v in low.state_dict().items()})
    assert regions.count_regions(low, points) == dense_count(as_float, points)


def test_no_hidden_layer_is_one_region_and_no_points_is_zero():
    linear = build_model("relu:depth=0", 2, 1)
    assert regions.count_regions(linear, torch.rand(50, 2)) == 1
    model = build_model("relu:width=8,depth=2", 2, 1)
    empty = regions.region_ids(model, torch.zeros(0, 2))
    assert empty.num_regions == 0 and empty.ids.shape == (0,) and empty.sizes.shape == (0,)


def test_relu_network_structure():
    network = regions.relu_network(nested_sequential())
    assert network.widths == (70, 20, 65)
    assert network.word_offsets == (0, 2, 3)
    assert network.num_words == 5 and network.num_units == 155
    assert network.output.out_features == 3
    assert network.names == ["0.0", "1.0", "1.2.0"]
    model = build_model("pe+relu:width=16,depth=3,bias=false", 3, 1)
    network = regions.relu_network(model)
    assert network.widths == (16, 16, 16) and network.in_dim == 3
    assert not network.input_map_is_affine and network.input_map_name == "PositionalEncoding"


class LeakyMLP(ActivationMLP):
    def __init__(self):
        super().__init__(2, 1, 8, 2, lambda role: nn.LeakyReLU())


@pytest.mark.filterwarnings("ignore:Initializing zero-element tensors")
@pytest.mark.parametrize(
    "make, error, words",
    [
        (lambda: build_model("siren:width=16,depth=2", 2, 1), TypeError, ["Sine", "layers.1"]),
        (lambda: build_model("gauss-act:width=16,depth=2", 2, 1), TypeError, ["not nn.ReLU"]),
        (lambda: LeakyMLP(), TypeError, ["LeakyReLU", "layers.1"]),
        (
            lambda: nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Dropout(0.1), nn.Linear(8, 1)),
            TypeError,
            ["Dropout", "'2'"],
        ),
        (
            lambda: nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1)),
            TypeError,
            ["Tanh", "'1'"],
        ),
        (
            lambda: nn.Sequential(nn.Linear(2, 8), nn.Linear(8, 8), nn.ReLU()),
            TypeError,
            ["another nn.Linear"],
        ),
        (lambda: nn.Sequential(nn.ReLU(), nn.Linear(2, 8)), TypeError, ["no nn.Linear before"]),
        (
            lambda: nn.Sequential(nn.Linear(2, 0), nn.ReLU(), nn.Linear(0, 1)),
            ValueError,
            ["zero width", "'0'"],
        ),
        (
            lambda: nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(7, 1)),
            ValueError,
            ["takes 7 inputs"],
        ),
        (lambda: nn.Sequential(), ValueError, ["no nn.Linear"]),
        (lambda: nn.Conv1d(1, 1, 1), TypeError, ["Conv1d"]),
    ],
)
def test_unsupported_models_are_rejected_with_the_layer_named(make, error, words):
    with pytest.raises(error) as info:
        regions.count_regions(make(), torch.rand(10, 2))
    for word in words:
        assert word in str(info.value)


def test_bad_points_are_rejected():
    model = build_model("relu:width=8,depth=2", 2, 1)
    with pytest.raises(ValueError, match=r"points must have shape \(N, 2\), got \(10, 3\)"):
        regions.count_regions(model, torch.rand(10, 3))
    with pytest.raises(ValueError, match=r"points must have shape"):
        regions.count_regions(model, torch.rand(10))
    with pytest.raises(TypeError, match="floating-point"):
        regions.count_regions(model, torch.ones(10, 2, dtype=torch.int64))
    with pytest.raises(ValueError, match="chunk"):
        regions.count_regions(model, torch.rand(10, 2), chunk=0)


def test_memory_limit_reports_the_estimate():
    model = build_model("relu:width=256,depth=4", 2, 1)
    points = torch.rand(20000, 2)
    estimate = regions.estimate_memory(
        20000, 16, chunk=8192, max_width=256, input_width=2, in_dim=2
    )
    assert estimate.packed == 20000 * 16 * 8 and estimate.ids == 20000 * 8
    with pytest.raises(regions.RegionMemoryError) as info:
        regions.count_regions(model, points, max_memory=estimate.total - 1)
    message = str(info.value)
    assert "20000 samples" in message and "needs about" in message and "max_memory" in message
    assert info.value.estimate.total == estimate.total
    assert regions.count_regions(model, points, max_memory=estimate.total) == dense_count(
        model, points
    )
    with pytest.raises(ValueError, match="max_memory"):
        regions.count_regions(model, points, max_memory=0)
