"""Model specs: ``"gauss:sigma=10+relu:width=128"`` -> :class:`ModelSpec` -> :class:`CoordinateNet`.

A string spec is ``PART`` or ``ENCODER+NET``, each ``PART = NAME[:key=value,key=value...]``
with ``NAME`` one of the named encoders or nets of :mod:`coordnet.nets.named`. An encoder alone gets the
default net (``relu``: width 256, depth 3); a net alone gets no encoding (``none``), so
``relu`` is the same model as ``none``. Values are read as the key's kind needs: integers,
numbers (``10``, ``0.5``, ``1e+3``), ``true``/``false``, or words. Examples::

    none    basic    pe:num_frequencies=10    gauss:sigma=10,num_frequencies=256
    siren:omega=30    relu:width=128,depth=3    gauss:sigma=10+relu:width=128,depth=2    pe+siren
    hash:num_levels=8,log2_table_size=15+relu:width=64,depth=2    hash:levels=8,F=2,T=15,N_min=16,b=1.5
    sh:degree=4    oneblob:num_bins=16    triwave:num_frequencies=8

A dict spec (also the form of :meth:`ModelSpec.to_dict` and of TOML spec files)::

    {"encoder": {"type": "gauss", "sigma": 10}, "net": {"type": "relu", "width": 128}}

Either section may be left out (defaults ``none`` and ``relu``) or given as a bare name.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Mapping, NoReturn, Optional, Tuple, Union

from coordnet.config_errors import ConfigError, config_error
from coordnet.config_files import parse_nested, read_text_file
from coordnet.memory_limit import check_memory
from coordnet.nets.coordinate_net import CoordinateNet, Domain, module_size
from coordnet.nets.named import NAMED_ENCODERS, NAMED_NETS, NamedPart, Param
from coordnet.validation import check_count

try:
    import tomllib  # Python >= 3.11
except ModuleNotFoundError:  # pragma: no cover - Python < 3.11
    try:
        import tomli as tomllib  # type: ignore[no-redef]
    except ModuleNotFoundError:
        tomllib = None  # type: ignore[assignment]

DEFAULT_ENCODER = "none"
DEFAULT_NET = "relu"
SpecLike = Union[str, Mapping[str, Any], "ModelSpec", "os.PathLike[str]"]

# '+' separates parts, except inside a number's exponent ("1e+3").
_PART_SEPARATOR = re.compile(r"(?<![0-9.][eE])\+")
_TRUE, _FALSE = ("true",), ("false",)


def _valid_names() -> str:
    return f"valid encoders: {', '.join(NAMED_ENCODERS)}; valid nets: {', '.join(NAMED_NETS)}"


def _article(role: str) -> str:
    return f"an {role}" if role == "encoder" else f"a {role}"


def _fail(spec: str, part: str, problem: str) -> NoReturn:
    config_error("model spec", f"{spec}: part {part!r}", problem)


def _coerce(value: Any, param: Param, key: str, fail: Callable[[str], NoReturn]) -> Any:
    """``value`` (a string from a spec string, or a typed value from a dict) as ``param.kind``."""
    kind = param.kind
    text = isinstance(value, str)
    word = value.strip().lower() if text else None
    if kind == "int":
        if text:
            try:
                return int(value.strip())
            except ValueError:
                pass
        elif isinstance(value, int) and not isinstance(value, bool):
            return value
        fail(f"key {key!r} needs an integer, got {value!r}")
    if kind == "float":
        number: Optional[float] = None
        if text:
            try:
                number = float(value.strip())
            except ValueError:
                pass
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            number = float(value)
        if number is None or not math.isfinite(number):
            fail(f"key {key!r} needs a finite number, got {value!r}")
        return number
    if kind in ("bool", "bool|str"):
        if isinstance(value, bool):
            return value
        if word in _TRUE + _FALSE:
            return word in _TRUE
        if kind == "bool":
            fail(f"key {key!r} needs true or false, got {value!r}")
    if text and value.strip():
        return value.strip()
    fail(f"key {key!r} needs a {'word' if kind == 'str' else 'word or true/false'}, got {value!r}")


def _canonical_args(
    part: NamedPart, items: Iterable[Tuple[str, Any]], fail: Callable[[str], NoReturn]
) -> Dict[str, Any]:
    """Resolve aliases, check kinds and duplicates; keys in the constructor's order."""
    args: Dict[str, Any] = {}
    given_as: Dict[str, str] = {}
    for key, value in items:
        targets = part.resolve(key)
        if targets is None:
            fail(
                f"unknown key {key!r} for {part.role} {part.name!r}; valid keys: {part.describe_keys()}"
            )
        for target in targets:
            if target in args:
                fail(f"key {target!r} given twice (as {given_as[target]!r} and {key!r})")
            param = part.param(target)
            if param is None:  # pragma: no cover - resolve() names only this part's own keys
                raise KeyError(target)
            args[target] = _coerce(value, param, key, fail)
            given_as[target] = key
    ordered = {p.name: args[p.name] for p in part.params if p.name in args}
    _check_ranges(part, ordered, given_as, fail)
    return ordered


#: Largest finite float32 and int64: spec values beyond them cannot reach the tensors.
FLOAT32_MAX = 3.4028234663852886e38
INT64_MAX = 2**63 - 1
#: The largest input-to-encoding multiplier (a frequency times its factor) kept: 2^120 leaves
#: 2^8 of float32 headroom for 2π and coordinates outside [-1, 1] before sin's argument overflows.
MAX_LOG2_FREQUENCY = 120
#: Gaussian features compute 2π·B·x with B ~ N(0, sigma²): 2π|B| stays below 2^120 for |B| up to ~20 sigma.
MAX_GAUSS_SIGMA = 1e34
#: Nets: the widest and deepest accepted at parse time (the memory estimate bounds the rest).
MAX_WIDTH, MAX_DEPTH = 2**24, 1000
#: Hash grids index their finest level with 32-bit integers.
MAX_HASH_RESOLUTION = 2**31


def _default(part: NamedPart, name: str) -> Any:
    import inspect

    try:
        param = part.param(name)
        parameter = inspect.signature(part.build).parameters.get(param.argument if param else name)
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return None
    return (
        None
        if parameter is None or parameter.default is inspect.Parameter.empty
        else parameter.default
    )


def _check_ranges(
    part: NamedPart,
    args: Dict[str, Any],
    given_as: Mapping[str, str],
    fail: Callable[[str], NoReturn],
) -> None:
    """Refuse values that overflow float32/int64 or make the encoding overflow, naming the key."""
    for name, value in args.items():
        key = given_as.get(name, name)
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > INT64_MAX:
            fail(f"key {key!r} = {value} does not fit a 64-bit integer")
        if isinstance(value, float) and abs(value) > FLOAT32_MAX:
            fail(f"key {key!r} = {value!r} overflows float32 (largest {FLOAT32_MAX:.4g})")
    if part.role == "net":
        for name, limit in (("width", MAX_WIDTH), ("depth", MAX_DEPTH)):
            if isinstance(args.get(name), int) and args[name] > limit:
                fail(f"key {given_as.get(name, name)!r} = {args[name]} is larger than {limit}")
        return
    if (
        part.name == "gauss"
        and isinstance(args.get("sigma"), float)
        and abs(args["sigma"]) > MAX_GAUSS_SIGMA
    ):
        fail(
            f"key {given_as.get('sigma', 'sigma')!r} = {args['sigma']!r} makes 2π·B·x overflow float32 "
            f"(at most {MAX_GAUSS_SIGMA:g})"
        )
    if part.name == "pe":
        count = args.get("num_frequencies", _default(part, "num_frequencies"))
        high = args.get("max_log2_freq")
        name = "max_log2_freq" if high is not None else "num_frequencies"
        high = float(count - 1) if high is None and isinstance(count, int) else high
        factor = args.get("factor", _default(part, "factor")) or 1.0
        if isinstance(high, float) and high + math.log2(abs(factor)) > MAX_LOG2_FREQUENCY:
            fail(
                f"key {given_as.get(name, name)!r} = {args.get(name, count)} gives frequencies up to 2^{high:g} "
                f"(times {factor:.4g}), which overflow float32 in the encoding; the largest allowed is "
                f"2^{MAX_LOG2_FREQUENCY - math.log2(abs(factor)):.4g}"
            )
    if part.name == "triwave":
        count = args.get("num_frequencies")
        if isinstance(count, int) and count - 1 > MAX_LOG2_FREQUENCY:
            fail(
                f"key {given_as.get('num_frequencies', 'num_frequencies')!r} = {count} gives frequencies up to "
                f"2^{count - 1}, which overflow float32; at most {MAX_LOG2_FREQUENCY + 1}"
            )
    if part.name == "hash":
        levels = args.get("num_levels", _default(part, "num_levels"))
        base = args.get("min_resolution", _default(part, "min_resolution"))
        scale = args.get("growth", _default(part, "growth"))
        if (
            all(
                isinstance(v, (int, float)) and not isinstance(v, bool)
                for v in (levels, base, scale)
            )
            and levels >= 1
            and base >= 1
            and scale >= 1
        ):
            log2_finest = math.log2(base) + (levels - 1) * math.log2(scale)
            if log2_finest > math.log2(MAX_HASH_RESOLUTION):
                name = next(
                    (n for n in ("growth", "num_levels", "min_resolution") if n in args),
                    "growth",
                )
                fail(
                    f"key {given_as.get(name, name)!r} = {args.get(name, scale)!r} makes the finest grid "
                    f"resolution min_resolution·growth^(num_levels-1) = 2^{log2_finest:.4g}, beyond "
                    f"2^31"
                )


def _named_part(name: Any, fail: Callable[[str], NoReturn]) -> NamedPart:
    if not isinstance(name, str) or not name.strip():
        fail(f"expected an encoder or net name, got {name!r}; {_valid_names()}")
    key = name.strip().lower()
    part = NAMED_ENCODERS.get(key) or NAMED_NETS.get(key)
    if part is None:
        fail(f"unknown encoder or net {name.strip()!r}; {_valid_names()}")
    return part


def _format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    return str(value)


def _format_part(part: NamedPart, args: Mapping[str, Any]) -> str:
    if not args:
        return part.name
    items: List[Tuple[str, Any]] = list(args.items())
    for (
        alias,
        targets,
    ) in part.aliases.items():  # omega=30 rather than first_omega=30,hidden_omega=30
        values = [args.get(t, None) for t in targets]
        if (
            len(targets) > 1
            and all(t in args for t in targets)
            and all(v == values[0] for v in values)
        ):
            first = next(i for i, (k, _) in enumerate(items) if k in targets)
            items = [item for item in items if item[0] not in targets]
            items.insert(first, (alias, values[0]))
    return part.name + ":" + ",".join(f"{k}={_format_value(v)}" for k, v in items)


@dataclass
class ModelSpec:
    """Which encoder and net to build, with which constructor arguments.

    ``encoder``/``net`` are names of :data:`~coordnet.nets.named.NAMED_ENCODERS` and
    :data:`~coordnet.nets.named.NAMED_NETS`; the argument dicts hold canonical keys
    only (aliases resolved, values of the right kind). Validated on construction.

    Attributes:
        label: canonical one-line spec (``"gauss:sigma=10"``); ``parse_spec(label)`` gives
            back an equal spec. Defaults are left out: ``"none"`` for ``none+relu``.
    """

    encoder: str = DEFAULT_ENCODER
    encoder_args: Dict[str, Any] = field(default_factory=dict)
    net: str = DEFAULT_NET
    net_args: Dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        where = f"ModelSpec(encoder={self.encoder!r}, net={self.net!r})"
        for role, name_attr, args_attr in (
            ("encoder", "encoder", "encoder_args"),
            ("net", "net", "net_args"),
        ):
            name, args = getattr(self, name_attr), getattr(self, args_attr)

            def fail(problem: str, _part: str = role) -> NoReturn:
                _fail(where, _part, problem)

            part = _named_part(name, fail)
            if part.role != role:
                fail(
                    f"{part.name!r} is {_article(part.role)}, not {_article(role)}; {_valid_names()}"
                )
            if not isinstance(args, Mapping):
                fail(f"{args_attr} must be a dict, got {type(args).__name__}")
            setattr(self, name_attr, part.name)
            setattr(self, args_attr, _canonical_args(part, args.items(), fail))

    @property
    def encoder_part(self) -> NamedPart:
        return NAMED_ENCODERS[self.encoder]

    @property
    def net_part(self) -> NamedPart:
        return NAMED_NETS[self.net]

    @property
    def label(self) -> str:
        encoder = _format_part(self.encoder_part, self.encoder_args)
        net = _format_part(self.net_part, self.net_args)
        default_encoder = self.encoder == DEFAULT_ENCODER and not self.encoder_args
        default_net = self.net == DEFAULT_NET and not self.net_args
        if default_net:
            return encoder
        if default_encoder:
            return net
        return f"{encoder}+{net}"

    def __str__(self) -> str:
        return self.label

    def to_dict(self) -> Dict[str, Dict[str, Any]]:
        """``{"encoder": {"type": ..., **encoder_args}, "net": {"type": ..., **net_args}}`` (JSON/TOML-ready)."""
        return {
            "encoder": {"type": self.encoder, **self.encoder_args},
            "net": {"type": self.net, **self.net_args},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ModelSpec":
        """Inverse of :meth:`to_dict`; accepts any dict spec (see the module docstring)."""
        return _from_mapping(data, repr(data))


def _from_mapping(data: Any, source: str) -> ModelSpec:
    if not isinstance(data, Mapping):
        raise ValueError(
            f"model spec {source}: expected a table with sections 'encoder' and 'net', got {type(data).__name__}"
        )
    unknown = [k for k in data if k not in ("encoder", "net")]
    if unknown:
        raise ValueError(
            f"model spec {source}: unknown section(s) {', '.join(map(repr, unknown))}; valid sections: encoder, net"
        )
    parsed: Dict[str, Tuple[str, Dict[str, Any]]] = {}
    for role, default in (("encoder", DEFAULT_ENCODER), ("net", DEFAULT_NET)):

        def fail(problem: str, _role: str = role) -> NoReturn:
            _fail(source, _role, problem)

        section = data.get(role, default)
        if isinstance(section, str):
            section = {"type": section}
        if not isinstance(section, Mapping):
            fail(f"expected an encoder or net name or a table with 'type', got {section!r}")
        if "type" not in section:
            fail(f"missing 'type' (the encoder or net name); {_valid_names()}")
        part = _named_part(section["type"], fail)
        if part.role != role:
            fail(f"{part.name!r} is {_article(part.role)}, not {_article(role)}; {_valid_names()}")
        items = [(str(k), v) for k, v in section.items() if k != "type"]
        parsed[role] = (part.name, _canonical_args(part, items, fail))
    return ModelSpec(parsed["encoder"][0], parsed["encoder"][1], parsed["net"][0], parsed["net"][1])


def _parse_part(text: str, spec: str) -> Tuple[NamedPart, Dict[str, Any]]:
    part = text.strip()

    def fail(problem: str) -> NoReturn:
        _fail(spec, part, problem)

    if not part:
        fail(
            f"empty part; a spec is ENCODER, NET or ENCODER+NET, each NAME[:key=value,...]; {_valid_names()}"
        )
    name, colon, rest = part.partition(":")
    named = _named_part(name, fail)
    items: List[Tuple[str, str]] = []
    if colon:
        for item in rest.split(","):
            key, equals, value = item.partition("=")
            key = key.strip()
            if not equals or not key or not value.strip():
                fail(
                    f"{item.strip()!r} is not key=value; write {named.name}:key=value,key=value "
                    f"with keys {named.describe_keys()}"
                )
            items.append((key, value))
    return named, _canonical_args(named, items, fail)


def _parse_string(text: str) -> ModelSpec:
    spec = repr(text)
    parts = _PART_SEPARATOR.split(text)
    if len(parts) > 2:
        _fail(
            spec,
            text.strip(),
            f"{len(parts)} parts; a spec is ENCODER, NET or ENCODER+NET; {_valid_names()}",
        )
    parsed = [_parse_part(p, spec) for p in parts]
    encoder, encoder_args = NAMED_ENCODERS[DEFAULT_ENCODER], {}
    net, net_args = NAMED_NETS[DEFAULT_NET], {}
    if len(parsed) == 1:
        part, args = parsed[0]
        if part.role == "encoder":
            encoder, encoder_args = part, args
        else:
            net, net_args = part, args
    else:
        (first, first_args), (second, second_args) = parsed
        names = f"{first.name!r} and {second.name!r}"
        if first.role == second.role == "encoder":
            problem = (
                f"two encoders ({names}); the second part must be a net: {', '.join(NAMED_NETS)}"
            )
            _fail(spec, parts[1].strip(), problem)
        if first.role == second.role == "net":
            problem = f"two nets ({names}); the first part must be an encoder: {', '.join(NAMED_ENCODERS)}"
            _fail(spec, parts[0].strip(), problem)
        if first.role == "net":
            problem = f"net before encoder ({names}); write ENCODER+NET, e.g. '{second.name}+{first.name}'"
            _fail(spec, parts[0].strip(), problem)
        encoder, encoder_args, net, net_args = first, first_args, second, second_args
    return ModelSpec(encoder.name, encoder_args, net.name, net_args)


def parse_spec(spec: SpecLike) -> ModelSpec:
    """A string spec, a dict spec, a TOML file (a path, or a string ending in ``.toml``) or a
    :class:`ModelSpec` -> :class:`ModelSpec` (a copy).

    Raises ``ValueError`` naming the spec, the part and the problem (unknown encoder, net or key,
    malformed ``key=value``, a value of the wrong kind, two encoders or two nets), with the
    valid names or keys.
    """
    if isinstance(spec, ModelSpec):
        return ModelSpec(spec.encoder, dict(spec.encoder_args), spec.net, dict(spec.net_args))
    if isinstance(spec, str):
        if spec.strip().lower().endswith(".toml"):
            return load_spec_file(spec.strip())
        return _parse_string(spec)
    if isinstance(spec, os.PathLike):
        return load_spec_file(spec)
    if isinstance(spec, Mapping):
        return _from_mapping(spec, repr(spec))
    raise TypeError(
        f"spec must be a string, a dict, a path or a ModelSpec, got {type(spec).__name__}"
    )


def load_spec_file(path: Union[str, "os.PathLike[str]"]) -> ModelSpec:
    """Read a TOML spec file with ``[encoder]`` and ``[net]`` tables (``type = "gauss"``, keys as in a dict spec).

    A missing or unreadable file, invalid TOML, or an invalid spec raise ``ValueError``
    naming the file.
    """
    name = os.fspath(path)
    if tomllib is None:  # pragma: no cover - Python < 3.11 without tomli
        raise ModuleNotFoundError(
            f"reading the spec file {name!r} needs the 'tomli' package on Python < 3.11"
        )
    try:
        text = read_text_file(name, "spec file")
        data = parse_nested(tomllib.loads, text, f"spec file {name!r}")
    except OSError as error:
        raise ConfigError(
            "spec file", repr(name), f"cannot read it: {error.strerror or error}"
        ) from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError("spec file", repr(name), f"not valid TOML: {error}") from error
    return _from_mapping(data, f"file {name!r}")


#: The largest ``in_dim``/``out_dim`` of :func:`build_model`: coordinate networks map a few
#: coordinates to a few channels; beyond this the meta-device size estimate itself overflows.
MAX_MODEL_DIM = 2**20


def _check_dim(name: str, value: Any) -> int:
    return check_count(name, value, maximum=MAX_MODEL_DIM)


def build_model(
    spec: SpecLike,
    in_dim: int,
    out_dim: int,
    output_activation: str = "none",
    signal_domain: Domain = (0.0, 1.0),
) -> CoordinateNet:
    """Build the :class:`CoordinateNet` a spec describes: ``(..., in_dim) -> (..., out_dim)``.

    The encoder is called as ``Encoder(in_dim, **encoder_args)`` with each key under its
    constructor name (:meth:`~coordnet.nets.named.NamedPart.constructor_kwargs`; ``none`` without keys
    builds no encoder at all, so the net's own ``input_domain`` decides the coordinate
    mapping: raw coordinates for ``relu``, ``[-1, 1]`` for ``siren``); the net as
    ``Net(encoder_out_dim, out_dim, output_activation=output_activation, **net_args)``.
    The parsed spec is kept as ``model.spec``. Invalid argument values raise ``ValueError``
    naming the spec and the part.
    """
    model_spec = parse_spec(spec)
    in_dim = _check_dim("in_dim", in_dim)
    out_dim = _check_dim("out_dim", out_dim)
    label = repr(model_spec.label)
    if not _building_on_meta():
        check_model_memory(model_spec, in_dim, out_dim, output_activation, signal_domain)
    encoder = None
    if model_spec.encoder != DEFAULT_ENCODER or model_spec.encoder_args:
        part = model_spec.encoder_part
        try:
            encoder = part.build(in_dim, **part.constructor_kwargs(model_spec.encoder_args))
        except (ValueError, TypeError) as error:
            raise ConfigError(
                "model spec",
                f"{label}: part {_format_part(part, model_spec.encoder_args)!r}",
                part.spec_names(str(error)),
            ) from error
    net_in = in_dim if encoder is None else module_size(encoder, "out_dim")
    part = model_spec.net_part
    try:
        net = part.build(
            net_in,
            out_dim,
            output_activation=output_activation,
            **part.constructor_kwargs(model_spec.net_args),
        )
    except (ValueError, TypeError) as error:
        raise ConfigError(
            "model spec",
            f"{label}: part {_format_part(part, model_spec.net_args)!r}",
            part.spec_names(str(error)),
        ) from error
    model = CoordinateNet(encoder, net, signal_domain=signal_domain)
    model.spec = model_spec
    return model


def _building_on_meta() -> bool:
    import torch

    return torch.empty(0).device.type == "meta"


def model_bytes(
    spec: SpecLike,
    in_dim: int,
    out_dim: int,
    output_activation: str = "none",
    signal_domain: Domain = (0.0, 1.0),
) -> Optional[Tuple[int, int]]:
    """``(parameters, bytes of parameters and buffers)`` of the model ``spec`` builds, found by
    building it on PyTorch's ``meta`` device (nothing is allocated); ``None`` if that fails."""
    import warnings

    import torch

    try:
        with warnings.catch_warnings(), torch.device("meta"):
            warnings.simplefilter("ignore")
            model = build_model(spec, in_dim, out_dim, output_activation, signal_domain)
    except (ValueError, TypeError):
        raise
    except Exception:  # an encoder that cannot be built without data: no estimate
        return None
    tensors = [*model.parameters(), *model.buffers()]
    return sum(p.numel() for p in model.parameters()), sum(
        t.numel() * t.element_size() for t in tensors
    )


def check_model_memory(
    spec: SpecLike,
    in_dim: int,
    out_dim: int,
    output_activation: str = "none",
    signal_domain: Domain = (0.0, 1.0),
) -> None:
    """Raise a one-line :class:`~coordnet.memory_limit.MemoryLimitError` naming the spec when
    its model's parameters and buffers alone exceed the memory limit (before allocating them)."""

    model_spec = parse_spec(spec)
    found = model_bytes(model_spec, in_dim, out_dim, output_activation, signal_domain)
    if found is not None:
        check_memory(f"model spec {model_spec.label!r} ({found[0]:,} parameters)", found[1])


__all__ = [
    "ModelSpec",
    "build_model",
    "check_model_memory",
    "load_spec_file",
    "model_bytes",
    "parse_spec",
]
