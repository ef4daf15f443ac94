"""tiny-cuda-nn encoding configs -> coordnet encoders: :func:`from_config`.

Accepts the JSON configs of tiny-cuda-nn's ``DOCUMENTATION.md`` ("Encodings") with its
defaults, and coordnet's own encoders under their class names:

==========================================  =====================================================
``otype`` (case-insensitive)                 coordnet module (tiny-cuda-nn default of each key)
==========================================  =====================================================
``Identity``                                 :class:`~coordnet.encoders.Identity` (``scale`` 1, ``offset`` 0)
``Empty``                                    :class:`~coordnet.encoders.composite.Empty`
``Frequency``                                :class:`~coordnet.encoders.PositionalEncoding`, π factor,
                                             tcnn layout (``n_frequencies`` 12)
``TriangleWave``                             :class:`~coordnet.encoders.triangle_wave.TriangleWave`
                                             (``n_frequencies`` 12)
``OneBlob``                                  :class:`~coordnet.encoders.oneblob.OneBlob` (``n_bins`` 16)
``SphericalHarmonics``                       :class:`~coordnet.encoders.spherical.SphericalHarmonics`,
                                             tcnn convention (``degree`` 4)
``Grid``, ``HashGrid``, ``DenseGrid``,       :class:`~coordnet.encoders.HashGrid`, tcnn convention
``TiledGrid``                                (``type`` Hash / Dense / Tiled by otype, ``n_levels`` 16,
                                             ``n_features_per_level`` 2, ``log2_hashmap_size`` 19,
                                             ``base_resolution`` 16, ``per_level_scale`` 2.0 — for
                                             dense grids ``(256 / base_resolution)^(1/(n_levels-1))``
                                             —, ``interpolation`` Linear)
``Composite``                                :class:`~coordnet.encoders.composite.Composite`
                                             (``nested`` required, ``reduction`` Concatenation)
``NRC``, ``OneBlobFrequency``                Composite of TriangleWave on 3 dims (``n_frequencies``
                                             12), OneBlob on 5 (``n_bins`` 4), Identity on the rest
``PositionalEncoding``,                      coordnet's classes; keys are the constructors' arguments
``GaussianFourierFeatures``, ``BasicFourier``
==========================================  =====================================================

tiny-cuda-nn semantics kept: a missing ``otype`` means ``OneBlob``; inside ``Composite`` each
nested config may give ``n_dims_to_encode`` (at most one may leave it out and gets the
remaining dims) and ``dims_to_encode_begin``, nested encoders of 0 dims are dropped, and a
nested output is padded (with tiny-cuda-nn's padding values) to the alignment of the next
nested grid, so ``out_dim`` equals tiny-cuda-nn's ``n_output_dims``. Grid configs also take
``n_features`` / ``n_grid_features`` (instead of ``n_levels``), ``hash`` (only tiny-cuda-nn's
default ``CoherentPrime``) and ``stochastic_interpolation`` (only ``false``); beyond tiny-cuda-nn,
they also take 1 input dim and any ``n_features_per_level`` (tiny-cuda-nn: 2–4 dims; 1, 2, 4, 8).

Stricter than tiny-cuda-nn: unknown keys are errors (tiny-cuda-nn ignores them), and so are
values of the wrong kind; every error is a ``ValueError`` naming the config path, the otype,
the key and what is allowed.
"""

from __future__ import annotations

import math
import os
from typing import Any, Callable, Dict, List, Mapping, NoReturn, Optional, Tuple, Union, cast

import numpy as np
import torch
from torch import nn

from coordnet.config_errors import config_error, names_in_message
from coordnet.encoders.base import Encoder
from coordnet.encoders.compat import tcnn_frequency
from coordnet.encoders.composite import Composite, Empty, Padded
from coordnet.encoders.fourier import BasicFourier, GaussianFourierFeatures, PositionalEncoding
from coordnet.encoders.hashgrid import HashGrid
from coordnet.encoders.identity import Identity
from coordnet.encoders.oneblob import OneBlob
from coordnet.encoders.spherical import SphericalHarmonics
from coordnet.encoders.triangle_wave import TriangleWave
from coordnet.json_config import load_json_config, parse_json_text
from coordnet.ops.hashgrid_reference import next_multiple
from coordnet.suggest import did_you_mean
from coordnet.validation import check_count, check_seed

ConfigLike = Union[Mapping[str, Any], str, "os.PathLike[str]"]

#: Keys every nested config of a ``Composite`` may add to its otype's keys.
NESTED_KEYS = ("n_dims_to_encode", "dims_to_encode_begin")
GRID_OTYPES = ("Grid", "HashGrid", "DenseGrid", "TiledGrid")
_GRID_KEYS = (
    "type",
    "n_levels",
    "n_features_per_level",
    "log2_hashmap_size",
    "base_resolution",
    "per_level_scale",
    "interpolation",
    "n_features",
    "n_grid_features",
    "hash",
    "stochastic_interpolation",
)
#: Keys (besides ``otype``) of each otype, canonical spelling.
OTYPE_KEYS: Dict[str, Tuple[str, ...]] = {
    "Identity": ("scale", "offset"),
    "Empty": (),
    "Frequency": ("n_frequencies",),
    "TriangleWave": ("n_frequencies",),
    "OneBlob": ("n_bins",),
    "SphericalHarmonics": ("degree",),
    **dict.fromkeys(GRID_OTYPES, _GRID_KEYS),
    "Composite": ("nested", "reduction"),
    "NRC": ("n_frequencies", "n_bins"),
    "OneBlobFrequency": ("n_frequencies", "n_bins"),
    "PositionalEncoding": (
        "num_frequencies",
        "min_log2_freq",
        "max_log2_freq",
        "spacing",
        "factor",
        "layout",
        "include_input",
    ),
    "GaussianFourierFeatures": (
        "num_frequencies",
        "sigma",
        "seed",
        "learnable",
        "include_input",
    ),
    "BasicFourier": ("include_input",),
}
TCNN_OTYPES = tuple(
    k
    for k in OTYPE_KEYS
    if k not in ("PositionalEncoding", "GaussianFourierFeatures", "BasicFourier")
)
_CANONICAL = {name.lower(): name for name in OTYPE_KEYS}


class _Context:
    """Where in the config we are (for messages) and the shared random generator."""

    def __init__(self, path: str, otype: str, generator: torch.Generator) -> None:
        self.path, self.otype, self.generator = path, otype, generator

    def fail(self, problem: str) -> NoReturn:
        config_error("encoding config", f"{self.path} ({self.otype})", problem)


def _read_json(config: ConfigLike) -> Any:
    """A path (or a string not starting with ``{``) is read as a file, a string starting with
    ``{`` parsed; both may hold ``//`` and ``/* */`` comments and a ``"parent"`` file
    (:mod:`coordnet.json_config`). Anything else is returned as given."""
    if isinstance(config, os.PathLike) or (
        isinstance(config, str) and not config.lstrip().startswith("{")
    ):
        return load_json_config(config, "encoding config file")
    if isinstance(config, str):
        return parse_json_text(config, "encoding config string")
    return config


def load_config(config: ConfigLike) -> Dict[str, Any]:
    """A tiny-cuda-nn / instant-NGP config -> dict (public as ``coordnet.tcnn.load_config``).

    Args:
        config: a path to a JSON file, a JSON string (starting with ``{``) or a dict (returned
            as a copy). Files and strings may hold ``//`` and ``/* */`` comments (outside
            strings) and a ``"parent"`` key: a path, relative to the file, of a config the
            child's keys are merged over, recursively (instant-NGP's ``configs/nerf/*.json``).

    Raises:
        ConfigError: an unreadable file, invalid JSON (with line and column), a missing or
            cyclic parent.
        TypeError: the config is not a JSON object.
    """
    data = _read_json(config)
    if not isinstance(data, Mapping):
        raise TypeError(
            f"an encoding config must be a dict (JSON object), got {type(data).__name__}"
        )
    return dict(data)


MAX_INTEGER = 2**63 - 1  # integer config values beyond int64 cannot reach a tensor or a kernel
MAX_INPUT_DIMS = 2**20


def _integer(
    ctx: _Context, cfg: Mapping[str, Any], key: str, default: Optional[int], minimum: int = 0
) -> int:
    value = cfg.get(key, default)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        ctx.fail(f"{key} must be an integer >= {minimum}, got {value!r:.40}")
    if value > MAX_INTEGER:
        ctx.fail(f"{key} must be at most 2^63 - 1, got {value!r:.40}")
    return value


def _number(ctx: _Context, cfg: Mapping[str, Any], key: str, default: float) -> float:
    value = cfg.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        ctx.fail(f"{key} must be a finite number, got {value!r}")
    return float(value)


def _word(
    ctx: _Context, cfg: Mapping[str, Any], key: str, default: str, choices: Tuple[str, ...]
) -> str:
    """A case-insensitive choice, returned in its canonical spelling from ``choices``."""
    value = cfg.get(key, default)
    lookup = {c.lower(): c for c in choices}
    if not isinstance(value, str) or value.strip().lower() not in lookup:
        ctx.fail(f"{key} must be one of {', '.join(choices)} (case-insensitive), got {value!r}")
    return lookup[value.strip().lower()]


def _otype(cfg: Mapping[str, Any], path: str) -> str:
    name = cfg.get("otype", "OneBlob")  # tiny-cuda-nn's default
    canonical = _CANONICAL.get(name.strip().lower()) if isinstance(name, str) else None
    if canonical is None:
        raise ValueError(
            f"encoding config {path}: unknown otype {name!r}; allowed otypes (case-insensitive): "
            f"{', '.join(OTYPE_KEYS)}{did_you_mean(str(name), OTYPE_KEYS)}"
        )
    return canonical


def _check_keys(ctx: _Context, cfg: Mapping[str, Any], nested: bool) -> None:
    allowed = ("otype", *OTYPE_KEYS[ctx.otype], *(NESTED_KEYS if nested else ()))
    for key in cfg:
        if key not in allowed:
            hint = " (it belongs in a Composite's nested configs)" if key in NESTED_KEYS else ""
            suggestion = "" if hint else did_you_mean(key, allowed)
            ctx.fail(f"unknown key {key!r}{hint}; allowed keys: {', '.join(allowed)}{suggestion}")


# ----------------------------------------------------------------------------- tiny-cuda-nn padding


def alignment(module: nn.Module) -> int:
    """The output alignment tiny-cuda-nn requires of an encoding: ``n_features_per_level`` for a
    grid, the lcm over the nested encodings of a composite, 1 otherwise."""
    if isinstance(module, HashGrid):
        return module.num_features_per_level
    if isinstance(module, Padded):
        return alignment(module.encoder)
    if isinstance(module, Composite):
        return math.lcm(*(alignment(e) for e in module.encoders))
    return 1


def tcnn_pad(module: Encoder, n: int) -> Encoder:
    """``module`` with ``n`` more output columns, placed and valued as tiny-cuda-nn pads that encoding.

    Spherical harmonics (tcnn convention) pad in front with ones, grids at the back with zeros,
    every other encoding at the back with ones; a concatenating composite pads its last nested
    encoding, a reducing one each nested encoding. ``n = 0`` returns ``module`` itself.
    """
    if n == 0:
        return module
    if isinstance(module, Composite):
        targets = (
            [len(module.encoders) - 1]
            if module.reduction == "concatenation"
            else range(len(module.encoders))
        )
        for i in targets:
            module.encoders[i] = tcnn_pad(cast(Encoder, module.encoders[i]), n)
        module.out_dim += n
        return module
    inner = module.encoder if isinstance(module, Padded) else module
    front = isinstance(inner, SphericalHarmonics) and inner.convention == "tcnn"
    value = 0.0 if isinstance(inner, HashGrid) else 1.0
    if isinstance(module, Padded):
        module.n_front += n if front else 0
        module.n_back += 0 if front else n
        module.out_dim += n
        return module
    return Padded(module, n_front=n if front else 0, n_back=0 if front else n, value=value)


# ----------------------------------------------------------------------------- builders


def _grid(ctx: _Context, cfg: Mapping[str, Any], n_dims: int) -> Encoder:
    default_type = {"TiledGrid": "Tiled", "DenseGrid": "Dense"}.get(ctx.otype, "Hash")
    if (
        isinstance(cfg.get("type"), str) and cfg["type"].strip().lower() == "tile"
    ):  # tiny-cuda-nn's alias
        cfg = {**cfg, "type": "Tiled"}
    grid_type = _word(ctx, cfg, "type", default_type, ("Hash", "Dense", "Tiled"))
    n_features_per_level = _integer(ctx, cfg, "n_features_per_level", 2, minimum=1)
    count_keys = [k for k in ("n_features", "n_grid_features") if k in cfg]
    if count_keys:
        if "n_levels" in cfg:
            ctx.fail(f"give n_levels or {count_keys[0]}, not both (one determines the other)")
        n_features = _integer(ctx, cfg, count_keys[0], None, minimum=n_features_per_level)
        n_levels = n_features // n_features_per_level
    else:
        n_levels = _integer(ctx, cfg, "n_levels", 16, minimum=1)
    log2_hashmap_size = _integer(ctx, cfg, "log2_hashmap_size", 19, minimum=1)
    base_resolution = _integer(ctx, cfg, "base_resolution", 16, minimum=1)
    if grid_type == "Dense" and n_levels > 1:  # tiny-cuda-nn's default, computed in float32
        f32 = np.float32
        default_scale = float(
            f32(np.exp(f32(f32(np.log(f32(256.0) / f32(base_resolution))) / f32(n_levels - 1))))
        )
    else:  # a single level's resolution does not depend on per_level_scale
        default_scale = 2.0
    per_level_scale = _number(ctx, cfg, "per_level_scale", default_scale)
    interpolation = _word(ctx, cfg, "interpolation", "Linear", ("Nearest", "Linear", "Smoothstep"))
    _word(ctx, cfg, "hash", "CoherentPrime", ("CoherentPrime",))
    if cfg.get("stochastic_interpolation", False) is not False:
        ctx.fail(
            f"stochastic_interpolation must be false (not supported), got {cfg['stochastic_interpolation']!r}"
        )
    return HashGrid(
        n_dims,
        n_levels,
        n_features_per_level,
        log2_hashmap_size,
        base_resolution,
        per_level_scale,
        interpolation.lower(),
        convention="tcnn",
        grid_type=grid_type.lower(),
        generator=ctx.generator,
    )


def _composite(ctx: _Context, cfg: Mapping[str, Any], n_dims: int) -> Encoder:
    nested = cfg.get("nested")
    if not isinstance(nested, list) or not nested:
        ctx.fail(f"nested must be a non-empty list of encoding configs, got {nested!r}")
    reduction = _word(
        ctx, cfg, "reduction", "Concatenation", ("Concatenation", "Sum", "Product")
    ).lower()
    explicit_begins = any(isinstance(c, Mapping) and "dims_to_encode_begin" in c for c in nested)
    specified = 0
    for i, child in enumerate(nested):
        if not isinstance(child, Mapping):
            ctx.fail(f"nested[{i}] must be an encoding config (a dict), got {type(child).__name__}")
        if "n_dims_to_encode" in child:
            child_ctx = _Context(
                f"{ctx.path}.nested[{i}]", _otype(child, f"{ctx.path}.nested[{i}]"), ctx.generator
            )
            specified += _integer(child_ctx, child, "n_dims_to_encode", None)
    unspecified = [i for i, c in enumerate(nested) if "n_dims_to_encode" not in c]
    if not explicit_begins and specified > n_dims:
        ctx.fail(
            f"the nested n_dims_to_encode add up to {specified} but the composite encodes {n_dims} dims; "
            "nested encodings must not encode more dims than the composite"
        )
    if len(unspecified) > 1 or (unspecified and explicit_begins):
        ctx.fail(
            "n_dims_to_encode may be left out of one nested encoding only (it gets the remaining dims), and "
            f"not together with dims_to_encode_begin; it is missing from nested{unspecified}"
        )
    encoders: List[Encoder] = []
    begins: List[int] = []
    offset = 0
    for i, child in enumerate(nested):
        path = f"{ctx.path}.nested[{i}]"
        child_ctx = _Context(path, _otype(child, path), ctx.generator)
        if "dims_to_encode_begin" in child:
            offset = _integer(child_ctx, child, "dims_to_encode_begin", None)
        width = child["n_dims_to_encode"] if "n_dims_to_encode" in child else n_dims - specified
        width = _integer(child_ctx, {"n_dims_to_encode": width}, "n_dims_to_encode", None)
        if offset + width > n_dims:
            child_ctx.fail(
                f"encodes input dims {offset}..{offset + width - 1} but the composite has only {n_dims} "
                f"(n_dims_to_encode={width}, dims_to_encode_begin={offset})"
            )
        if width > 0:
            # tiny-cuda-nn creates nested encodings with alignment 1: a nested composite pads to the
            # lcm of its own nested grids' n_features_per_level.
            encoder = _build(child, width, child_ctx, nested=True)
            encoders.append(
                tcnn_pad(
                    encoder, next_multiple(encoder.out_dim, alignment(encoder)) - encoder.out_dim
                )
            )
            begins.append(offset)
        offset += width
    if not encoders:
        ctx.fail("every nested encoding encodes 0 dims; nothing to encode")
    if (
        reduction == "concatenation"
    ):  # pad each output to the alignment the next nested encoding needs
        so_far = 0
        for i in range(len(encoders) - 1):
            width = encoders[i].out_dim
            target = next_multiple(so_far + width, alignment(encoders[i + 1]))
            encoders[i] = tcnn_pad(encoders[i], target - so_far - width)
            so_far += encoders[i].out_dim
    else:
        align = math.lcm(*(alignment(e) for e in encoders))
        encoders = [tcnn_pad(e, next_multiple(e.out_dim, align) - e.out_dim) for e in encoders]
        widths = [e.out_dim for e in encoders]
        if len(set(widths)) > 1:
            ctx.fail(
                f"reduction {reduction!r} needs nested encodings of one output width, got {widths}"
            )
    return Composite(n_dims, encoders, begins, reduction=reduction)


def _nrc(ctx: _Context, cfg: Mapping[str, Any], n_dims: int) -> Encoder:
    n_frequencies = _integer(ctx, cfg, "n_frequencies", 12, minimum=1)
    n_bins = _integer(ctx, cfg, "n_bins", 4, minimum=1)
    composite = {
        "otype": "Composite",
        "nested": [
            {"n_dims_to_encode": 3, "otype": "TriangleWave", "n_frequencies": n_frequencies},
            {"n_dims_to_encode": 5, "otype": "OneBlob", "n_bins": n_bins},
            {"otype": "Identity"},
        ],
    }
    return _composite(_Context(ctx.path, "Composite", ctx.generator), composite, n_dims)


def _coordnet(ctx: _Context, cfg: Mapping[str, Any], n_dims: int) -> Encoder:
    cls = {
        "PositionalEncoding": PositionalEncoding,
        "GaussianFourierFeatures": GaussianFourierFeatures,
        "BasicFourier": BasicFourier,
    }[ctx.otype]
    kwargs = {k: v for k, v in cfg.items() if k in OTYPE_KEYS[ctx.otype]}
    if ctx.otype == "GaussianFourierFeatures" and "seed" not in kwargs:
        kwargs["generator"] = ctx.generator
    return cls(n_dims, **kwargs)


def _simple(ctx: _Context, cfg: Mapping[str, Any], n_dims: int) -> Encoder:
    otype = ctx.otype
    if otype == "Identity":
        return Identity(n_dims, _number(ctx, cfg, "scale", 1.0), _number(ctx, cfg, "offset", 0.0))
    if otype == "Empty":
        return Empty(n_dims)
    if otype == "Frequency":
        return tcnn_frequency(n_dims, _integer(ctx, cfg, "n_frequencies", 12, 1))
    if otype == "TriangleWave":
        return TriangleWave(n_dims, _integer(ctx, cfg, "n_frequencies", 12, 1))
    if otype == "OneBlob":
        return OneBlob(n_dims, _integer(ctx, cfg, "n_bins", 16, 1))
    degree = cfg.get("degree", 4)
    if isinstance(degree, bool) or not isinstance(degree, int) or not 1 <= degree <= 8:
        ctx.fail(f"degree must be an integer between 1 and 8, got {degree!r}")
    if n_dims != 3:
        ctx.fail(f"encodes 3D directions: it needs 3 input dims, got {n_dims}")
    return SphericalHarmonics(3, degree, convention="tcnn")


_BUILDERS: Dict[str, Callable[[_Context, Mapping[str, Any], int], Encoder]] = {
    **dict.fromkeys(
        ("Identity", "Empty", "Frequency", "TriangleWave", "OneBlob", "SphericalHarmonics"), _simple
    ),
    **dict.fromkeys(GRID_OTYPES, _grid),
    "Composite": _composite,
    "NRC": _nrc,
    "OneBlobFrequency": _nrc,
    **dict.fromkeys(("PositionalEncoding", "GaussianFourierFeatures", "BasicFourier"), _coordnet),
}


#: Deepest Composite nesting accepted (real configs nest once or twice); deeper is refused before recursing.
MAX_NESTING = 64


#: coordnet's argument names -> the tiny-cuda-nn config keys they are read from.
_TCNN_KEYS = {
    "num_levels": "n_levels",
    "num_features_per_level": "n_features_per_level",
    "log2_table_size": "log2_hashmap_size",
    "min_resolution": "base_resolution",
    "growth": "per_level_scale",
    "num_bins": "n_bins",
    "num_frequencies": "n_frequencies",
}


def _config_names(otype: str, message: str) -> str:
    """``message`` of a constructor error with coordnet's argument names replaced by the config's keys
    (tiny-cuda-nn otypes only: coordnet's own otypes take the constructors' names)."""
    if otype not in TCNN_OTYPES:
        return message
    return names_in_message(message, _TCNN_KEYS)


def _build(cfg: Mapping[str, Any], n_dims: int, ctx: _Context, nested: bool) -> Encoder:
    if ctx.path.count(".nested[") > MAX_NESTING:
        ctx.fail(f"Composite configs nested more than {MAX_NESTING} deep")
    _check_keys(ctx, cfg, nested)
    try:
        module = _BUILDERS[ctx.otype](ctx, cfg, n_dims)
    except (TypeError, ValueError) as error:
        if str(error).startswith("encoding config "):
            raise
        ctx.fail(_config_names(ctx.otype, str(error)))
    module.config = {"otype": ctx.otype, **{k: v for k, v in cfg.items() if k != "otype"}}
    return module


def from_config(
    config: ConfigLike,
    n_input_dims: int,
    *,
    seed: int = 0,
    generator: Optional[torch.Generator] = None,
) -> Encoder:
    """Build the encoder a tiny-cuda-nn encoding config describes: ``(..., n_input_dims) -> (..., out_dim)``.

    Args:
        config: a dict, a JSON string, or a path to a JSON file. A whole tiny-cuda-nn model
            config (with an ``"encoding"`` section and no ``otype``) gives its encoding.
        n_input_dims: the number of input dims (tiny-cuda-nn's ``n_input_dims``).
        seed: seeds one generator shared, in config order, by the randomly initialised encoders
            (grids, Gaussian features without their own ``seed``); ``generator`` replaces it.

    Returns:
        an encoder module with ``in_dim = n_input_dims`` and ``out_dim`` equal to tiny-cuda-nn's
        ``n_output_dims``; ``module.config`` holds the config it was built from.

    Raises:
        ValueError: unknown otype or key, a value of the wrong kind or range, bad
            ``n_dims_to_encode``; the message names the config path (``encoding.nested[1]``),
            the otype and the key. TypeError: ``config`` is not a dict/JSON object.
    """
    data = load_config(config)
    if "otype" not in data and ("encoding" in data or "network" in data):  # a whole model config
        if not isinstance(data.get("encoding"), Mapping):
            raise ValueError(
                f"model config: 'encoding' must be an encoding config (a dict), got {data.get('encoding')!r}"
            )
        data = dict(data["encoding"])
    check_count("n_input_dims", n_input_dims, maximum=MAX_INPUT_DIMS)
    if generator is None:
        generator = torch.Generator().manual_seed(check_seed("seed", seed))
    elif not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    ctx = _Context("encoding", _otype(data, "encoding"), generator)
    if "n_dims_to_encode" in data and data["n_dims_to_encode"] != n_input_dims:
        ctx.fail(
            f"n_dims_to_encode={data['n_dims_to_encode']!r} at the top level must equal n_input_dims={n_input_dims} "
            "(use a Composite to encode a subset of the dims)"
        )
    top = {k: v for k, v in data.items() if k != "n_dims_to_encode"}
    return _build(top, n_input_dims, ctx, nested=False)


__all__ = ["OTYPE_KEYS", "TCNN_OTYPES", "alignment", "from_config", "load_config", "tcnn_pad"]
