"""Coordinate networks: MLPs ``(..., in_dim) -> (..., out_dim)``, and encoder + net models.

==========================  ======================================================  ===============
:class:`ReluMLP`            ReLU MLP, PyTorch init (Tancik et al.: depth 3, width 256)  any real input
:class:`Siren`              ``sin(omega z)``, SIREN init (Sitzmann et al. 2020)          ``[-1, 1]``
:class:`GaussianMLP`        ``exp(-z²/2σ²)`` (Ramasinghe & Lucey 2022)                   ``[-1, 1]``
:class:`FinerMLP`           ``sin(omega (|z|+1) z)`` (FINER, Liu et al. 2024)            ``[-1, 1]``
:class:`WireMLP`            ``cos(omega z) exp(-(s z)²)`` (WIRE, Saragadam et al. 2023)  ``[-1, 1]``
:class:`CoordinateNet`      encoder then net, signal coordinates mapped onto the first stage's domain
==========================  ======================================================  ===============

All MLPs are :class:`ActivationMLP`\\ s: ``depth`` hidden layers ``Linear -> activation`` in an
``nn.Sequential`` (``.layers``), then a linear head and an optional sigmoid.

Named encoders and nets of specs (``gauss``, ``relu``): :mod:`coordnet.nets.named`.
Specs (:mod:`coordnet.nets.spec`): :func:`parse_spec` (``"gauss:sigma=10+relu:width=128"``,
dicts, TOML files via :func:`load_spec_file`) -> :class:`ModelSpec` -> :func:`build_model`.
"""

from coordnet.nets.activation_mlp import OUTPUT_ACTIVATIONS, ActivationMLP
from coordnet.nets.coordinate_net import CoordinateNet
from coordnet.nets.finer import FinerMLP, FinerSine
from coordnet.nets.gaussian import GaussianActivation, GaussianMLP
from coordnet.nets.mlp import ReluMLP
from coordnet.nets.named import NAMED_ENCODERS, NAMED_NETS, NamedPart, Param
from coordnet.nets.siren import Sine, Siren, siren_init
from coordnet.nets.spec import ModelSpec, build_model, load_spec_file, parse_spec
from coordnet.nets.wire import GaborActivation, WireMLP

__all__ = [
    "NAMED_ENCODERS",
    "NAMED_NETS",
    "OUTPUT_ACTIVATIONS",
    "ActivationMLP",
    "CoordinateNet",
    "FinerMLP",
    "FinerSine",
    "GaborActivation",
    "GaussianActivation",
    "GaussianMLP",
    "ModelSpec",
    "NamedPart",
    "Param",
    "ReluMLP",
    "Sine",
    "Siren",
    "WireMLP",
    "build_model",
    "load_spec_file",
    "parse_spec",
    "siren_init",
]
