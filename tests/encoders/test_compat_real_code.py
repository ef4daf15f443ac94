"""coordnet's drop-in encoders against the real code of the projects they replace.

* nerfstudio: the installed package's ``NeRFEncoding`` (torch implementation), ``RFFEncoding``,
  ``SHEncoding`` (and ``components_from_spherical_harmonics``) and ``HashEncoding`` (torch path).
  Skipped unless nerfstudio and the light modules its encodings module imports are installed;
  the set-up (``--no-deps``: torch stays as it is) is::

      pip install --no-deps nerfstudio==1.1.5 viser==0.2.7 jaxtyping==0.3.11 rich==15.0.0 \\
          msgspec==0.22.0 websockets==17.4

* nerf-pytorch (not on PyPI): a transcription of its ``Embedder`` / ``get_embedder``.
* tiny-cuda-nn's ``Frequency`` encoding (CUDA only): a transcription of its documented formula.

Tolerance (see ``conftest.phase_tolerance``): eight roundings of the largest phase argument
``|2π f x|`` of the dtype, plus a few ulps of the unit-size results. In float64 both sides run
in float64: our modules are cast with ``.double()``, nerfstudio's buffers likewise, and the
originals that build their frequencies with ``torch.linspace`` at call time run under a float64
default dtype, which is what those codebases compute when used in float64.
"""

import contextlib
import math
import warnings

import pytest
import torch
from helpers import phase_tolerance
from torch import nn

from coordnet.encoders import SphericalHarmonics, compat

BATCHES = [(7,), (2, 5), (0,), (64,)]
DTYPES = [torch.float32, torch.float64]


@pytest.fixture(params=["compiled_path", "reference_path"])
def path(request):
    """Run coordnet through the compiled kernel (every size) and through the reference."""
    request.getfixturevalue(request.param)
    return request.param


@pytest.fixture(scope="module")
def ns():
    """nerfstudio's encodings module (real import), or skip with the missing module's name."""
    try:
        with warnings.catch_warnings():  # viser 0.2.7 imports deprecated websockets modules
            warnings.simplefilter("ignore", DeprecationWarning)
            import nerfstudio.field_components.encodings as encodings
    except ModuleNotFoundError as exc:
        pytest.skip(
            f"nerfstudio's encodings are not importable ({exc}); see this file's docstring for the pip set-up"
        )
    return encodings


@contextlib.contextmanager
def default_dtype(dtype):
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


def uniform(batch, in_dim, dtype, seed=0, low=0.0, high=1.0):
    generator = torch.Generator().manual_seed(seed)
    return (
        low + (high - low) * torch.rand(*batch, in_dim, generator=generator, dtype=torch.float64)
    ).to(dtype)


def max_abs(t):
    return t.abs().max().item() if t.numel() else 0.0


def assert_phase_close(got, want, max_phase, dtype, what):
    """``|got - want| <= phase_tolerance`` of the largest phase."""
    assert got.dtype == want.dtype == dtype
    assert got.shape == want.shape, (
        f"{what}: shape {tuple(got.shape)} != original's {tuple(want.shape)}"
    )
    diff, tol = max_abs(got - want), phase_tolerance(max_phase, dtype)
    message = f"{what}: max |Δ| = {diff:.3g} > {{:.3g}} (max |phase| {max_phase:.4g}, {dtype})"
    assert diff <= tol, message.format(tol)


# ----------------------------------------------------------------------------- nerfstudio

# (in_dim, num_frequencies, min_freq_exp, max_freq_exp): nerfstudio's vanilla NeRF position and
# direction encodings, mip-NeRF's, and dyadic ones (exact in float32).
NERFSTUDIO_CONFIGS = [
    (3, 10, 0.0, 8.0),
    (3, 4, 0.0, 4.0),
    (3, 16, 0.0, 16.0),
    (3, 6, 0.0, 5.0),
    (2, 5, -2.0, 2.0),
]


def original_or_empty(call, batch, out_dim, dtype):
    """The original's output; for an empty batch nerfstudio raises (``view(..., -1)`` of 0
    elements is ambiguous), and the expected result is then the empty ``(*batch, out_dim)``."""
    try:
        return call()
    except RuntimeError:
        if math.prod(batch):
            raise
        return torch.empty(*batch, out_dim, dtype=dtype)


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("include_input", [False, True])
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("config", NERFSTUDIO_CONFIGS, ids=str)
@pytest.mark.parametrize("with_covs", [False, True], ids=["plain", "covs"])
def test_nerfstudio_nerf_encoding(ns, path, config, dtype, include_input, batch, with_covs):
    in_dim, num, low, high = config
    with default_dtype(dtype):
        original = ns.NeRFEncoding(
            in_dim, num, low, high, include_input=include_input, implementation="torch"
        )
    ours = compat.NeRFEncoding(in_dim, num, low, high, include_input=include_input).to(dtype)
    assert ours.get_out_dim() == original.get_out_dim()
    x = uniform(batch, in_dim, dtype)
    covs = None
    if (
        with_covs
    ):  # SPD covariances whose damped variances cov_jj f² reach O(1) at the top frequency
        a = uniform(batch + (in_dim,), in_dim, dtype, seed=1, low=-1.0, high=1.0) * 2.0**-high
        covs = a @ a.transpose(-1, -2)
    with default_dtype(dtype):
        want = original_or_empty(
            lambda: original(x, covs=covs), batch, original.get_out_dim(), dtype
        )
    got = ours(x, covs=covs)
    max_phase = 2 * math.pi * 2.0**high * max_abs(x)
    assert_phase_close(
        got, want, max_phase, dtype, f"NeRFEncoding{config} include_input={include_input}"
    )
    if include_input:
        assert torch.equal(got[..., -in_dim:], x)


# (in_dim, num_frequencies, scale)
RFF_CONFIGS = [(3, 8, 10.0), (3, 32, 1.0), (2, 5, 25.0)]


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("include_input", [False, True])
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("config", RFF_CONFIGS, ids=str)
def test_nerfstudio_rff_encoding(ns, path, config, dtype, include_input, batch):
    in_dim, num, scale = config
    with torch.random.fork_rng(devices=[]):  # nerfstudio draws b_matrix from the global RNG
        torch.manual_seed(sum(map(int, config)))
        original = ns.RFFEncoding(in_dim, num, scale, include_input=include_input)
    ours = compat.RFFEncoding(in_dim, num, scale, include_input=include_input)
    ours.load_state_dict(original.state_dict())  # strict: same buffer names and shapes
    original, ours = original.to(dtype), ours.to(dtype)
    assert torch.equal(ours.b_matrix, original.b_matrix)
    assert ours.get_out_dim() == original.get_out_dim()
    x = uniform(batch, in_dim, dtype)
    with default_dtype(dtype):
        want = original_or_empty(lambda: original(x), batch, original.get_out_dim(), dtype)
    got = ours(x)
    max_phase = 2 * math.pi * max_abs(x.abs() @ original.b_matrix.abs())
    assert_phase_close(
        got, want, max_phase, dtype, f"RFFEncoding{config} include_input={include_input}"
    )
    if include_input:
        assert torch.equal(got[..., -in_dim:], x)


# ---------------------------------------------------------------------------- nerf-pytorch


class NerfPytorchEmbedderOriginal:
    """nerf-pytorch's ``Embedder`` (yenchenlin/nerf-pytorch, ``run_nerf_helpers.py``), transcribed
    line for line; its kwargs are include_input, input_dims, max_freq_log2, num_freqs,
    log_sampling, periodic_fns."""

    def __init__(self, **kwargs):
        self.kwargs = kwargs
        embed_fns, d, out_dim = [], kwargs["input_dims"], 0
        if kwargs["include_input"]:
            embed_fns.append(lambda x: x)
            out_dim += d
        max_freq, N_freqs = kwargs["max_freq_log2"], kwargs["num_freqs"]
        if kwargs["log_sampling"]:
            freq_bands = 2.0 ** torch.linspace(0.0, max_freq, steps=N_freqs)
        else:
            freq_bands = torch.linspace(2.0**0.0, 2.0**max_freq, steps=N_freqs)
        for freq in freq_bands:
            for p_fn in kwargs["periodic_fns"]:
                embed_fns.append(lambda x, p_fn=p_fn, freq=freq: p_fn(x * freq))
                out_dim += d
        self.embed_fns, self.out_dim = embed_fns, out_dim

    def embed(self, inputs):
        return torch.cat([fn(inputs) for fn in self.embed_fns], -1)


def nerf_pytorch_get_embedder(multires, i=0):
    """nerf-pytorch's ``get_embedder`` (same file)."""
    if i == -1:
        return nn.Identity(), 3
    embed_kwargs = {
        "include_input": True,
        "input_dims": 3,
        "max_freq_log2": multires - 1,
        "num_freqs": multires,
        "log_sampling": True,
        "periodic_fns": [torch.sin, torch.cos],
    }
    embedder_obj = NerfPytorchEmbedderOriginal(**embed_kwargs)
    return (lambda x, eo=embedder_obj: eo.embed(x)), embedder_obj.out_dim


# (multires, input_dims, log_sampling): nerf-pytorch's position (10) and direction (4) encodings.
NERF_PYTORCH_CONFIGS = [
    (10, 3, True),
    (4, 3, True),
    (10, 3, False),
    (4, 3, False),
    (5, 2, False),
    (1, 1, True),
]


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("include_input", [True, False])
@pytest.mark.parametrize(
    "span", [(0.0, 1.0), (-4.0, 4.0)], ids=["unit", "scene"]
)  # any range is valid
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("config", NERF_PYTORCH_CONFIGS, ids=str)
def test_nerf_pytorch_embedder(path, config, dtype, span, include_input, batch):
    multires, input_dims, log_sampling = config
    with default_dtype(dtype):
        original = NerfPytorchEmbedderOriginal(
            include_input=include_input,
            input_dims=input_dims,
            max_freq_log2=multires - 1,
            num_freqs=multires,
            log_sampling=log_sampling,
            periodic_fns=[torch.sin, torch.cos],
        )
    ours = compat.NerfPytorchEmbedder(multires, input_dims, include_input, log_sampling).to(dtype)
    assert ours.out_dim == original.out_dim
    x = uniform(batch, input_dims, dtype, low=span[0], high=span[1])
    want, got = original.embed(x), ours.embed(x)
    assert torch.equal(ours(x), got)
    max_phase = 2.0 ** (multires - 1) * max_abs(x)
    assert_phase_close(
        got, want, max_phase, dtype, f"NerfPytorchEmbedder{config} include_input={include_input}"
    )
    if include_input:
        assert torch.equal(got[..., :input_dims], x)


@pytest.mark.parametrize("multires", [10, 4])
def test_nerf_pytorch_get_embedder(path, multires):
    embed, out_dim = compat.get_embedder(multires)
    embed_original, out_dim_original = nerf_pytorch_get_embedder(multires)
    assert out_dim == out_dim_original
    x = uniform((5, 4), 3, torch.float32, low=-2.0, high=2.0)
    max_phase = 2.0 ** (multires - 1) * max_abs(x)
    assert_phase_close(
        embed(x), embed_original(x), max_phase, torch.float32, f"get_embedder({multires})"
    )


def test_nerf_pytorch_get_embedder_identity():
    embed, out_dim = compat.get_embedder(10, -1)
    embed_original, out_dim_original = nerf_pytorch_get_embedder(10, -1)
    assert out_dim == out_dim_original
    x = uniform((4,), 3, torch.float32)
    assert torch.equal(embed(x), embed_original(x))


# --------------------------------------------------------------------- tiny-cuda-nn Frequency


def tcnn_frequency_documented(x, n_frequencies):
    """tiny-cuda-nn's DOCUMENTATION.md, "Frequency": output ``i`` has ``dim = i // (2L)``,
    ``l = (i // 2) % L`` and value ``sin(2^l π x[dim] + (i % 2) π/2)``."""
    L = n_frequencies
    columns = [
        torch.sin(2.0 ** ((i // 2) % L) * math.pi * x[..., i // (2 * L)] + (i % 2) * math.pi / 2)
        for i in range(2 * L * x.shape[-1])
    ]
    return torch.stack(columns, dim=-1)


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("n_input_dims, n_frequencies", [(3, 12), (3, 4), (2, 6), (1, 1)])
def test_tcnn_frequency(path, n_input_dims, n_frequencies, dtype, batch):
    ours = compat.tcnn_frequency(n_input_dims, n_frequencies).to(dtype)
    x = uniform(batch, n_input_dims, dtype)
    want, got = tcnn_frequency_documented(x, n_frequencies), ours(x)
    assert ours.out_dim == 2 * n_input_dims * n_frequencies
    max_phase = 2.0 ** (n_frequencies - 1) * math.pi * max_abs(x) + math.pi / 2
    assert_phase_close(
        got, want, max_phase, dtype, f"tcnn_frequency({n_input_dims}, {n_frequencies})"
    )


def test_tcnn_frequency_default_is_twelve_frequencies():
    assert compat.tcnn_frequency(3).out_dim == 2 * 3 * 12


# ------------------------------------------------------------------ nerfstudio SHEncoding

SH_SPANS = {
    "unit": None,
    "cube": (-1.0, 1.0),
    "unit-cube": (0.0, 1.0),
}  # nerfacto feeds (d + 1) / 2


def sh_inputs(batch, dtype, span, seed=0):
    if SH_SPANS[span] is None:
        v = uniform(batch, 3, torch.float64, seed=seed, low=-1.0, high=1.0)
        return (v / v.norm(dim=-1, keepdim=True).clamp(min=1e-3)).to(dtype)
    return uniform(batch, 3, dtype, seed=seed, low=SH_SPANS[span][0], high=SH_SPANS[span][1])


def assert_polynomials_close(got, want, dtype, what):
    """``|got - want| <= 64 eps max(1, max|want|)``: roundings of degree-≤4 polynomials with
    coefficients below 3, evaluated in different orders."""
    assert got.dtype == want.dtype == dtype, what
    assert got.shape == want.shape, (
        f"{what}: shape {tuple(got.shape)} != original's {tuple(want.shape)}"
    )
    diff, tol = max_abs(got - want), 64 * torch.finfo(dtype).eps * max(1.0, max_abs(want))
    assert diff <= tol, f"{what}: max |Δ| = {diff:.3g} > {tol:.3g} ({dtype})"


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("span", list(SH_SPANS))
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("levels", [1, 2, 3, 4])
def test_nerfstudio_sh_encoding(ns, levels, dtype, span, batch):
    original = ns.SHEncoding(levels, implementation="torch")
    ours = compat.SHEncoding(levels)
    assert ours.get_out_dim() == original.get_out_dim() == levels**2
    assert ours.get_tcnn_encoding_config(levels) == original.get_tcnn_encoding_config(levels)
    x = sh_inputs(batch, dtype, span)
    with default_dtype(dtype):  # nerfstudio allocates its output in the default dtype
        want = original_or_empty(lambda: original(x), batch, levels**2, dtype)
    assert_polynomials_close(ours(x), want, dtype, f"SHEncoding({levels}) on {span} inputs")


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_nerfstudio_components_from_spherical_harmonics_level_5(dtype):
    from nerfstudio.utils.math import components_from_spherical_harmonics

    x = sh_inputs((200,), dtype, "cube", seed=3)
    with default_dtype(dtype):
        want = components_from_spherical_harmonics(5, x)
    got = SphericalHarmonics(3, 5, convention="nerfstudio").to(dtype)(x)
    assert_polynomials_close(got, want, dtype, "components_from_spherical_harmonics(5)")


def test_nerfstudio_sh_encoding_rejects_the_same_levels(ns):
    for levels in (0, 5):
        with pytest.raises(ValueError) as original:
            ns.SHEncoding(levels)
        with pytest.raises(ValueError) as ours:
            compat.SHEncoding(levels)
        assert str(ours.value) == str(original.value)


def test_nerfstudio_sh_encoding_tcnn_request_falls_back_like_nerfstudio():
    if torch.cuda.is_available():
        pytest.skip("CUDA present: the tcnn path may run")
    with pytest.warns(
        UserWarning, match="SHEncoding: tiny-cuda-nn is unavailable \\(no CUDA device\\)"
    ):
        encoding = compat.SHEncoding(3, implementation="tcnn")
    x = sh_inputs((5,), torch.float32, "unit")
    assert encoding.tcnn_encoding is None and torch.equal(encoding(x), compat.SHEncoding(3)(x))


# ---------------------------------------------------------------- nerfstudio HashEncoding

# (num_levels, min_res, max_res, log2_hashmap_size, features_per_level): small tables (fast), one
# nerfacto-like schedule, a single level (growth factor 1), and 4 features per level.
HASH_CONFIGS = [(8, 16, 512, 12, 2), (16, 16, 2048, 13, 2), (1, 16, 16, 10, 2), (4, 4, 64, 10, 4)]


@pytest.fixture(scope="module")
def hash_pairs(ns):
    """(original, ours) per config, ours loaded from the original's state dict."""
    pairs = {}
    for config in HASH_CONFIGS:
        with torch.random.fork_rng(devices=[]):  # nerfstudio draws its table from the global RNG
            torch.manual_seed(sum(config))
            original = ns.HashEncoding(*config, implementation="torch")
        ours = compat.HashEncoding(*config, implementation="torch")
        ours.load_state_dict(original.state_dict())  # strict: same key and shape
        pairs[config] = (original, ours)
    return pairs


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("config", HASH_CONFIGS, ids=str)
def test_nerfstudio_hash_encoding(hash_pairs, path, config, dtype, batch):
    original, ours = hash_pairs[config]
    assert ours.get_out_dim() == original.get_out_dim()
    assert (
        torch.equal(ours.scalings, original.scalings)
        and ours.growth_factor == original.growth_factor
    )
    assert (
        torch.equal(ours.hash_offset, original.hash_offset)
        and ours.hash_table_size == original.hash_table_size
    )
    original, ours = original.to(dtype), ours.to(dtype)
    x = uniform(batch, 3, dtype, seed=7)
    with default_dtype(dtype):
        want = original_or_empty(lambda: original(x), batch, original.get_out_dim(), dtype)
    got = ours(x)
    assert got.dtype == want.dtype == dtype and got.shape == want.shape
    # Features are convex combinations of table entries: a few roundings of the table's scale.
    tol = 16 * torch.finfo(dtype).eps * max_abs(original.hash_table.detach())
    assert max_abs(got - want) <= tol, (
        f"HashEncoding{config}: max |Δ| = {max_abs(got - want):.3g} > {tol:.3g}"
    )


@pytest.mark.parametrize("config", HASH_CONFIGS[:2], ids=str)
def test_nerfstudio_hash_encoding_table_gradient(hash_pairs, path, config):
    original, ours = hash_pairs[config]
    x = uniform((300,), 3, torch.float32, seed=9)
    weights = uniform((300,), original.get_out_dim(), torch.float32, seed=10, low=-1.0, high=1.0)
    original.zero_grad(), ours.zero_grad()
    (original(x) * weights).sum().backward()
    (ours(x) * weights).sum().backward()
    want = original.hash_table.grad
    got = ours.params.grad.view_as(want)
    assert max_abs(got - want) <= 64 * torch.finfo(torch.float32).eps * max(1.0, max_abs(want))


def test_nerfstudio_hash_encoding_state_dicts_and_seed(ns):
    config = HASH_CONFIGS[0]
    ours = compat.HashEncoding(*config, implementation="torch", seed=11)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(11)
        original = ns.HashEncoding(*config, implementation="torch")
    assert torch.equal(ours.hash_table, original.hash_table.data)  # same draw from the same seed
    state = ours.state_dict()
    assert list(state) == ["hash_table"] and state["hash_table"].shape == original.hash_table.shape
    original.load_state_dict({"hash_table": torch.zeros_like(original.hash_table)})
    original.load_state_dict(state)  # ours loads into nerfstudio, strict
    x = uniform((50,), 3, torch.float32)
    assert max_abs(original(x) - ours(x)) <= 16 * torch.finfo(torch.float32).eps * 1e-3


def test_nerfstudio_hash_encoding_interpolation_needs_tcnn(ns):
    with pytest.raises(AssertionError):
        ns.HashEncoding(4, 16, 64, 10, implementation="torch", interpolation="Smoothstep")
    with pytest.raises(
        ValueError, match="interpolation 'Smoothstep' is not supported for torch encoding backend"
    ):
        compat.HashEncoding(4, 16, 64, 10, implementation="torch", interpolation="Smoothstep")
