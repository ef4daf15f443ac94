"""The named encoders and nets a model spec can use (``gauss``, ``relu``), with their keys and short aliases.

Encoders (``in_dim`` is filled in by :func:`~coordnet.nets.spec.build_model`):

- ``none``: no encoding (with keys ``scale``, ``offset``: :class:`~coordnet.encoders.Identity`);
- ``basic``: :class:`~coordnet.encoders.BasicFourier`; ``include_input``;
- ``pe``: :class:`~coordnet.encoders.PositionalEncoding`; ``num_frequencies`` (``L``),
  ``min_log2_freq``, ``max_log2_freq``, ``spacing``, ``factor``, ``layout``, ``include_input``;
- ``gauss``: :class:`~coordnet.encoders.GaussianFourierFeatures`; ``num_frequencies`` (``m``),
  ``sigma``, ``seed``, ``learnable``, ``include_input``;
- ``hash``: :class:`~coordnet.encoders.HashGrid`; ``num_levels`` (``levels``),
  ``num_features_per_level`` (``F``), ``log2_table_size`` (``T``), ``min_resolution``
  (``N_min``), ``growth`` (``b``), ``interpolation``, ``convention``, ``grid_type``,
  ``init_scale``, ``seed``;
- ``sh``: :class:`~coordnet.encoders.SphericalHarmonics` (3D inputs); ``degree``, ``convention``;
- ``oneblob``: :class:`~coordnet.encoders.OneBlob`; ``num_bins`` (``bins``);
- ``triwave``: :class:`~coordnet.encoders.TriangleWave`; ``num_frequencies`` (``L``).

Nets (``in_dim``, ``out_dim`` and ``output_activation`` are filled in); all take ``width``
(``w``) and ``depth`` (the number of hidden layers):

- ``relu``: :class:`~coordnet.nets.ReluMLP`; ``bias``;
- ``tcnn``: tiny-cuda-nn's ``FullyFusedMLP`` where it runs, else :class:`~coordnet.nets.ReluMLP`
  without biases (:func:`~coordnet.nets.fully_fused.fully_fused_mlp`); ``width`` in 16..128;
- ``siren``: :class:`~coordnet.nets.Siren`; ``first_omega``, ``hidden_omega`` (``omega`` sets both);
- ``gauss-act``: :class:`~coordnet.nets.GaussianMLP`; ``sigma`` (``a``), ``bias``;
- ``finer``: :class:`~coordnet.nets.FinerMLP`; ``first_omega``, ``hidden_omega`` (``omega``),
  ``first_bias_scale`` (``k``), ``scale_grad``;
- ``wire``: :class:`~coordnet.nets.WireMLP`; ``omega`` (``omega0``), ``s`` (``s0``).

Keys are the constructors' argument names. A short alias is the paper's symbol for the same
quantity and means one thing wherever it is accepted (``L`` is always a number of frequencies
per coordinate, never hash levels; ``d`` is never a key: it is the input dimension).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, Mapping, Optional, Tuple

from torch import nn

from coordnet.config_errors import names_in_message
from coordnet.encoders import (
    BasicFourier,
    GaussianFourierFeatures,
    HashGrid,
    Identity,
    OneBlob,
    PositionalEncoding,
    SphericalHarmonics,
    TriangleWave,
)
from coordnet.nets.finer import FinerMLP
from coordnet.nets.fully_fused import fully_fused_mlp
from coordnet.nets.gaussian import GaussianMLP
from coordnet.nets.mlp import ReluMLP
from coordnet.nets.siren import Siren
from coordnet.nets.wire import WireMLP

#: Value kinds a key can take: ``"int"``, ``"float"`` (ints accepted), ``"bool"``
#: (``true``/``false``), ``"str"``, or ``"bool|str"`` (``true``/``false`` or a word).
KINDS = ("int", "float", "bool", "str", "bool|str")


@dataclass(frozen=True)
class Param:
    """One constructor argument a named part accepts: its spec key ``name``, value ``kind`` (see
    :data:`KINDS`) and, where the key differs from the constructor's argument, that argument's
    name ``arg`` (none does today: keys are the constructors' names)."""

    name: str
    kind: str
    arg: Optional[str] = None

    @property
    def argument(self) -> str:
        """The constructor's keyword for this key."""
        return self.arg or self.name


@dataclass(frozen=True)
class NamedPart:
    """A named encoder or net of model specs: ``build(in_dim, [out_dim,] **args) -> nn.Module``.

    Attributes:
        name: the name used in specs (``"gauss"``).
        role: ``"encoder"`` or ``"net"``.
        build: the class (or factory) to call.
        params: the keys it accepts, in the constructor's order.
        aliases: short key -> the canonical keys it sets (``omega`` sets both SIREN omegas).
        summary: one line for help texts.
    """

    name: str
    role: str
    build: Callable[..., nn.Module]
    params: Tuple[Param, ...]
    aliases: Mapping[str, Tuple[str, ...]] = field(default_factory=dict)
    summary: str = ""

    def param(self, name: str) -> Optional[Param]:
        """The :class:`Param` called ``name`` (canonical names only), or ``None``."""
        return next((p for p in self.params if p.name == name), None)

    def constructor_kwargs(self, args: Mapping[str, object]) -> Dict[str, object]:
        """``args`` (canonical spec keys) as the constructor's keyword arguments."""
        names = {p.name: p.argument for p in self.params}
        return {names.get(key, key): value for key, value in args.items()}

    def spec_names(self, message: str) -> str:
        """A constructor's error ``message`` with its argument names replaced by this part's spec keys."""
        return names_in_message(message, {p.arg: p.name for p in self.params if p.arg})

    def resolve(self, key: str) -> Optional[Tuple[str, ...]]:
        """Canonical keys set by ``key`` (itself or an alias), or ``None`` if unknown."""
        if self.param(key) is not None:
            return (key,)
        return self.aliases.get(key)

    def describe_keys(self) -> str:
        """``"num_frequencies (m), sigma, seed"``: the valid keys, for messages."""
        if not self.params:
            return "(none)"
        parts = []
        for p in self.params:
            short = [alias for alias, targets in self.aliases.items() if p.name in targets]
            parts.append(f"{p.name} ({', '.join(short)})" if short else p.name)
        return ", ".join(parts)


_WIDTH_DEPTH = (Param("width", "int"), Param("depth", "int"))
_SHAPE_ALIASES = {"w": ("width",)}
_BANDS_ALIAS = {"L": ("num_frequencies",)}
_OMEGAS = (Param("first_omega", "float"), Param("hidden_omega", "float"))
_OMEGA_ALIASES = {"omega": ("first_omega", "hidden_omega")}

NAMED_ENCODERS: Dict[str, NamedPart] = {
    p.name: p
    for p in (
        NamedPart(
            "none",
            "encoder",
            Identity,
            (Param("scale", "float"), Param("offset", "float")),
            summary="no encoding: raw (domain-mapped) coordinates; with keys, Identity scale*x+offset",
        ),
        NamedPart(
            "basic",
            "encoder",
            BasicFourier,
            (Param("include_input", "bool|str"),),
            summary="[sin 2πx, cos 2πx]",
        ),
        NamedPart(
            "pe",
            "encoder",
            PositionalEncoding,
            (
                Param("num_frequencies", "int"),
                Param("min_log2_freq", "float"),
                Param("max_log2_freq", "float"),
                Param("spacing", "str"),
                Param("factor", "float"),
                Param("layout", "str"),
                Param("include_input", "bool|str"),
            ),
            _BANDS_ALIAS,
            summary="NeRF positional encoding, frequencies 2^0..2^(L-1)",
        ),
        NamedPart(
            "gauss",
            "encoder",
            GaussianFourierFeatures,
            (
                Param("num_frequencies", "int"),
                Param("sigma", "float"),
                Param("seed", "int"),
                Param("learnable", "bool"),
                Param("include_input", "bool|str"),
            ),
            {"m": ("num_frequencies",)},
            summary="Gaussian random Fourier features, B ~ N(0, sigma²)",
        ),
        NamedPart(
            "hash",
            "encoder",
            HashGrid,
            (
                Param("num_levels", "int"),
                Param("num_features_per_level", "int"),
                Param("log2_table_size", "int"),
                Param("min_resolution", "int"),
                Param("growth", "float"),
                Param("interpolation", "str"),
                Param("convention", "str"),
                Param("grid_type", "str"),
                Param("init_scale", "float"),
                Param("seed", "int"),
            ),
            {
                "levels": ("num_levels",),
                "F": ("num_features_per_level",),
                "T": ("log2_table_size",),
                "N_min": ("min_resolution",),
                "b": ("growth",),
            },
            summary="instant-NGP multiresolution hash grid (tiny-cuda-nn semantics)",
        ),
        NamedPart(
            "sh",
            "encoder",
            SphericalHarmonics,
            (Param("degree", "int"), Param("convention", "str")),
            summary="spherical harmonics of 3D directions, degree² features",
        ),
        NamedPart(
            "oneblob",
            "encoder",
            OneBlob,
            (Param("num_bins", "int"),),
            {"bins": ("num_bins",)},
            summary="tiny-cuda-nn OneBlob, num_bins quartic-kernel bins per coordinate",
        ),
        NamedPart(
            "triwave",
            "encoder",
            TriangleWave,
            (Param("num_frequencies", "int"),),
            _BANDS_ALIAS,
            summary="tiny-cuda-nn TriangleWave, num_frequencies triangle waves per coordinate",
        ),
    )
}

NAMED_NETS: Dict[str, NamedPart] = {
    p.name: p
    for p in (
        NamedPart(
            "relu",
            "net",
            ReluMLP,
            (*_WIDTH_DEPTH, Param("bias", "bool")),
            _SHAPE_ALIASES,
            summary="ReLU MLP (default: width 256, depth 3)",
        ),
        NamedPart(
            "tcnn",
            "net",
            fully_fused_mlp,
            _WIDTH_DEPTH,
            _SHAPE_ALIASES,
            summary="tiny-cuda-nn FullyFusedMLP (no biases; widths 16-128; torch fallback)",
        ),
        NamedPart(
            "siren",
            "net",
            Siren,
            (*_WIDTH_DEPTH, *_OMEGAS),
            {**_SHAPE_ALIASES, **_OMEGA_ALIASES},
            summary="SIREN",
        ),
        NamedPart(
            "gauss-act",
            "net",
            GaussianMLP,
            (*_WIDTH_DEPTH, Param("sigma", "float"), Param("bias", "bool")),
            {**_SHAPE_ALIASES, "a": ("sigma",)},
            summary="MLP with Gaussian activations exp(-z²/2σ²)",
        ),
        NamedPart(
            "finer",
            "net",
            FinerMLP,
            (
                *_WIDTH_DEPTH,
                *_OMEGAS,
                Param("first_bias_scale", "float"),
                Param("scale_grad", "bool"),
            ),
            {**_SHAPE_ALIASES, **_OMEGA_ALIASES, "k": ("first_bias_scale",)},
            summary="FINER, sin(omega (|z|+1) z)",
        ),
        NamedPart(
            "wire",
            "net",
            WireMLP,
            (*_WIDTH_DEPTH, Param("omega", "float"), Param("s", "float")),
            {**_SHAPE_ALIASES, "omega0": ("omega",), "s0": ("s",)},
            summary="WIRE, real Gabor wavelet cos(omega z) exp(-(s z)²)",
        ),
    )
}


def part_names(role: str) -> Tuple[str, ...]:
    """Names of the ``"encoder"`` or ``"net"`` named parts, in table order."""
    table = {"encoder": NAMED_ENCODERS, "net": NAMED_NETS}.get(role)
    if table is None:
        raise ValueError(f"role must be 'encoder' or 'net', got {role!r}")
    return tuple(table)
