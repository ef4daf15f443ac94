"""The named encoders and nets a model spec can use, with their keys and short aliases.

Encoders (``in_dim`` is filled in by :func:`~coordnet.nets.spec.build_model`):

- ``none``: no encoding (with keys ``scale``, ``offset``: :class:`~coordnet.encoders.Identity`);
- ``basic``: :class:`~coordnet.encoders.BasicFourier`; ``include_input``;
- ``pe``: :class:`~coordnet.encoders.PositionalEncoding`; ``num_frequencies`` (``L``, ``n``,
  ``freqs``), ``min_log2_freq``, ``max_log2_freq``, ``spacing``, ``factor``, ``layout``, ``include_input``;
- ``gauss``: :class:`~coordnet.encoders.GaussianFourierFeatures`; ``num_frequencies`` (``L``, ``n``,
  ``freqs``, ``m``), ``scale`` (``sigma``, ``s``), ``seed``, ``learnable``, ``include_input``;
- ``hash``: :class:`~coordnet.encoders.HashGrid`; ``n_levels`` (``L``, ``levels``),
  ``n_features_per_level`` (``F``), ``log2_hashmap_size`` (``T``), ``base_resolution`` (``base``,
  ``N_min``), ``per_level_scale`` (``b``), ``interpolation``, ``convention``, ``grid_type`` (``type``),
  ``init_scale``, ``seed``;
- ``sh``: :class:`~coordnet.encoders.SphericalHarmonics` (3D inputs); ``degree``, ``convention``;
- ``oneblob``: :class:`~coordnet.encoders.OneBlob`; ``n_bins`` (``bins``);
- ``triwave``: :class:`~coordnet.encoders.TriangleWave`; ``n_frequencies`` (``L``, ``n``, ``freqs``).

Nets (``in_dim``, ``out_dim`` and ``output_activation`` are filled in); all take ``width``
(``w``) and ``depth`` (``d``, ``layers``):

- ``relu``: :class:`~coordnet.nets.ReluMLP`; ``bias``;
- ``tcnn``: tiny-cuda-nn's ``FullyFusedMLP`` where it runs, else :class:`~coordnet.nets.ReluMLP`
  without biases (:func:`~coordnet.nets.fully_fused.fully_fused_mlp`); ``width`` in 16..128;
- ``siren``: :class:`~coordnet.nets.Siren`; ``first_omega``, ``hidden_omega`` (``omega`` sets both);
- ``gauss-act``: :class:`~coordnet.nets.GaussianMLP`; ``sigma`` (``s``, ``a``), ``bias``;
- ``finer``: :class:`~coordnet.nets.FinerMLP`; ``first_omega``, ``hidden_omega`` (``omega``),
  ``first_bias_scale`` (``k``), ``scale_grad``;
- ``wire``: :class:`~coordnet.nets.WireMLP`; ``omega`` (``omega0``), ``s`` (``s0``, ``scale``, ``sigma``).

Keys are the constructors' argument names, except where a spec keeps tiny-cuda-nn's or the
paper's spelling (``gauss:scale`` is ``sigma``; ``hash``'s keys are tiny-cuda-nn's, the
constructor's ``num_levels``, ``num_features_per_level``, ``log2_table_size``,
``min_resolution`` and ``growth`` are accepted as aliases): labels and stored results keep
their keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, Mapping, Optional, Tuple

from torch import nn

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
from coordnet.config_errors import names_in_message

#: Value kinds a key can take: ``"int"``, ``"float"`` (ints accepted), ``"bool"``
#: (``true``/``false``), ``"str"``, or ``"bool|str"`` (``true``/``false`` or a word).
KINDS = ("int", "float", "bool", "str", "bool|str")


@dataclass(frozen=True)
class Param:
    """One constructor argument a preset accepts: its spec key ``name``, value ``kind`` (see
    :data:`KINDS`) and, where the spec keeps a tiny-cuda-nn or paper spelling, the constructor's
    argument name ``arg`` (``Param("scale", "float", "sigma")``: ``gauss:scale=10`` calls
    ``GaussianFourierFeatures(..., sigma=10)``)."""

    name: str
    kind: str
    arg: Optional[str] = None

    @property
    def argument(self) -> str:
        """The constructor's keyword for this key."""
        return self.arg or self.name


@dataclass(frozen=True)
class Preset:
    """A named encoder or net: ``build(in_dim, [out_dim,] **args) -> nn.Module``.

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
        """A constructor's error ``message`` with its argument names replaced by this preset's spec keys."""
        return names_in_message(message, {p.arg: p.name for p in self.params if p.arg})

    def resolve(self, key: str) -> Optional[Tuple[str, ...]]:
        """Canonical keys set by ``key`` (itself or an alias), or ``None`` if unknown."""
        if self.param(key) is not None:
            return (key,)
        return self.aliases.get(key)

    def describe_keys(self) -> str:
        """``"num_frequencies (L, n, freqs), scale (sigma, s)"``: the valid keys, for messages."""
        if not self.params:
            return "(none)"
        parts = []
        for p in self.params:
            short = [alias for alias, targets in self.aliases.items() if p.name in targets]
            parts.append(f"{p.name} ({', '.join(short)})" if short else p.name)
        return ", ".join(parts)


_WIDTH_DEPTH = (Param("width", "int"), Param("depth", "int"))
_SHAPE_ALIASES = {"w": ("width",), "d": ("depth",), "layers": ("depth",)}
_FREQ_ALIASES = {
    "L": ("num_frequencies",),
    "n": ("num_frequencies",),
    "freqs": ("num_frequencies",),
}
_FREQ_ALIASES_TCNN = {"L": ("n_frequencies",), "n": ("n_frequencies",), "freqs": ("n_frequencies",)}
_OMEGAS = (Param("first_omega", "float"), Param("hidden_omega", "float"))
_OMEGA_ALIASES = {"omega": ("first_omega", "hidden_omega")}

ENCODER_PRESETS: Dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "none",
            "encoder",
            Identity,
            (Param("scale", "float"), Param("offset", "float")),
            summary="no encoding: raw (domain-mapped) coordinates; with keys, Identity scale*x+offset",
        ),
        Preset(
            "basic",
            "encoder",
            BasicFourier,
            (Param("include_input", "bool|str"),),
            summary="[sin 2πx, cos 2πx]",
        ),
        Preset(
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
            _FREQ_ALIASES,
            summary="NeRF positional encoding, frequencies 2^0..2^(L-1)",
        ),
        Preset(
            "gauss",
            "encoder",
            GaussianFourierFeatures,
            (
                Param("num_frequencies", "int"),
                Param("scale", "float", "sigma"),
                Param("seed", "int"),
                Param("learnable", "bool"),
                Param("include_input", "bool|str"),
            ),
            {**_FREQ_ALIASES, "m": ("num_frequencies",), "sigma": ("scale",), "s": ("scale",)},
            summary="Gaussian random Fourier features, B ~ N(0, scale²)",
        ),
        Preset(
            "hash",
            "encoder",
            HashGrid,
            (
                Param("n_levels", "int", "num_levels"),
                Param("n_features_per_level", "int", "num_features_per_level"),
                Param("log2_hashmap_size", "int", "log2_table_size"),
                Param("base_resolution", "int", "min_resolution"),
                Param("per_level_scale", "float", "growth"),
                Param("interpolation", "str"),
                Param("convention", "str"),
                Param("grid_type", "str"),
                Param("init_scale", "float"),
                Param("seed", "int"),
            ),
            {
                "L": ("n_levels",),
                "levels": ("n_levels",),
                "num_levels": ("n_levels",),
                "F": ("n_features_per_level",),
                "num_features_per_level": ("n_features_per_level",),
                "T": ("log2_hashmap_size",),
                "log2_table_size": ("log2_hashmap_size",),
                "base": ("base_resolution",),
                "N_min": ("base_resolution",),
                "min_resolution": ("base_resolution",),
                "b": ("per_level_scale",),
                "growth": ("per_level_scale",),
                "type": ("grid_type",),
            },
            summary="instant-NGP multiresolution hash grid (tiny-cuda-nn semantics)",
        ),
        Preset(
            "sh",
            "encoder",
            SphericalHarmonics,
            (Param("degree", "int"), Param("convention", "str")),
            summary="spherical harmonics of 3D directions, degree² features",
        ),
        Preset(
            "oneblob",
            "encoder",
            OneBlob,
            (Param("n_bins", "int", "num_bins"),),
            {"bins": ("n_bins",), "num_bins": ("n_bins",)},
            summary="tiny-cuda-nn OneBlob, n_bins quartic-kernel bins per coordinate",
        ),
        Preset(
            "triwave",
            "encoder",
            TriangleWave,
            (Param("n_frequencies", "int", "num_frequencies"),),
            {**_FREQ_ALIASES_TCNN, "num_frequencies": ("n_frequencies",)},
            summary="tiny-cuda-nn TriangleWave, n_frequencies triangle waves per coordinate",
        ),
    )
}

NET_PRESETS: Dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "relu",
            "net",
            ReluMLP,
            (*_WIDTH_DEPTH, Param("bias", "bool")),
            _SHAPE_ALIASES,
            summary="ReLU MLP (default: width 256, depth 3)",
        ),
        Preset(
            "tcnn",
            "net",
            fully_fused_mlp,
            _WIDTH_DEPTH,
            _SHAPE_ALIASES,
            summary="tiny-cuda-nn FullyFusedMLP (no biases; widths 16-128; torch fallback)",
        ),
        Preset(
            "siren",
            "net",
            Siren,
            (*_WIDTH_DEPTH, *_OMEGAS),
            {**_SHAPE_ALIASES, **_OMEGA_ALIASES},
            summary="SIREN",
        ),
        Preset(
            "gauss-act",
            "net",
            GaussianMLP,
            (*_WIDTH_DEPTH, Param("sigma", "float"), Param("bias", "bool")),
            {**_SHAPE_ALIASES, "s": ("sigma",), "a": ("sigma",)},
            summary="MLP with Gaussian activations exp(-z²/2σ²)",
        ),
        Preset(
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
        Preset(
            "wire",
            "net",
            WireMLP,
            (*_WIDTH_DEPTH, Param("omega", "float"), Param("s", "float")),
            {
                **_SHAPE_ALIASES,
                "omega0": ("omega",),
                "s0": ("s",),
                "scale": ("s",),
                "sigma": ("s",),
            },
            summary="WIRE, real Gabor wavelet cos(omega z) exp(-(s z)²)",
        ),
    )
}


def preset_names(role: str) -> Tuple[str, ...]:
    """Names of the ``"encoder"`` or ``"net"`` presets, in table order."""
    table = {"encoder": ENCODER_PRESETS, "net": NET_PRESETS}.get(role)
    if table is None:
        raise ValueError(f"role must be 'encoder' or 'net', got {role!r}")
    return tuple(table)
