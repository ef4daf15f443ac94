import pytest
import torch
from devices import on_devices, to
from helpers import requires_extension

import coordnet.ops as ops
import coordnet.ops.regions as regions_op
from coordnet.ops.regions import unique_by_hash_sort

BACKENDS = ["reference_path", "compiled_path"]
DTYPES = [torch.float32, torch.float64]
U64 = (1 << 64) - 1


def use(request, fixture: str) -> None:
    request.getfixturevalue(fixture)


def bits_of(x: torch.Tensor) -> torch.Tensor:
    """Raw bit pattern of a float tensor (so -0 and NaN payloads compare exactly)."""
    return x.view(torch.int32 if x.dtype == torch.float32 else torch.int64)


def decode(packed: torch.Tensor, word_offset: int, width: int) -> torch.Tensor:
    """(n, width) bool: bit j % 64 of word word_offset + j // 64, read one unit at a time."""
    columns = [(packed[:, word_offset + j // 64] >> (j % 64)) & 1 for j in range(width)]
    return (
        torch.stack(columns, dim=1).bool()
        if columns
        else torch.zeros(packed.shape[0], 0, dtype=torch.bool)
    )


def python_hash(row, mask: int = U64) -> int:
    """The documented row hash in Python integers (arithmetic modulo 2^64), as int64."""

    def mix(z: int) -> int:
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & U64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & U64
        return z ^ (z >> 31)

    h = 0x243F6A8885A308D3
    for k, word in enumerate(row):
        h = mix(h ^ (word & U64) ^ (((k + 1) * 0x9E3779B97F4A7C15) & U64))
    h &= mask & U64
    return h - (1 << 64) if h >= 1 << 63 else h


def dict_unique(rows: torch.Tensor):
    """Distinct rows numbered by first occurrence, with a Python dict."""
    ids, inverse, first = {}, [], []
    for i, row in enumerate(map(tuple, rows.tolist())):
        if row not in ids:
            ids[row] = len(first)
            first.append(i)
        inverse.append(ids[row])
    return torch.tensor(inverse, dtype=torch.int64), torch.tensor(first, dtype=torch.int64)


def repeated_rows(n: int, words: int, distinct: int) -> torch.Tensor:
    """(n, words) int64 drawn from `distinct` random rows (full 64-bit range, sign bit included)."""
    pool = torch.randint(-(2**63), 2**63 - 1, (max(distinct, 1), words), dtype=torch.int64)
    return pool[torch.randint(0, max(distinct, 1), (n,))].contiguous()


@pytest.fixture(params=BACKENDS)
def any_backend(request):
    use(request, request.param)
    return request.param


# ---------------------------------------------------------------------------------------------- pattern_words


def test_pattern_words():
    assert [ops.pattern_words(w) for w in (0, 1, 63, 64, 65, 128, 200, 256)] == [
        0,
        1,
        1,
        1,
        2,
        2,
        4,
        4,
    ]
    for bad in (-1, 2.0, True, "8"):
        with pytest.raises(ValueError, match="width"):
            ops.pattern_words(bad)


# ---------------------------------------------------------------------------------------------- pack


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "width,n,word_offset",
    [
        (1, 5, 0),
        (7, 1, 2),
        (63, 17, 1),
        (64, 9, 0),
        (65, 13, 3),
        (130, 11, 1),
        (200, 3, 0),
        (5, 0, 1),
    ],
)
def test_pack_sets_sign_bits_and_relu(any_backend, dtype, width, n, word_offset):
    x = torch.randn(n, width, dtype=dtype)
    words = ops.pattern_words(width)
    sentinel = -0x123456789ABCDEF
    packed = torch.full((n, word_offset + words + 2), sentinel, dtype=torch.int64)
    out = x.clone()
    assert ops.pack_signs_relu_(out, packed, word_offset) is out
    assert torch.equal(decode(packed, word_offset, width), x > 0)
    assert not decode(packed, word_offset, 64 * words)[
        :, width:
    ].any()  # bits past the last unit are 0
    outside = torch.cat([packed[:, :word_offset], packed[:, word_offset + words :]], dim=1)
    assert bool((outside == sentinel).all())
    assert torch.equal(bits_of(out), bits_of(torch.relu(x)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_special_values_give_zero_bits(any_backend, dtype):
    tiny = torch.finfo(dtype).tiny / 4  # a positive subnormal
    values = torch.tensor(
        [
            0.0,
            -0.0,
            float("nan"),
            -float("nan"),
            float("inf"),
            -float("inf"),
            tiny,
            -tiny,
            1.0,
            -1.0,
        ],
        dtype=dtype,
    )
    x = values.repeat(1, 13)[
        :, :127
    ].contiguous()  # (1, 127): two words, every value at many bit positions
    packed = torch.zeros(1, 2, dtype=torch.int64)
    out = x.clone()
    ops.pack_signs_relu_(out, packed, 0)
    expected = torch.tensor(
        [False, False, False, False, True, False, True, False, True, False]
    ).repeat(13)[:127]
    assert torch.equal(decode(packed, 0, 127)[0], expected)
    assert torch.equal(bits_of(out), bits_of(torch.relu(x)))  # -0 and NaN kept, as torch.relu


@pytest.mark.parametrize("dtype", DTYPES)
def test_pack_without_relu_leaves_preact(any_backend, dtype):
    x = torch.randn(6, 100, dtype=dtype)
    out = x.clone()
    packed = torch.zeros(6, 2, dtype=torch.int64)
    ops.pack_signs_relu_(out, packed, 0, relu=False)
    assert torch.equal(bits_of(out), bits_of(x))
    assert torch.equal(decode(packed, 0, 100), x > 0)


@requires_extension
@on_devices
@pytest.mark.parametrize("dtype", DTYPES)
def test_pack_compiled_equals_reference(request, device, dtype):
    generator = torch.Generator().manual_seed(1)
    for _ in range(25):
        width = int(torch.randint(1, 201, (1,), generator=generator))
        n = int(torch.randint(0, 40, (1,), generator=generator))
        offset = int(torch.randint(0, 3, (1,), generator=generator))
        x = torch.randn(n, width, generator=generator, dtype=dtype)
        x[torch.rand(n, width, generator=generator) < 0.1] = 0.0
        words = offset + ops.pattern_words(width) + 1
        results = []
        for mode in ("compiled", "reference"):
            ops.set_backend(mode)
            try:
                out, packed = to(device, x.clone(), torch.full((n, words), 7, dtype=torch.int64))
                ops.pack_signs_relu_(out, packed, offset, relu=bool(width % 2))
            finally:
                ops.set_backend("auto")
            results.append((bits_of(out), packed))
        assert torch.equal(results[0][0], results[1][0]), (width, n, offset)
        assert torch.equal(results[0][1], results[1][1]), (width, n, offset)


def test_layers_fill_one_pattern_row(any_backend):
    """Two layers at their word offsets give the concatenated sign pattern."""
    a, b = torch.randn(20, 70), torch.randn(20, 3)
    packed = torch.empty(20, ops.pattern_words(70) + ops.pattern_words(3), dtype=torch.int64)
    ops.pack_signs_relu_(a.clone(), packed, 0)
    ops.pack_signs_relu_(b.clone(), packed, ops.pattern_words(70))
    assert torch.equal(
        torch.cat([decode(packed, 0, 70), decode(packed, 2, 3)], dim=1),
        torch.cat([a > 0, b > 0], 1),
    )


# ---------------------------------------------------------------------------------------------- hash


@pytest.mark.parametrize("mask", [-1, 0x3, 0, U64, 1 << 63, 0xFFFF0000FFFF])
def test_hash_matches_python_integers(any_backend, mask):
    packed = repeated_rows(12, 5, 12)
    packed[0] = 0
    packed[1] = -1
    packed[2, :] = -(2**63)
    expected = torch.tensor([python_hash(row, mask) for row in packed.tolist()], dtype=torch.int64)
    assert torch.equal(ops.hash_patterns(packed, mask), expected)


def test_hash_of_empty_shapes(any_backend):
    assert ops.hash_patterns(torch.zeros(0, 3, dtype=torch.int64)).shape == (0,)
    empty_rows = ops.hash_patterns(torch.zeros(4, 0, dtype=torch.int64))
    assert torch.equal(empty_rows, torch.full((4,), python_hash([]), dtype=torch.int64))


@requires_extension
@on_devices
def test_hash_compiled_equals_reference(device):
    generator = torch.Generator().manual_seed(2)
    for n, words in [(0, 2), (1, 1), (7, 3), (101, 16), (1000, 5), (33, 0)]:
        packed = to(
            device,
            torch.randint(-(2**63), 2**63 - 1, (n, words), generator=generator, dtype=torch.int64),
        )
        for mask in (-1, 0x3, 0):
            ops.set_backend("compiled")
            try:
                compiled = ops.hash_patterns(packed, mask)
            finally:
                ops.set_backend("auto")
            assert torch.equal(compiled, ops.hash_patterns_reference(packed, mask)), (
                n,
                words,
                mask,
            )


def test_hash_avalanche(any_backend):
    """Flipping one bit of a row flips about half of the hash bits, and distinct rows never collide here."""
    base = repeated_rows(64, 4, 64)
    flipped = base.clone()
    bit = torch.randint(0, 64, (64,))
    word = torch.randint(0, 4, (64,))
    flipped[torch.arange(64), word] ^= torch.bitwise_left_shift(
        torch.ones(64, dtype=torch.int64), bit
    )
    difference = ops.hash_patterns(base) ^ ops.hash_patterns(flipped)
    changed = decode(difference[:, None], 0, 64).sum(1).double()
    assert 28 < changed.mean() < 36 and changed.min() > 12
    many = torch.randint(-(2**63), 2**63 - 1, (20000, 2), dtype=torch.int64)
    assert ops.hash_patterns(many).unique().numel() == 20000


# ---------------------------------------------------------------------------------------------- unique


@pytest.mark.parametrize("mask", [-1, 0x3, 0])
@pytest.mark.parametrize(
    "n,words,distinct", [(0, 2, 1), (1, 1, 1), (37, 3, 5), (500, 2, 40), (301, 5, 301), (9, 0, 1)]
)
@on_devices
def test_unique_is_exact(any_backend, device, mask, n, words, distinct):
    packed = repeated_rows(n, words, distinct)
    inverse, first = ops.unique_patterns(to(device, packed), mask)
    assert inverse.device.type == first.device.type == device
    expected_inverse, expected_first = dict_unique(packed)
    assert torch.equal(inverse.cpu(), expected_inverse)
    assert torch.equal(first.cpu(), expected_first)


def test_unique_rows_differing_in_one_bit_under_full_collision(any_backend):
    """hash_mask=0: every row has hash 0; rows differing only in bit 63 still get different ids."""
    packed = torch.zeros(6, 2, dtype=torch.int64)
    packed[1, 1] = -(2**63)
    packed[2, 0] = 1
    packed[4, 1] = -(2**63)
    inverse, first = ops.unique_patterns(packed, hash_mask=0)
    assert inverse.tolist() == [0, 1, 2, 0, 1, 0]
    assert first.tolist() == [0, 1, 2]


@requires_extension
def test_unique_compiled_equals_reference_with_table_growth(compiled_path):
    packed = repeated_rows(150_000, 1, 100_000)  # more distinct rows than the table starts with
    compiled = ops.unique_patterns(packed)
    reference = ops.unique_patterns_reference(packed)
    assert torch.equal(compiled[0], reference[0]) and torch.equal(compiled[1], reference[1])


@pytest.mark.parametrize("mask", [-1, 0x3, 0])
def test_unique_by_hash_sort_is_exact(monkeypatch, mask):
    """The CUDA path's algorithm, run on CPU tensors: weak hashes fall back to the exact unique."""
    calls = []
    exact = regions_op.unique_patterns_reference
    monkeypatch.setattr(
        regions_op, "unique_patterns_reference", lambda p, m=-1: calls.append(1) or exact(p, m)
    )
    monkeypatch.setattr(regions_op, "VERIFY_CHUNK_ROWS", 7)
    packed = repeated_rows(200, 3, 30)
    inverse, first = unique_by_hash_sort(packed, ops.hash_patterns_reference(packed, mask))
    expected_inverse, expected_first = dict_unique(packed)
    assert torch.equal(inverse, expected_inverse) and torch.equal(first, expected_first)
    assert len(calls) == (
        0 if mask == -1 else 1
    )  # collisions detected exactly when the hash is weak


def test_unique_patterns_dense_matches_packed(any_backend):
    patterns = torch.rand(400, 90) < 0.5
    patterns[200:] = patterns[:200][torch.randint(0, 200, (200,))]
    packed = torch.empty(400, 2, dtype=torch.int64)
    ops.pack_signs_relu_(patterns.float() - 0.5, packed, 0)
    dense, expected = ops.unique_patterns_dense(patterns), dict_unique(patterns.to(torch.int64))
    assert torch.equal(dense[0], expected[0]) and torch.equal(dense[1], expected[1])
    packed_ids = ops.unique_patterns(packed)
    assert torch.equal(packed_ids[0], dense[0]) and torch.equal(packed_ids[1], dense[1])


def test_region_count_of_a_small_mlp(any_backend):
    """Chunked forward with packing counts the same patterns as dense booleans of all layers."""
    layers = [torch.nn.Linear(2, 40), torch.nn.Linear(40, 70), torch.nn.Linear(70, 5)]
    x = torch.rand(3000, 2)
    words = [ops.pattern_words(layer.out_features) for layer in layers]
    offsets = [sum(words[:k]) for k in range(len(layers))]
    packed = torch.empty(3000, sum(words), dtype=torch.int64)
    dense = []
    with torch.no_grad():
        h_dense = x
        for layer in layers:
            z = layer(h_dense)
            dense.append(z > 0)
            h_dense = torch.relu(z)
        for start in range(0, 3000, 512):
            h = x[start : start + 512]
            for layer, offset in zip(layers, offsets):
                h = ops.pack_signs_relu_(layer(h).contiguous(), packed[start : start + 512], offset)
    inverse, first = ops.unique_patterns(packed)
    expected = ops.unique_patterns_dense(torch.cat(dense, dim=1))
    assert first.numel() > 10
    assert torch.equal(inverse, expected[0]) and torch.equal(first, expected[1])


# ---------------------------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "preact,packed,offset,error,match",
    [
        (
            torch.zeros(3, 5, dtype=torch.int32),
            torch.zeros(3, 1, dtype=torch.int64),
            0,
            TypeError,
            "float32 or",
        ),
        (
            torch.zeros(3, 5, dtype=torch.float16),
            torch.zeros(3, 1, dtype=torch.int64),
            0,
            TypeError,
            "float16",
        ),
        (
            torch.zeros(3, 5),
            torch.zeros(3, 1, dtype=torch.int32),
            0,
            TypeError,
            "packed must be int64",
        ),
        (
            torch.zeros(15),
            torch.zeros(3, 1, dtype=torch.int64),
            0,
            ValueError,
            r"preact must have shape \(n, w\)",
        ),
        (
            torch.zeros(3, 5),
            torch.zeros(3, dtype=torch.int64),
            0,
            ValueError,
            r"packed must have shape \(n, words\)",
        ),
        (
            torch.zeros(3, 5),
            torch.zeros(4, 1, dtype=torch.int64),
            0,
            ValueError,
            "4 rows but preact has 3",
        ),
        (
            torch.zeros(3, 5),
            torch.zeros(3, 2, dtype=torch.int64),
            2,
            ValueError,
            r"word_offset=2 .*\[0, 1\]",
        ),
        (
            torch.zeros(3, 65),
            torch.zeros(3, 2, dtype=torch.int64),
            1,
            ValueError,
            "word_offset=1 out of range",
        ),
        (torch.zeros(3, 5), torch.zeros(3, 2, dtype=torch.int64), -1, ValueError, "word_offset=-1"),
        (
            torch.zeros(3, 5),
            torch.zeros(3, 2, dtype=torch.int64),
            1.0,
            TypeError,
            "word_offset must be an int",
        ),
        (
            torch.zeros(5, 3).t(),
            torch.zeros(3, 1, dtype=torch.int64),
            0,
            ValueError,
            "preact must be contiguous",
        ),
        (
            torch.zeros(3, 5),
            torch.zeros(2, 3, dtype=torch.int64).t(),
            0,
            ValueError,
            "packed must be contiguous",
        ),
        (
            torch.zeros(3, 5),
            torch.zeros(3, 1, dtype=torch.int64, device="meta"),
            0,
            ValueError,
            "packed is on meta",
        ),
        ([[1.0]], torch.zeros(1, 1, dtype=torch.int64), 0, TypeError, "preact must be a tensor"),
    ],
)
def test_pack_validation(any_backend, preact, packed, offset, error, match):
    with pytest.raises(error, match=match):
        ops.pack_signs_relu_(preact, packed, offset)


@pytest.mark.parametrize("fn", [ops.hash_patterns, ops.unique_patterns])
def test_packed_validation(any_backend, fn):
    with pytest.raises(TypeError, match="packed must be int64"):
        fn(torch.zeros(3, 2))
    with pytest.raises(ValueError, match=r"packed must have shape \(n, words\)"):
        fn(torch.zeros(3, dtype=torch.int64))
    with pytest.raises(ValueError, match="packed must be contiguous"):
        fn(torch.zeros(2, 3, dtype=torch.int64).t())
    for mask in (1 << 64, -(1 << 63) - 1, True, 0.5):
        with pytest.raises(ValueError, match="hash_mask"):
            fn(torch.zeros(3, 2, dtype=torch.int64), mask)


@requires_extension
def test_compiled_ops_check_their_arguments():
    """The registered C++ ops refuse bad input themselves (callers that bypass the wrappers)."""
    with pytest.raises(RuntimeError, match="word_offset = 1 out of range"):
        torch.ops.coordnet.pack_signs_relu_(
            torch.zeros(2, 65), torch.zeros(2, 2, dtype=torch.int64), 1, True
        )
    with pytest.raises(RuntimeError, match="packed must be int64"):
        torch.ops.coordnet.hash_patterns(torch.zeros(2, 2, dtype=torch.int32), -1)
    with pytest.raises(RuntimeError, match="packed must be contiguous"):
        torch.ops.coordnet.unique_patterns(torch.zeros(2, 3, dtype=torch.int64).t(), -1)


# ---------------------------------------------------------------------------------------------- backends, opcheck


def test_reference_backend_is_used(reference_path, monkeypatch):
    calls = []
    for name in (
        "pack_signs_relu_reference_",
        "hash_patterns_reference",
        "unique_patterns_reference",
    ):
        original = getattr(regions_op, name)
        monkeypatch.setattr(
            regions_op, name, lambda *a, _f=original, _n=name: calls.append(_n) or _f(*a)
        )
    packed = torch.zeros(4, 1, dtype=torch.int64)
    ops.pack_signs_relu_(torch.randn(4, 10), packed, 0)
    ops.hash_patterns(packed)
    ops.unique_patterns(packed)
    assert calls == [
        "pack_signs_relu_reference_",
        "hash_patterns_reference",
        "unique_patterns_reference",
    ]


@requires_extension
def test_compiled_backend_skips_the_reference(compiled_path, monkeypatch):
    def refuse(*args):
        raise AssertionError("the reference ran on the compiled path")

    for name in (
        "pack_signs_relu_reference_",
        "hash_patterns_reference",
        "unique_patterns_reference",
    ):
        monkeypatch.setattr(regions_op, name, refuse)
    packed = torch.zeros(4, 1, dtype=torch.int64)
    ops.pack_signs_relu_(torch.randn(4, 10), packed, 0)
    ops.hash_patterns(packed)
    assert ops.unique_patterns(packed)[1].numel() >= 1


@requires_extension
@on_devices
def test_opcheck(device):
    pack = torch.ops.coordnet.pack_signs_relu_
    torch.library.opcheck(
        pack, to(device, torch.randn(9, 70), torch.zeros(9, 3, dtype=torch.int64)) + (1, True)
    )
    x64 = torch.randn(4, 5, dtype=torch.float64)
    torch.library.opcheck(pack, to(device, x64, torch.zeros(4, 1, dtype=torch.int64)) + (0, False))
    torch.library.opcheck(
        torch.ops.coordnet.hash_patterns, (to(device, repeated_rows(11, 3, 4)), -1)
    )
    # The number of distinct rows is data-dependent: the fake kernel allocates an unbacked size.
    # CUDA has no unique_patterns kernel (ops.supports says so): the wrapper dedupes on the device.
    if ops.supports("unique_patterns", device):
        torch.library.opcheck(
            torch.ops.coordnet.unique_patterns, (to(device, repeated_rows(11, 3, 4)), 3)
        )
    else:
        packed = to(device, repeated_rows(11, 3, 4))
        inverse, first = ops.unique_patterns(packed, 3)
        assert torch.equal(inverse.cpu(), dict_unique(packed.cpu())[0])
