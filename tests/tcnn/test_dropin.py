"""coordnet.tcnn as tiny-cuda-nn's PyTorch API: attributes, parameter layout, and real nerfstudio code.

The nerfstudio tests import nerfstudio 1.1.5 afresh with ``sys.modules["tinycudann"] =
coordnet.tcnn`` (the one-line switch), build its modules with ``implementation="tcnn"`` and
compare them with nerfstudio's torch implementations under the relation that holds between
tiny-cuda-nn's and nerfstudio's conventions (stated in each test).
"""

import contextlib
import math
import pickle
import sys
import warnings

import pytest
import torch
import torch.nn.functional as F

import coordnet.tcnn as tcnn
from coordnet.encoders import HashGrid
from coordnet.nets.tcnn_model import TcnnModel

HASH = {
    "otype": "HashGrid",
    "n_levels": 4,
    "n_features_per_level": 2,
    "log2_hashmap_size": 10,
    "base_resolution": 4,
    "per_level_scale": 1.5,
}
NET = {
    "otype": "FullyFusedMLP",
    "activation": "ReLU",
    "output_activation": "None",
    "n_neurons": 16,
    "n_hidden_layers": 2,
}


def test_helpers_and_attributes():
    assert tcnn.supports_jit_fusion() is False
    tcnn.free_temporary_memory()
    assert tcnn.batch_size_granularity() == 1
    with pytest.raises(OSError, match="Missing RTC cache directory"):
        tcnn.rtc_set_cache_dir("/nonexistent/rtc")
    enc = tcnn.Encoding(3, HASH, seed=7)
    assert (enc.n_input_dims, enc.n_output_dims, enc.seed) == (3, 8, 7)
    assert enc.dtype == (torch.half if torch.cuda.is_available() else torch.float)
    assert [name for name, _ in enc.named_parameters()] == ["params"]
    assert list(enc.state_dict()) == ["params"]
    assert (
        enc.params.shape == (enc.native_tcnn_module.n_params(),)
        and enc.params.dtype == torch.float32
    )
    assert (
        enc.native_tcnn_module.n_output_dims() == 8
        and enc.native_tcnn_module.hyperparams()["otype"] == "HashGrid"
    )
    assert enc.jit_fusion is False
    # 4 levels of at most 2^10 entries × 2 features: resolutions 4, 6, 9 (dense, rounded to 8), then hashed
    assert enc.params.numel() == HashGrid(3, 4, 2, 10, 4, 1.5).params.numel()
    assert enc.params.abs().max() <= 1e-4  # tiny-cuda-nn's U(-1e-4, 1e-4)
    assert torch.equal(enc.native_tcnn_module.initial_params(7), enc.params.detach())
    assert not torch.equal(enc.native_tcnn_module.initial_params(8), enc.params.detach())
    with pytest.raises(ValueError, match="fp32 or fp16"):
        tcnn.Encoding(3, HASH, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"input must have shape \(batch, 3\), got \(5, 2\)"):
        enc(torch.rand(5, 2))


def test_output_dtype_and_padding_conventions():
    net = tcnn.Network(5, 3, NET)
    assert net.params.numel() == 16 * 16 + 16 * 16 + 16 * 16  # inputs and outputs padded to 16
    x = torch.rand(7, 5, dtype=torch.float64)
    y = net(x)
    assert (
        y.shape == (7, 3) and y.dtype == torch.float32
    )  # inputs cast to float32; float32 off CUDA
    enc16 = tcnn.Encoding(3, {"otype": "Frequency", "n_frequencies": 2}, dtype=torch.float16)
    assert enc16.dtype == torch.float16 and enc16.loss_scale == 128.0
    assert enc16(torch.rand(4, 3)).dtype == torch.float32
    sh = tcnn.Encoding(3, {"otype": "SphericalHarmonics", "degree": 3})
    assert sh.params.numel() == 0 and sh(torch.rand(4, 3)).shape == (4, 9)


def _layout_reference(params, x):
    """NetworkWithInputEncoding(3, 2, HASH, NET) from the flat vector by hand: tiny-cuda-nn's layout is
    the three weight matrices (16×16 row-major each), then the grid's table; the 8 grid features
    are padded with zeros to 16 and the 16 outputs cut to 2."""
    w0, w1, w2 = (params[i * 256 : (i + 1) * 256].view(16, 16) for i in range(3))
    grid = HashGrid(3, 4, 2, 10, 4, 1.5)
    with torch.no_grad():
        grid.params.copy_(params[768:])
    h = F.pad(grid(x), (0, 8))
    return (torch.relu(torch.relu(h @ w0.T) @ w1.T) @ w2.T)[:, :2]


def test_a_tiny_cuda_nn_parameter_vector_loads_unchanged():
    model = tcnn.NetworkWithInputEncoding(3, 2, HASH, NET, seed=3)
    saved = torch.randn(model.params.numel(), generator=torch.Generator().manual_seed(0)) * 0.3
    model.load_state_dict(
        {"params": saved.clone()}
    )  # what torch.save(tcnn_module.state_dict()) holds
    x = torch.rand(64, 3, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(model(x), _layout_reference(saved, x), rtol=1e-5, atol=1e-6)
    copy = pickle.loads(pickle.dumps(model))
    torch.testing.assert_close(copy(x), model(x))


def test_params_gradient_is_the_models_gradient_in_tcnn_layout():
    model = tcnn.NetworkWithInputEncoding(3, 2, HASH, NET, seed=3)
    reference = TcnnModel(3, 2, HASH, NET)
    reference.load_tcnn_params(model.params.detach())
    x = torch.rand(128, 3, generator=torch.Generator().manual_seed(2))
    model(x).square().sum().backward()
    reference(x).square().sum().backward()
    want = torch.cat([p.grad.reshape(-1) for p in reference._parameter_list()])
    torch.testing.assert_close(model.params.grad, want)
    assert model.params.grad[768:].abs().sum() > 0 and model.params.grad[:768].abs().sum() > 0


def test_moves_with_to():
    net = tcnn.NetworkWithInputEncoding(3, 2, HASH, NET).to(torch.float64)
    assert net(torch.rand(3, 3)).dtype == torch.float32


# ----------------------------------------------------------------------------- real nerfstudio


@pytest.fixture
def ns():
    """nerfstudio imported afresh with ``sys.modules["tinycudann"] = coordnet.tcnn``; the modules it
    had imported before are restored afterwards."""
    saved = {
        name: module
        for name, module in sys.modules.items()
        if name.split(".")[0] in ("nerfstudio", "tinycudann")
    }
    for name in saved:
        del sys.modules[name]
    sys.modules["tinycudann"] = tcnn
    try:
        with warnings.catch_warnings():  # viser 0.2.7 imports deprecated websockets modules
            warnings.simplefilter("ignore", DeprecationWarning)
            try:
                import nerfstudio.field_components.encodings as encodings
                import nerfstudio.field_components.mlp as mlp
                import nerfstudio.utils.external as external
            except ModuleNotFoundError as exc:
                pytest.skip(
                    f"nerfstudio is not importable ({exc}); see tests/encoders/test_compat_real_code.py for the set-up"
                )
        assert external.TCNN_EXISTS and external.tcnn is tcnn
        yield type("NS", (), {"encodings": encodings, "mlp": mlp})
    finally:
        for name in [n for n in sys.modules if n.split(".")[0] in ("nerfstudio", "tinycudann")]:
            del sys.modules[name]
        sys.modules.update(saved)


@pytest.mark.parametrize("in_dim,num_frequencies", [(3, 4), (2, 6)])
def test_nerfstudio_nerf_encoding(ns, in_dim, num_frequencies):
    """tiny-cuda-nn's Frequency is sin/cos(2^j·π·x), interleaved per input dim; nerfstudio's torch
    path is sin/cos(2π·2^j·x), all sines then all cosines: tcnn(2x) is a permutation of torch(x)."""
    kwargs = dict(
        in_dim=in_dim,
        num_frequencies=num_frequencies,
        min_freq_exp=0,
        max_freq_exp=num_frequencies - 1,
    )
    fast = ns.encodings.NeRFEncoding(**kwargs, implementation="tcnn")
    slow = ns.encodings.NeRFEncoding(**kwargs, implementation="torch")
    assert isinstance(fast.tcnn_encoding, tcnn.Encoding) and slow.tcnn_encoding is None
    x = torch.rand(50, in_dim, generator=torch.Generator().manual_seed(0))
    got, want = fast(2 * x), slow(x)
    assert got.shape == want.shape == (50, fast.get_out_dim())
    L, D = num_frequencies, in_dim
    order = [k * D * L + d * L + j for d in range(D) for j in range(L) for k in range(2)]
    torch.testing.assert_close(got, want[:, order], rtol=0, atol=2e-5 * 2**L)


@pytest.mark.parametrize("levels", [1, 2, 3, 4])
def test_nerfstudio_sh_encoding(ns, levels):
    """tiny-cuda-nn takes directions mapped to [0, 1]^3 and its Y_l^m carry the Condon–Shortley
    phase (-1)^m; nerfstudio's torch path takes unit directions, without that phase."""
    fast = ns.encodings.SHEncoding(levels, implementation="tcnn")
    slow = ns.encodings.SHEncoding(levels, implementation="torch")
    assert isinstance(fast.tcnn_encoding, tcnn.Encoding)
    d = F.normalize(torch.randn(100, 3, generator=torch.Generator().manual_seed(1)), dim=-1)
    phase = torch.tensor([(-1.0) ** m for l in range(levels) for m in range(-l, l + 1)])
    torch.testing.assert_close(fast((d + 1) / 2), slow(d) * phase, rtol=1e-5, atol=1e-5)


def test_nerfstudio_hash_encoding(ns):
    """nerfstudio's tcnn path runs tiny-cuda-nn's HashGrid (its own resolutions, +0.5 offset, dense
    coarse levels), not the function of its torch path: the same table gives the features of
    coordnet's tiny-cuda-nn-convention grid with nerfstudio's growth factor, and trains."""
    fast = ns.encodings.HashEncoding(
        num_levels=4,
        min_res=4,
        max_res=32,
        log2_hashmap_size=10,
        features_per_level=2,
        implementation="tcnn",
    )
    assert (
        isinstance(fast.tcnn_encoding, tcnn.Encoding)
        and fast.tcnn_encoding.n_output_dims == fast.get_out_dim()
    )
    growth = math.exp((math.log(32) - math.log(4)) / 3)
    grid = HashGrid(3, 4, 2, 10, 4, growth)
    table = torch.randn(grid.params.numel(), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        fast.tcnn_encoding.params.copy_(table)
        grid.params.copy_(table)
    x = torch.rand(200, 3, generator=torch.Generator().manual_seed(4))
    torch.testing.assert_close(fast(x), grid(x))
    fast(x).sum().backward()
    assert fast.tcnn_encoding.params.grad.abs().sum() > 0


@pytest.mark.parametrize(
    "layer_width,num_layers,out_activation", [(32, 3, None), (64, 2, "sigmoid"), (24, 2, None)]
)
def test_nerfstudio_mlp(ns, layer_width, num_layers, out_activation):
    """The tcnn path's weights copied into the torch path give the same outputs: tiny-cuda-nn has no
    biases, but its input padding of ones makes the first layer's padded columns a bias."""
    activation = torch.nn.Sigmoid() if out_activation else None
    kwargs = dict(
        in_dim=5,
        num_layers=num_layers,
        layer_width=layer_width,
        out_dim=4,
        out_activation=activation,
    )
    with contextlib.redirect_stdout(
        None
    ):  # nerfstudio prints a CutlassMLP speed notice for width 24
        fast = ns.mlp.MLP(**kwargs, implementation="tcnn")
    slow = ns.mlp.MLP(**kwargs, implementation="torch")
    net = fast.tcnn_encoding
    assert (
        isinstance(net, tcnn.Network)
        and net.native_tcnn_module.hyperparams()["n_hidden_layers"] == num_layers - 1
    )
    weights = [layer.weight for layer in net.model.network.layers]
    with torch.no_grad():
        for i, (layer, w) in enumerate(zip(slow.layers, weights)):
            rows = layer.weight.shape[0]
            if i == 0:
                layer.weight.copy_(w[:rows, :5])
                layer.bias.copy_(w[:rows, 5:].sum(dim=1))
            else:
                layer.weight.copy_(w[:rows, : layer.weight.shape[1]])
                layer.bias.zero_()
    x = torch.rand(30, 5, generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(fast(x), slow(x), rtol=1e-5, atol=1e-6)


@pytest.mark.filterwarnings("ignore::FutureWarning")  # nerfstudio's torch.cuda.amp decorators
def test_nerfstudio_nerfacto_field_forward_and_backward(ns):
    from nerfstudio.cameras.rays import Frustums, RaySamples
    from nerfstudio.field_components.field_heads import FieldHeadNames
    from nerfstudio.fields.nerfacto_field import NerfactoField

    torch.manual_seed(0)
    aabb = torch.tensor([[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0]])
    field = NerfactoField(
        aabb,
        num_images=2,
        num_levels=4,
        max_res=64,
        log2_hashmap_size=12,
        hidden_dim=16,
        hidden_dim_color=16,
        appearance_embedding_dim=4,
        implementation="tcnn",
    )
    modules = [m for m in field.modules() if isinstance(m, tcnn.Module)]
    assert {type(m).__name__ for m in modules} == {
        "Encoding",
        "Network",
        "NetworkWithInputEncoding",
    }
    n_rays, n_samples = 6, 8
    origins = torch.zeros(n_rays, n_samples, 3)
    directions = F.normalize(torch.randn(n_rays, 1, 3), dim=-1).expand(n_rays, n_samples, 3)
    starts = torch.linspace(0.05, 0.8, n_samples).view(1, n_samples, 1).expand(n_rays, n_samples, 1)
    frustums = Frustums(
        origins=origins,
        directions=directions,
        starts=starts,
        ends=starts + 0.05,
        pixel_area=torch.full((n_rays, n_samples, 1), 1e-4),
    )
    samples = RaySamples(
        frustums=frustums, camera_indices=torch.zeros(n_rays, n_samples, 1, dtype=torch.long)
    )
    outputs = field(samples)
    rgb, density = outputs[FieldHeadNames.RGB], outputs[FieldHeadNames.DENSITY]
    assert rgb.shape == (n_rays, n_samples, 3) and density.shape == (n_rays, n_samples, 1)
    assert (
        torch.isfinite(rgb).all()
        and torch.isfinite(density).all()
        and ((rgb > 0) & (rgb < 1)).all()
    )
    (rgb.sum() + density.sum()).backward()
    for module in modules:
        if module.params.numel():
            assert module.params.grad is not None and torch.isfinite(module.params.grad).all()
            assert module.params.grad.abs().sum() > 0, type(module).__name__
