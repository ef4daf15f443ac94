"""Nets and CoordinateNet: shapes, initialisations, activations against their formulas, domains."""

import math

import pytest
import torch
from torch import nn

from coordnet.encoders import GaussianFourierFeatures, Identity, PositionalEncoding
from coordnet.nets import (
    CoordinateNet,
    FinerMLP,
    FinerSine,
    GaborActivation,
    GaussianActivation,
    GaussianMLP,
    ReluMLP,
    Sine,
    Siren,
    WireMLP,
    build_model,
)

SMALL_NETS = [
    lambda: ReluMLP(3, 2, width=16, depth=3),
    lambda: ReluMLP(3, 2, width=16, depth=0, bias=False),
    lambda: Siren(3, 2, width=16, depth=2, output_activation="sigmoid"),
    lambda: GaussianMLP(3, 2, width=16, depth=2, sigma=0.3),
    lambda: FinerMLP(3, 2, width=16, depth=2, first_bias_scale=1.0),
    lambda: WireMLP(3, 2, width=16, depth=2),
]


@pytest.mark.parametrize("make", SMALL_NETS)
@pytest.mark.parametrize("batch", [(), (0,), (7,), (2, 5), (3, 0, 2)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_net_shapes(make, batch, dtype):
    net = make().to(dtype)
    y = net(torch.rand(*batch, 3, dtype=dtype) * 2 - 1)
    assert y.shape == (*batch, 2)
    assert y.dtype == dtype
    assert (net.in_dim, net.out_dim) == (3, 2)


@pytest.mark.parametrize("make", SMALL_NETS)
def test_net_rejects_wrong_input_shape(make):
    with pytest.raises(ValueError, match=r"x must have shape \(\.\.\., 3\), got \(4, 2\)"):
        make()(torch.rand(4, 2))


def test_relu_mlp_is_tancik_image_net():
    net = ReluMLP(2, 3, output_activation="sigmoid")
    kinds = [type(m) for m in net.layers]
    assert kinds == [nn.Linear, nn.ReLU] * 3 + [nn.Linear, nn.Sigmoid]
    shapes = [(linear.in_features, linear.out_features) for linear in net.linear_layers()]
    assert shapes == [(2, 256), (256, 256), (256, 256), (256, 3)]
    assert sum(p.numel() for p in net.parameters()) == (2 * 256 + 256) + 2 * (256 * 256 + 256) + (
        256 * 3 + 3
    )
    assert [type(a) for _, a in net.hidden_layers()] == [nn.ReLU] * 3
    assert net.output_layer() is net.layers[6]
    assert net.input_domain is None
    y = net(torch.randn(100, 2) * 10)
    assert ((y > 0) & (y < 1)).all()
    for linear in net.linear_layers():  # PyTorch's default init: |W| <= 1/sqrt(fan_in)
        assert linear.weight.abs().max() <= 1 / math.sqrt(linear.in_features)


def test_relu_mlp_without_bias():
    net = ReluMLP(2, 1, width=8, depth=2, bias=False)
    assert all(linear.bias is None for linear in net.linear_layers())
    x = torch.randn(10, 2)
    torch.testing.assert_close(net(3 * x), 3 * net(x))  # positively homogeneous


def uniform_bound_ok(weight, bound):
    """All |w| <= bound, max close to it, std close to bound/sqrt(3) (a U(-bound, bound) sample)."""
    w = weight.detach().flatten()
    assert w.abs().max() <= bound * (1 + 1e-6)
    assert w.abs().max() >= 0.95 * bound
    assert abs(w.std().item() / (bound / math.sqrt(3)) - 1) < 0.1
    assert abs(w.mean().item()) < 0.1 * bound


def test_siren_init_bounds_per_layer():
    net = Siren(2, 3, width=256, depth=3, first_omega=30.0, hidden_omega=20.0)
    first, *rest = net.linear_layers()
    uniform_bound_ok(first.weight, 1 / 2)
    for linear in rest:  # hidden layers and the output layer
        uniform_bound_ok(linear.weight, math.sqrt(6 / 256) / 20.0)
    activations = [a for _, a in net.hidden_layers()]
    assert [a.omega for a in activations] == [30.0, 20.0, 20.0]
    assert isinstance(net.layers[-1], nn.Linear)  # no sine after the output layer
    assert net.input_domain == (-1.0, 1.0)


def test_siren_hidden_activations_are_arcsine_distributed():
    # Sitzmann et al.: with their init, the output of every sine layer after the first is
    # arcsine-distributed on [-1, 1] (standard deviation 1/sqrt(2)) for inputs in [-1, 1].
    net = Siren(1, 1, width=512, depth=4)
    outputs = []
    hooks = [
        a.register_forward_hook(lambda m, i, o: outputs.append(o)) for _, a in net.hidden_layers()
    ]
    with torch.no_grad():
        net(torch.linspace(-1, 1, 2048)[:, None])
    for hook in hooks:
        hook.remove()
    for out in outputs[1:]:
        assert abs(out.std().item() - 1 / math.sqrt(2)) < 0.05


def test_activation_modules_against_formulas():
    z = torch.linspace(-2, 2, 101, dtype=torch.float64)
    torch.testing.assert_close(Sine(30.0)(z), torch.sin(30 * z))
    torch.testing.assert_close(GaussianActivation(0.3)(z), torch.exp(-(z**2) / (2 * 0.3**2)))
    torch.testing.assert_close(FinerSine(5.0)(z), torch.sin(5 * (z.abs() + 1) * z))
    torch.testing.assert_close(
        GaborActivation(20.0, 10.0)(z), torch.cos(20 * z) * torch.exp(-((10 * z) ** 2))
    )


def test_finer_gradient_with_and_without_scale_grad():
    z = torch.linspace(-2, 2, 101, dtype=torch.float64)
    z = z[z.abs() > 1e-3]  # |z| has a kink at 0
    omega = 3.0
    for scale_grad, factor in ((False, z.abs() + 1), (True, 2 * z.abs() + 1)):
        zz = z.clone().requires_grad_()
        FinerSine(omega, scale_grad)(zz).sum().backward()
        want = omega * factor * torch.cos(omega * (z.abs() + 1) * z)
        torch.testing.assert_close(zz.grad, want)


def manual_forward(net, x, act):
    h = x
    for linear, _ in net.hidden_layers():
        h = act(h @ linear.weight.T + linear.bias)
    head = net.output_layer()
    return h @ head.weight.T + head.bias


@pytest.mark.parametrize(
    "net, act",
    [
        (Siren(2, 1, width=8, depth=1, first_omega=7.0), lambda z: torch.sin(7.0 * z)),
        (
            GaussianMLP(2, 1, width=8, depth=2, sigma=0.4),
            lambda z: torch.exp(-(z**2) / (2 * 0.4**2)),
        ),
        (
            FinerMLP(2, 1, width=8, depth=2, first_omega=3, hidden_omega=3),
            lambda z: torch.sin(3 * (z.abs() + 1) * z),
        ),
        (
            WireMLP(2, 1, width=8, depth=2, omega=5.0, s=2.0),
            lambda z: torch.cos(5 * z) * torch.exp(-((2 * z) ** 2)),
        ),
    ],
    ids=["siren", "gaussian", "finer", "wire"],
)
def test_nets_compose_their_activation(net, act):
    net = net.double()
    x = torch.rand(20, 2, dtype=torch.float64) * 2 - 1
    torch.testing.assert_close(net(x), manual_forward(net, x, act))


def test_finer_init():
    net = FinerMLP(2, 1, width=256, depth=3, hidden_omega=30.0, first_bias_scale=20.0)
    first, *rest = net.linear_layers()
    uniform_bound_ok(first.weight, 1 / 2)
    uniform_bound_ok(first.bias, 20.0)
    for linear in rest:
        uniform_bound_ok(linear.weight, math.sqrt(6 / 256) / 30.0)
        assert linear.bias.abs().max() <= 1 / math.sqrt(256)  # PyTorch default
    default_bias = FinerMLP(2, 1, width=256, depth=1, first_bias_scale=None).linear_layers()[0].bias
    assert default_bias.abs().max() <= 1 / math.sqrt(2)


def test_wire_and_gaussian_keep_default_init():
    for net in (WireMLP(2, 1, width=64, depth=2), GaussianMLP(2, 1, width=64, depth=2)):
        assert net.input_domain == (-1.0, 1.0)
        for linear in net.linear_layers():
            assert linear.weight.abs().max() <= 1 / math.sqrt(linear.in_features)
    wire = WireMLP(2, 1)
    assert (wire.omega, wire.s) == (20.0, 10.0)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: ReluMLP(2, 1, width=0), "width must be an integer >= 1, got 0"),
        (lambda: ReluMLP(2, 1, depth=-1), "depth must be an integer >= 0, got -1"),
        (lambda: ReluMLP(0, 1), "in_dim must be an integer >= 1, got 0"),
        (
            lambda: ReluMLP(2, 1, output_activation="tanh"),
            "output_activation must be one of 'none', 'sigmoid'",
        ),
        (lambda: Siren(2, 1, first_omega=0), "first_omega must be a positive finite number, got 0"),
        (lambda: GaussianMLP(2, 1, sigma=-1.0), "sigma must be a positive finite number, got -1.0"),
        (
            lambda: FinerMLP(2, 1, first_bias_scale=float("inf")),
            "first_bias_scale must be a positive finite number",
        ),
        (lambda: WireMLP(2, 1, s=0.0), "s must be a positive finite number, got 0.0"),
    ],
)
def test_net_argument_errors(make, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make()


class Recorder(nn.Module):
    """A net that records its input; output_dim 1 (sum of inputs)."""

    def __init__(self, in_dim, input_domain):
        super().__init__()
        self.in_dim, self.out_dim, self.input_domain = in_dim, 1, input_domain
        self.seen = None

    def forward(self, x):
        self.seen = x.detach().clone()
        return x.sum(-1, keepdim=True)


def test_coordinate_net_maps_signal_domain_onto_net_domain():
    x = torch.rand(50, 2)
    recorder = Recorder(2, (-1.0, 1.0))
    model = CoordinateNet(None, recorder)
    model(x)
    torch.testing.assert_close(recorder.seen, 2 * x - 1)
    model = CoordinateNet(None, Recorder(2, None))  # ReLU-style net: raw coordinates, untouched
    model(x)
    assert torch.equal(model.net.seen, x)
    assert not model.maps_coordinates


def test_coordinate_net_siren_receives_minus_one_to_one():
    model = CoordinateNet(None, Siren(2, 1, width=8, depth=1))
    seen = []
    model.net.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    grid = torch.stack(
        torch.meshgrid(torch.linspace(0, 1, 5), torch.linspace(0, 1, 5), indexing="ij"), -1
    )
    model(grid)
    assert seen[0].min() == -1.0 and seen[0].max() == 1.0
    torch.testing.assert_close(seen[0], 2 * grid - 1)


def test_coordinate_net_maps_onto_encoder_domain():
    x = torch.rand(40, 2) * 10 - 5
    encoder = PositionalEncoding(2, 3)
    seen = []
    encoder.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    model = CoordinateNet(
        encoder, Recorder(encoder.out_dim, (-1.0, 1.0)), signal_domain=(-5.0, 5.0)
    )
    model(x)
    torch.testing.assert_close(
        seen[0], (x + 5) / 10
    )  # onto the encoder's [0, 1], not the net's domain
    # An encoder without a domain (nerf-pytorch style) gets raw signal coordinates.
    identity = Identity(2)
    model = CoordinateNet(identity, Recorder(2, (-1.0, 1.0)), signal_domain=(-5.0, 5.0))
    model(x)
    assert torch.equal(model.net.seen, x)


def test_coordinate_net_per_coordinate_domain():
    recorder = Recorder(2, (-1.0, 1.0))
    model = CoordinateNet(None, recorder, signal_domain=[(0.0, 2.0), (-4.0, 4.0)])
    model(torch.tensor([[0.0, -4.0], [2.0, 4.0], [1.0, 0.0]]))
    torch.testing.assert_close(recorder.seen, torch.tensor([[-1.0, -1.0], [1.0, 1.0], [0.0, 0.0]]))


def test_coordinate_net_attributes_and_parameter_count():
    encoder = GaussianFourierFeatures(2, 16, 3.0)
    net = ReluMLP(32, 3, width=8, depth=2)
    model = CoordinateNet(encoder, net)
    assert (model.encoder, model.net, model.in_dim, model.out_dim) == (encoder, net, 2, 3)
    assert model.num_parameters() == sum(p.numel() for p in net.parameters())  # B is a buffer
    assert model(torch.rand(0, 2)).shape == (0, 3)
    assert model(torch.rand(2, 3, 2)).shape == (2, 3, 3)


@pytest.mark.parametrize(
    "make, message",
    [
        (
            lambda: CoordinateNet(PositionalEncoding(2, 3), ReluMLP(5, 1)),
            "encoder PositionalEncoding has out_dim=12",
        ),
        (
            lambda: CoordinateNet(None, ReluMLP(2, 1), signal_domain=(1.0, 0.0)),
            r"signal_domain must be an interval",
        ),
        (
            lambda: CoordinateNet(None, ReluMLP(2, 1), signal_domain=[(0, 1)] * 3),
            "one interval per coordinate",
        ),
    ],
)
def test_coordinate_net_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()
    with pytest.raises(ValueError, match=r"x must have shape \(\.\.\., 2\)"):
        CoordinateNet(None, ReluMLP(2, 1, width=4, depth=1))(torch.rand(3, 5))


@pytest.mark.parametrize(
    "spec",
    [
        "gauss:sigma=2,num_frequencies=4+siren:width=8,depth=2",
        "pe:L=3+finer:width=6,depth=2,scale_grad=true,k=1",
        "wire:w=6,depth=2",
    ],
)
def test_gradcheck_float64(spec):
    model = build_model(spec, 2, 2).double()
    x = torch.rand(4, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(model, (x,), eps=1e-6, atol=1e-6)
    # and with respect to the parameters (the first layer's weight)
    params = {name: p.detach() for name, p in model.named_parameters()}
    name = next(iter(n for n, _ in model.net.named_parameters()))

    def output(weight):
        return torch.func.functional_call(model, {**params, f"net.{name}": weight}, (x.detach(),))

    weight = params[f"net.{name}"].clone().requires_grad_()
    assert torch.autograd.gradcheck(output, (weight,), eps=1e-6, atol=1e-6)
