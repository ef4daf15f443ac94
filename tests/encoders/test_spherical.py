"""SphericalHarmonics against scipy's complex harmonics, tiny-cuda-nn's closed forms, and itself.

Independent reference: ``scipy.special.sph_harm_y(l, m, θ, φ)`` (complex, with the
Condon–Shortley phase). tiny-cuda-nn's real feature ``l² + l + m`` is ``√2 Re Y_l^m`` (m > 0),
``Y_l^0``, ``√2 Im Y_l^|m|`` (m < 0); nerfstudio's is that times ``(-1)^m`` (see
``coordnet/encoders/spherical.py``). nerfstudio's real code is compared in test_compat_real_code.py.
"""

import math

import numpy as np
import pytest
import torch
from scipy.special import sph_harm_y

from coordnet.encoders import SphericalHarmonics
from coordnet.encoders.spherical import spherical_harmonics
from coordnet.nets import CoordinateNet, ReluMLP


def unit_directions(n, seed=0, dtype=torch.float64):
    generator = torch.Generator().manual_seed(seed)
    v = torch.randn(n, 3, generator=generator, dtype=torch.float64)
    return (v / v.norm(dim=-1, keepdim=True)).to(dtype)


def scipy_real_harmonics(v, degree, convention):
    """``(N, 3)`` unit vectors -> ``(N, degree²)`` from scipy's complex ``Y_l^m``."""
    v = v.double().numpy()
    theta = np.arccos(np.clip(v[:, 2], -1.0, 1.0))
    phi = np.arctan2(v[:, 1], v[:, 0])
    columns = []
    for l in range(degree):
        for m in range(-l, l + 1):
            if m > 0:
                value = math.sqrt(2) * sph_harm_y(l, m, theta, phi).real
            elif m == 0:
                value = sph_harm_y(l, 0, theta, phi).real
            else:
                value = math.sqrt(2) * sph_harm_y(l, -m, theta, phi).imag
            columns.append(value if convention == "tcnn" else (-1) ** m * value)
    return torch.from_numpy(np.stack(columns, axis=-1))


@pytest.mark.parametrize("degree", range(1, 9))
def test_tcnn_convention_matches_scipy(degree):
    v = unit_directions(500, seed=degree)
    got = SphericalHarmonics(3, degree, convention="tcnn").double()((v + 1) / 2)
    want = scipy_real_harmonics(v, degree, "tcnn")
    assert got.shape == (500, degree**2)
    torch.testing.assert_close(got, want, rtol=0, atol=1e-12)


@pytest.mark.parametrize("degree", range(1, 6))
def test_nerfstudio_convention_matches_scipy(degree):
    v = unit_directions(500, seed=10 + degree)
    got = SphericalHarmonics(3, degree, convention="nerfstudio").double()(v)
    torch.testing.assert_close(
        got, scipy_real_harmonics(v, degree, "nerfstudio"), rtol=0, atol=1e-12
    )


def tcnn_closed_forms(x, y, z):
    """tiny-cuda-nn's ``sh_enc`` (include/tiny-cuda-nn/encodings/spherical_harmonics.h), a
    transcription of the first four bands and of the last component of band 7."""
    xy, xz, yz, x2, y2, z2 = x * y, x * z, y * z, x * x, y * y, z * z
    return {
        0: torch.full_like(x, 0.28209479177387814),
        1: -0.48860251190291987 * y,
        2: 0.48860251190291987 * z,
        3: -0.48860251190291987 * x,
        4: 1.0925484305920792 * xy,
        5: -1.0925484305920792 * yz,
        6: 0.94617469575755997 * z2 - 0.31539156525251999,
        7: -1.0925484305920792 * xz,
        8: 0.54627421529603959 * x2 - 0.54627421529603959 * y2,
        9: 0.59004358992664352 * y * (-3.0 * x2 + y2),
        10: 2.8906114426405538 * xy * z,
        11: 0.45704579946446572 * y * (1.0 - 5.0 * z2),
        12: 0.3731763325901154 * z * (5.0 * z2 - 3.0),
        13: 0.45704579946446572 * x * (1.0 - 5.0 * z2),
        14: 1.4453057213202769 * z * (x2 - y2),
        15: 0.59004358992664352 * x * (-x2 + 3.0 * y2),
        63: 0.70716273252459627
        * x
        * (-35.0 * x2 * y2 * y2 + 21.0 * x2 * x2 * y2 - x2 * x2 * x2 + 7.0 * y2 * y2 * y2),
    }


@pytest.mark.parametrize("unit", [True, False], ids=["unit", "any-vector"])
def test_tcnn_convention_matches_tcnn_closed_forms(unit):
    u = (
        ((unit_directions(300, seed=3) + 1) / 2)
        if unit
        else torch.rand(300, 3, dtype=torch.float64)
    )
    got = SphericalHarmonics(3, 8, convention="tcnn").double()(u)
    x, y, z = (2 * u - 1).unbind(-1)
    for index, want in tcnn_closed_forms(x, y, z).items():
        torch.testing.assert_close(
            got[:, index], want, rtol=0, atol=1e-13, msg=f"component {index}"
        )


def test_conventions_differ_by_input_map_and_condon_shortley_sign():
    u = torch.rand(200, 3, dtype=torch.float64)
    tcnn = SphericalHarmonics(3, 5, convention="tcnn").double()(u)
    nerfstudio = SphericalHarmonics(3, 5, convention="nerfstudio").double()(2 * u - 1)
    signs = torch.tensor(
        [(-1.0) ** abs(m) for l in range(5) for m in range(-l, l + 1)], dtype=torch.float64
    )
    torch.testing.assert_close(tcnn, nerfstudio * signs, rtol=0, atol=1e-13)


def test_orthonormal_on_the_sphere():
    """Gauss–Legendre × trapezoid quadrature of ∫ Y_a Y_b dΩ: the identity matrix."""
    nodes, weights = np.polynomial.legendre.leggauss(24)
    phi = np.linspace(0, 2 * np.pi, 48, endpoint=False)
    z, p = np.meshgrid(nodes, phi, indexing="ij")
    r = np.sqrt(1 - z**2)
    v = torch.from_numpy(np.stack([r * np.cos(p), r * np.sin(p), z], -1).reshape(-1, 3))
    w = torch.from_numpy((weights[:, None] * np.full_like(p, 2 * np.pi / 48)).reshape(-1))
    for convention, degree in (("tcnn", 8), ("nerfstudio", 5)):
        encoder = SphericalHarmonics(3, degree, convention=convention).double()
        features = encoder((v + 1) / 2 if convention == "tcnn" else v)
        gram = features.T @ (features * w[:, None])
        torch.testing.assert_close(
            gram, torch.eye(degree**2, dtype=torch.float64), rtol=0, atol=1e-12
        )


@pytest.mark.parametrize("convention", ["tcnn", "nerfstudio"])
def test_gradcheck_float64(convention):
    encoder = SphericalHarmonics(
        3, 8 if convention == "tcnn" else 5, convention=convention
    ).double()
    x = torch.rand(3, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(encoder, (x,))
    low = SphericalHarmonics(
        3, 4, convention=convention
    ).double()  # second derivatives (e.g. eikonal losses)
    assert torch.autograd.gradgradcheck(low, (x[:2],))


def test_tcnn_gradient_includes_the_factor_two_of_the_input_map():
    u = torch.rand(5, 3, dtype=torch.float64, requires_grad=True)
    SphericalHarmonics(3, 2, convention="tcnn").double()(u)[
        :, 2
    ].sum().backward()  # 0.4886 z, z = 2u_z - 1
    torch.testing.assert_close(
        u.grad[:, 2], torch.full((5,), 2 * 0.48860251190291987, dtype=torch.float64)
    )
    assert torch.all(u.grad[:, :2] == 0)


@pytest.mark.parametrize("batch", [(), (0,), (7,), (2, 4)])
def test_shapes_and_dtypes(batch):
    encoder = SphericalHarmonics(3, 4)
    assert encoder.out_dim == encoder.get_out_dim() == 16
    x = torch.rand(*batch, 3)
    y = encoder(x)
    assert y.shape == (*batch, 16) and y.dtype == torch.float32
    assert encoder(x.bfloat16()).dtype == torch.float32  # promoted, like every coordnet encoder
    if x.numel():
        torch.testing.assert_close(encoder.double()(x.double()).float(), y, rtol=0, atol=1e-6)


def test_finite_for_any_finite_input_and_nan_propagates():
    encoder = SphericalHarmonics(3, 8)
    assert torch.isfinite(encoder(torch.tensor([[1e3, -1e3, 5.0], [0.0, 0.0, 0.0]]))).all()
    y = encoder(torch.tensor([[float("nan"), 0.5, 0.5]]))
    assert torch.isnan(y[0, 1:]).any() and y[0, 0] == 0.28209479177387814 * 1.0


def test_input_domains_make_coordinate_nets_agree():
    """In a CoordinateNet both conventions see the same direction (tcnn [0,1], nerfstudio [-1,1])."""
    assert SphericalHarmonics(3, 4).input_domain == (0.0, 1.0)
    assert SphericalHarmonics(3, 4, convention="nerfstudio").input_domain == (-1.0, 1.0)
    u = torch.rand(10, 3, dtype=torch.float64)
    a = CoordinateNet(SphericalHarmonics(3, 3), ReluMLP(9, 1)).double()
    b = CoordinateNet(SphericalHarmonics(3, 3, convention="nerfstudio"), a.net).double()
    signs = torch.tensor(
        [(-1.0) ** abs(m) for l in range(3) for m in range(-l, l + 1)], dtype=torch.float64
    )
    torch.testing.assert_close(
        a.encoder(a.map_coordinates(u)), b.encoder(b.map_coordinates(u)) * signs
    )


def test_functional_form_degree_check():
    with pytest.raises(ValueError, match="degree must be an integer between 1 and 8, got 9"):
        spherical_harmonics(torch.zeros(1, 3), 9)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"in_dim": 2}, "in_dim must be 3, got 2"),
        ({"degree": 0}, "degree must be an integer between 1 and 8 for convention 'tcnn', got 0"),
        ({"degree": 9}, "degree must be an integer between 1 and 8 for convention 'tcnn', got 9"),
        (
            {"degree": 6, "convention": "nerfstudio"},
            "between 1 and 5 for convention 'nerfstudio', got 6",
        ),
        ({"degree": True}, "degree must be an integer"),
        ({"degree": 2.0}, "degree must be an integer"),
        ({"convention": "sloan"}, "convention must be one of 'tcnn', 'nerfstudio', got 'sloan'"),
    ],
)
def test_errors_name_the_argument(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        SphericalHarmonics(**{"in_dim": 3, **kwargs})


def test_wrong_input_shape_is_an_error():
    with pytest.raises(ValueError, match=r"x must have shape \(\.\.\., 3\), got \(4, 2\)"):
        SphericalHarmonics(3, 2)(torch.rand(4, 2))
