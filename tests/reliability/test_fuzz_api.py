"""Seeded fuzz of encoder constructors and inputs, model specs, encoding configs and sweep files:
only ``TypeError`` / ``ValueError`` (never OverflowError, RecursionError, ZeroDivisionError, ...),
and encoders that build give finite outputs for finite inputs in their documented range."""

import math
import random

import pytest
import torch

from coordnet.encoders import (
    GaussianFourierFeatures,
    HashGrid,
    IntegratedPositionalEncoding,
    OneBlob,
    PositionalEncoding,
    SphericalHarmonics,
    TriangleWave,
)
from coordnet.encoders.config import from_config
from coordnet.nets import parse_spec
from coordnet.sweep import parse_sweep
from coordnet.sweep.config import SweepFileError

ODD_VALUES = [
    0,
    1,
    2,
    3,
    7,
    -1,
    -(2**40),
    2**31,
    2**63,
    2**70,
    10**30,
    0.5,
    1.5,
    -2.5,
    1e-30,
    1e30,
    1e38,
    1e300,
    float("inf"),
    float("-inf"),
    float("nan"),
    True,
    False,
    None,
    "2",
    "",
    "x",
    [],
    [1],
    {},
    (1,),
]
FLOAT32_MAX = 3.4028234663852886e38


def _value(rng, pool=ODD_VALUES):
    return rng.choice(pool) if rng.random() < 0.6 else rng.choice([1, 2, 4, 8, 16, 0.1, 1.0, 10.0])


#: Hash-grid sizes: legal tables reach 2^31 entries (8 GiB), more than a test may allocate.
GRID_VALUES = [
    v
    for v in ODD_VALUES
    if not (isinstance(v, int) and not isinstance(v, bool) and 2**12 < v < 2**63)
]


CONSTRUCTORS = {
    PositionalEncoding: (
        lambda rng: dict(
            in_dim=rng.choice([1, 2, 3]),
            num_frequencies=_value(rng),
            factor=_value(rng) if rng.random() < 0.3 else math.pi,
        )
    ),
    GaussianFourierFeatures: (
        lambda rng: dict(
            in_dim=rng.choice([1, 2, 3]),
            num_frequencies=_value(rng),
            sigma=_value(rng),
            seed=_value(rng),
        )
    ),
    TriangleWave: (lambda rng: dict(in_dim=rng.choice([1, 2]), num_frequencies=_value(rng))),
    OneBlob: (lambda rng: dict(in_dim=rng.choice([1, 2]), num_bins=_value(rng))),
    SphericalHarmonics: (lambda rng: dict(in_dim=3, degree=_value(rng))),
    IntegratedPositionalEncoding: (
        lambda rng: dict(
            in_dim=2,
            min_deg=_value(rng),
            max_deg=_value(rng),
            factor=_value(rng) if rng.random() < 0.3 else 1.0,
        )
    ),
    HashGrid: (
        lambda rng: dict(
            in_dim=rng.choice([1, 2, 3]),
            num_levels=_value(rng, GRID_VALUES),
            num_features_per_level=2,
            log2_table_size=rng.choice([4, 8, 12]),
            min_resolution=_value(rng, GRID_VALUES),
            growth=rng.choice([1.5, 2.0, _value(rng, GRID_VALUES)]),
            seed=_value(rng),
        )
    ),
}


def _phase_bound(encoder):
    """Largest |x| at which the encoder's float32 phases stay finite (inf: no such limit)."""
    B = getattr(encoder, "B", None)
    if B is None:
        return math.inf
    return FLOAT32_MAX / (float(B.abs().max()) * encoder.factor) / 4


def _fuzz_encoders(seed, cases):
    rng = random.Random(seed)
    built = 0
    for _ in range(cases):
        cls = rng.choice(list(CONSTRUCTORS))
        kwargs = CONSTRUCTORS[cls](rng)
        try:
            encoder = cls(**kwargs)
        except (TypeError, ValueError) as error:
            assert str(error), (cls.__name__, kwargs)
            continue
        built += 1
        limit = min(_phase_bound(encoder), 1e30)
        magnitude = 10.0 ** rng.uniform(-3, math.log10(limit)) if limit > 1e-3 else 1.0
        x = (
            torch.rand(
                4, encoder.in_dim, generator=torch.Generator().manual_seed(rng.randrange(2**31))
            )
            * 2
            - 1
        ) * magnitude
        y = encoder(x)
        assert y.shape == (4, encoder.out_dim) and torch.isfinite(y).all(), (
            cls.__name__,
            kwargs,
            magnitude,
        )
    return built


def test_fuzz_encoder_constructors_and_inputs():
    assert _fuzz_encoders(seed=14, cases=300) > 20  # some cases build and are evaluated


@pytest.mark.slow
def test_fuzz_encoder_constructors_and_inputs_long():
    assert _fuzz_encoders(seed=1414, cases=1500) > 100


KEYS = {
    "pe": ["num_frequencies", "factor"],
    "gauss": ["num_frequencies", "sigma", "seed"],
    "hash": ["num_levels", "log2_table_size", "min_resolution", "b"],
    "relu": ["width", "depth"],
    "siren": ["width", "depth", "w0"],
}


def _spec(rng):
    encoder = rng.choice(["pe", "gauss", "hash", "none"])
    net = rng.choice(["relu", "siren"])
    parts = []
    for name in (encoder, net):
        keys = KEYS.get(name, [])
        args = ",".join(
            f"{k}={rng.choice(['1e38', '1e30', '200', '-1', 'nan', 'inf', '1.5', 'x', '2', '8', '0'])}"
            for k in rng.sample(keys, k=rng.randint(0, len(keys)))
        )
        parts.append(f"{name}:{args}" if args else name)
    return "+".join(parts)


def _fuzz_specs(seed, cases):
    rng = random.Random(seed)
    for _ in range(cases):
        text = _spec(rng)
        try:
            parse_spec(text)
        except (TypeError, ValueError) as error:
            assert str(error), text


def test_fuzz_specs():
    _fuzz_specs(seed=14, cases=300)


def _config(rng, depth=0):
    otype = rng.choice(
        [
            "Frequency",
            "OneBlob",
            "TriangleWave",
            "SphericalHarmonics",
            "Identity",
            "HashGrid",
            "Composite" if depth < 3 else "Identity",
        ]
    )
    config = {"otype": otype}
    for key in rng.sample(
        [
            "n_frequencies",
            "n_bins",
            "degree",
            "n_levels",
            "log2_hashmap_size",
            "base_resolution",
            "per_level_scale",
            "scale",
        ],
        k=rng.randint(0, 2),
    ):
        config[key] = _value(rng)
    if otype == "Composite":
        config["nested"] = [_config(rng, depth + 1) for _ in range(rng.randint(0, 2))]
    return config


def test_fuzz_encoding_configs():
    rng = random.Random(14)
    for _ in range(200):
        config = _config(rng)
        try:
            encoder = from_config(config, 3, seed=rng.randrange(100))
        except (TypeError, ValueError) as error:
            assert str(error), config
            continue
        y = encoder(torch.rand(2, 3))
        assert torch.isfinite(y).all(), config


def test_fuzz_sweep_files():
    rng = random.Random(14)
    for _ in range(150):
        images = rng.choice(['["camera"]', "[]", '"camera"', "[1]"])
        steps = rng.choice(["10", "0", "-1", "1e9", '"x"', "99999999999999999999"])
        scale = rng.choice(["[1, 2]", "[]", "[1e38]", '["a"]', "1"])
        lines = [
            f"images = {images}",
            f"steps = {steps}",
            f"seeds = {rng.choice(['[0, 1]', '[]', '3', '-1', '[true]', '[1.5]', '[0, 0]', '9223372036854775808'])}",
            f"size = {rng.choice(['32', '0', '100000', '1.5', 'true'])}",
            "[[models]]",
            f'spec = "{_spec(rng)}"',
        ]
        if rng.random() < 0.5:
            lines += ["[models.grid]", f"sigma = {scale}"]
        text = "\n".join(line for line in lines if rng.random() < 0.9 or line.startswith("[["))
        try:
            parse_sweep(text, "fuzz.toml")
        except SweepFileError as error:
            assert str(error).startswith("sweep file fuzz.toml"), text
