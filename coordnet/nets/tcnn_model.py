"""Whole tiny-cuda-nn model configs as torch models, with tiny-cuda-nn's network semantics.

``model_from_config({"encoding": {...}, "network": {...}}, n_input_dims, n_output_dims)`` is the
counterpart of ``tinycudann.NetworkWithInputEncoding`` (``network_from_config`` of
``tinycudann.Network``). What is reproduced, from tiny-cuda-nn's sources:

* **Network** (``"otype"``: ``FullyFusedMLP`` — alias ``MegakernelMLP`` — or ``CutlassMLP`` — alias
  ``MLP``; case-insensitive): ``n_hidden_layers`` hidden layers of ``n_neurons`` (defaults 5 and
  128; ``FullyFusedMLP``: 16, 32, 64 or 128 neurons and at least one hidden layer), **no biases**,
  ``activation`` after every hidden layer and ``output_activation`` after the last layer
  (defaults ``ReLU`` and ``None``), from ``None``, ``ReLU``, ``LeakyReLU`` (slope 0.01),
  ``Exponential``, ``Sine``, ``Sigmoid``, ``Squareplus`` (``X = 10x``: ``(X + √(X²+4)) / 20``),
  ``Softplus`` (``log(1 + e^(10x)) / 10``), ``Tanh``. ``FullyFusedMLP`` has no ``Sine`` kernel in
  tiny-cuda-nn and is refused with it.
* **Padding**: the encoding's output is padded to a multiple of 16 (both networks' alignment) —
  ones at the end, but ones in front for ``SphericalHarmonics`` and zeros at the end for grids,
  the last nested encoding of a ``Composite`` taking the padding — and the output layer has
  ``next_multiple(n_output_dims, 16)`` rows, of which the first ``n_output_dims`` are returned.
  The padded inputs and outputs are real weights of the parameter vector.
* **Parameters**: tiny-cuda-nn's flat vector is the network's weight matrices, input layer first,
  each ``(fan_out, fan_in)`` row-major (so an ``nn.Linear`` weight flattened), then the encoding's
  parameters (a grid's table, nested encodings in order). :meth:`TcnnModel.tcnn_params` and
  :meth:`TcnnModel.load_tcnn_params` convert; a ``tinycudann`` module's ``params`` (its
  ``state_dict()["params"]``) loads as is.
* **Initialisation**: the distributions of tiny-cuda-nn (uniform Xavier ``±√(6/(fan_in+fan_out))``
  over the padded shapes; for ``Sine``, ``±30/fan_in`` in the first layer and ``±√(6/fan_in)``
  after), drawn from a torch generator seeded with ``seed`` (network first, then the encoding),
  not from tiny-cuda-nn's pcg32 stream: the same seed does not give tiny-cuda-nn's numbers.

``implementation="tcnn"`` builds the real ``tinycudann.NetworkWithInputEncoding`` where it
imports and a CUDA device exists; otherwise it warns (:class:`TinyCudaNNWarning`) and builds
the torch model, as nerfstudio falls back.
"""

from __future__ import annotations

import math
from typing import Any, Dict, List, Mapping, NoReturn, Optional, Tuple, cast

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from coordnet.config_errors import config_error
from coordnet.encoders import HashGrid, Padded
from coordnet.encoders.composite import Composite
from coordnet.encoders.config import from_config, load_config, tcnn_pad
from coordnet.encoders.tinycudann import check_implementation, resolve_tinycudann
from coordnet.nets.fully_fused import FULLY_FUSED_WIDTHS
from coordnet.ops.hashgrid_reference import next_multiple
from coordnet.suggest import did_you_mean
from coordnet.validation import check_count

ALIGNMENT = 16  # FullyFusedMLP and CutlassMLP both require inputs and outputs in multiples of 16
NETWORK_KEYS = ("otype", "activation", "output_activation", "n_neurons", "n_hidden_layers")
NETWORK_OTYPES = {
    "fullyfusedmlp": "FullyFusedMLP",
    "megakernelmlp": "FullyFusedMLP",
    "cutlassmlp": "CutlassMLP",
    "mlp": "CutlassMLP",
}
ACTIVATIONS = (
    "None",
    "ReLU",
    "LeakyReLU",
    "Exponential",
    "Sine",
    "Sigmoid",
    "Squareplus",
    "Softplus",
    "Tanh",
)
MODEL_KEYS = ("encoding", "network", "loss", "optimizer")
K_ACT = 10.0  # tiny-cuda-nn's zoom of Squareplus and Softplus


class TcnnActivation(nn.Module):
    """One of tiny-cuda-nn's activations, by its config name (case-insensitive)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        lookup = {a.lower(): a for a in ACTIVATIONS}
        if not isinstance(name, str) or name.lower() not in lookup:
            raise ValueError(
                f"activation must be one of {', '.join(ACTIVATIONS)} (case-insensitive), got {name!r}"
            )
        self.name = lookup[name.lower()]

    def forward(self, x: Tensor) -> Tensor:
        name = self.name
        if name == "None":
            return x
        if name == "ReLU":
            return torch.relu(x)
        if name == "LeakyReLU":
            return F.leaky_relu(x, 0.01)
        if name == "Exponential":
            return torch.exp(x)
        if name == "Sine":
            return torch.sin(x)
        if name == "Sigmoid":
            return torch.sigmoid(x)
        if name == "Squareplus":
            z = K_ACT * x
            return 0.5 * (z + torch.sqrt(z * z + 4.0)) / K_ACT
        if name == "Softplus":
            return F.softplus(K_ACT * x) / K_ACT
        return torch.tanh(x)

    def extra_repr(self) -> str:
        return self.name


def _fail(where: str, problem: str) -> NoReturn:
    config_error("network config", where, problem)


def parse_network_config(config: Mapping[str, Any]) -> Dict[str, Any]:
    """Validate a tiny-cuda-nn network config and fill in its defaults (canonical spellings)."""
    if not isinstance(config, Mapping):
        raise TypeError(f"a network config must be a dict, got {type(config).__name__}")
    otype_name = config.get("otype", "MLP")
    otype = NETWORK_OTYPES.get(otype_name.lower()) if isinstance(otype_name, str) else None
    if otype is None:
        allowed = "FullyFusedMLP, CutlassMLP (aliases MegakernelMLP, MLP)"
        _fail(f"({otype_name!r})", f"unknown otype {otype_name!r}; allowed: {allowed}")
    where = f"({otype})"
    for key in config:
        if key not in NETWORK_KEYS:
            allowed = ", ".join(NETWORK_KEYS)
            _fail(
                where,
                f"unknown key {key!r}; allowed keys: {allowed}{did_you_mean(key, NETWORK_KEYS)}",
            )
    parsed: Dict[str, Any] = {"otype": otype}
    for key, default in (("activation", "ReLU"), ("output_activation", "None")):
        try:
            parsed[key] = TcnnActivation(config.get(key, default)).name
        except ValueError as error:
            _fail(where, f"{key}: {error}")
    for key, fallback, minimum in (("n_neurons", 128, 1), ("n_hidden_layers", 5, 0)):
        value = config.get(key, fallback)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            _fail(where, f"{key} must be an integer >= {minimum}, got {value!r}")
        parsed[key] = value
    if otype == "FullyFusedMLP":
        if parsed["n_neurons"] not in FULLY_FUSED_WIDTHS:
            width = parsed["n_neurons"]
            _fail(
                where,
                f"n_neurons must be one of {FULLY_FUSED_WIDTHS} for FullyFusedMLP (use CutlassMLP), got {width}",
            )
        if parsed["n_hidden_layers"] < 1:
            _fail(
                where,
                "n_hidden_layers must be >= 1 for FullyFusedMLP (use CutlassMLP for a single matrix)",
            )
        if parsed["activation"] == "Sine":
            _fail(where, "FullyFusedMLP has no Sine activation in tiny-cuda-nn; use CutlassMLP")
    return parsed


class TcnnMLP(nn.Module):
    """tiny-cuda-nn's ``FullyFusedMLP`` / ``CutlassMLP`` in torch: ``(..., n_input_dims) -> (..., n_output_dims)``.

    Bias-free ``nn.Linear`` layers in :attr:`layers`: ``n_input_dims -> n_neurons``,
    ``n_hidden_layers - 1`` times ``n_neurons -> n_neurons``, ``n_neurons -> padded_output_dims``
    (``next_multiple(n_output_dims, 16)``); with no hidden layer a single
    ``n_input_dims -> padded_output_dims``. ``n_input_dims`` is taken as given (tiny-cuda-nn's
    encodings pad it). See the module docstring for activations and initialisation.
    """

    input_domain = None

    def __init__(
        self,
        n_input_dims: int,
        n_output_dims: int,
        config: Optional[Mapping[str, Any]] = None,
        *,
        generator: Optional[torch.Generator] = None,
        seed: int = 1337,
    ) -> None:
        super().__init__()
        check_count("n_input_dims", n_input_dims)
        check_count("n_output_dims", n_output_dims)
        self.config = parse_network_config({} if config is None else config)
        self.in_dim, self.out_dim = n_input_dims, n_output_dims
        self.padded_output_dims = next_multiple(n_output_dims, ALIGNMENT)
        width, depth = self.config["n_neurons"], self.config["n_hidden_layers"]
        sizes = [n_input_dims] + [width] * depth + [self.padded_output_dims]
        self.layers = nn.ModuleList(
            nn.Linear(a, b, bias=False) for a, b in zip(sizes[:-1], sizes[1:])
        )
        self.activation = TcnnActivation(self.config["activation"])
        self.output_activation = TcnnActivation(self.config["output_activation"])
        self.reset_parameters(
            torch.Generator().manual_seed(int(seed)) if generator is None else generator
        )

    def reset_parameters(self, generator: torch.Generator) -> None:
        """Draw every weight from tiny-cuda-nn's distributions (see the module docstring)."""
        sine = self.config["activation"] == "Sine"
        with torch.no_grad():
            for i, layer in enumerate(self.linears()):
                fan_out, fan_in = layer.weight.shape
                if sine:
                    bound = 30.0 / fan_in if i == 0 else math.sqrt(6.0 / fan_in)
                else:
                    bound = math.sqrt(6.0 / (fan_in + fan_out))
                weight = (
                    torch.rand(layer.weight.shape, generator=generator, dtype=torch.float32)
                    * (2 * bound)
                    - bound
                )
                layer.weight.copy_(weight)

    def forward(self, x: Tensor, padded: bool = False) -> Tensor:
        """``x (..., n_input_dims) -> (..., n_output_dims)`` (``padded``: all ``padded_output_dims``)."""
        if x.dim() == 0 or x.shape[-1] != self.in_dim:
            raise ValueError(
                f"TcnnMLP: x must have shape (..., {self.in_dim}), got {tuple(x.shape)}"
            )
        linears = self.linears()
        x = x.to(linears[0].weight.dtype)
        for layer in linears[:-1]:
            x = self.activation(layer(x))
        y = self.output_activation(linears[-1](x))
        return y if padded else y[..., : self.out_dim]

    @property
    def n_params(self) -> int:
        return sum(layer.weight.numel() for layer in self.linears())

    def linears(self) -> List[nn.Linear]:
        """The bias-free ``nn.Linear`` layers, input side first."""
        return [cast(nn.Linear, layer) for layer in self.layers]

    def extra_repr(self) -> str:
        return f"in_dim={self.in_dim}, out_dim={self.out_dim} (padded {self.padded_output_dims}), config={self.config}"


def _encoding_parameters(module: nn.Module) -> List[Tensor]:
    """An encoding's parameters in tiny-cuda-nn's order (nested encodings one after the other)."""
    if isinstance(module, HashGrid):
        return [module.params]
    if isinstance(module, Padded):
        return _encoding_parameters(module.encoder)
    if isinstance(module, Composite):
        return [p for e in module.encoders for p in _encoding_parameters(e)]
    return [p for p in module.parameters() if p.requires_grad]


class TcnnModel(nn.Module):
    """A tiny-cuda-nn encoding followed by a tiny-cuda-nn network, in torch (``NetworkWithInputEncoding``).

    ``(..., n_input_dims) -> (..., n_output_dims)``; ``encoding`` is the (padded) encoder from
    :func:`coordnet.encoders.from_config`, ``network`` a :class:`TcnnMLP`. ``input_domain`` is the
    encoding's, so it can serve as the net of a :class:`~coordnet.nets.CoordinateNet`.
    """

    def __init__(
        self,
        n_input_dims: int,
        n_output_dims: int,
        encoding_config: Any,
        network_config: Mapping[str, Any],
        *,
        seed: int = 1337,
    ) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(int(seed))
        network = parse_network_config(network_config)  # validate before building the encoding
        # tiny-cuda-nn initialises the network first, then the encoding, from one generator.
        encoding = from_config(
            encoding_config, n_input_dims, seed=seed
        )  # tables redrawn below, after the network
        unpadded = int(encoding.out_dim)
        self.encoding = tcnn_pad(encoding, next_multiple(unpadded, ALIGNMENT) - unpadded)
        self.network = TcnnMLP(
            int(self.encoding.out_dim), n_output_dims, network, generator=generator
        )
        self._reseed_encoding(generator)
        self.in_dim, self.out_dim = n_input_dims, n_output_dims
        self.encoded_dims = unpadded
        self.input_domain = getattr(self.encoding, "input_domain", None)
        self.config = {"encoding": getattr(encoding, "config", encoding_config), "network": network}

    def _reseed_encoding(self, generator: torch.Generator) -> None:
        with torch.no_grad():
            for module in self.encoding.modules():
                if isinstance(module, HashGrid):
                    bound = module.init_scale
                    module.params.copy_(
                        torch.rand(module.params.shape, generator=generator) * (2 * bound) - bound
                    )

    def forward(self, x: Tensor) -> Tensor:
        """``x (..., n_input_dims) -> (..., n_output_dims)``."""
        return self.network(self.encoding(x))

    def _parameter_list(self) -> List[Tensor]:
        return [layer.weight for layer in self.network.linears()] + _encoding_parameters(
            self.encoding
        )

    @property
    def n_params(self) -> int:
        """Length of tiny-cuda-nn's flat parameter vector."""
        return sum(p.numel() for p in self._parameter_list())

    def tcnn_params(self) -> Tensor:
        """The flat parameter vector in tiny-cuda-nn's layout ``(n_params,)`` (a detached copy)."""
        return torch.cat([p.detach().reshape(-1) for p in self._parameter_list()])

    def load_tcnn_params(self, params: Tensor) -> None:
        """Load tiny-cuda-nn's flat parameter vector (any float dtype, any device) into the model."""
        if not isinstance(params, Tensor) or params.dim() != 1 or params.numel() != self.n_params:
            shape = tuple(params.shape) if isinstance(params, Tensor) else type(params).__name__
            raise ValueError(
                f"params must be a flat tensor of {self.n_params} values (tiny-cuda-nn's layout), got {shape}"
            )
        offset = 0
        with torch.no_grad():
            for p in self._parameter_list():
                p.copy_(params[offset : offset + p.numel()].reshape(p.shape).to(p.dtype))
                offset += p.numel()

    def extra_repr(self) -> str:
        padded = self.network.in_dim
        return f"in_dim={self.in_dim}, out_dim={self.out_dim}, encoded_dims={self.encoded_dims} (padded {padded})"


class TinyCudaNNModel(nn.Module):
    """The real ``tinycudann.NetworkWithInputEncoding``, reshaped to ``(..., d)`` and float32 outputs."""

    input_domain = None

    def __init__(
        self, n_input_dims: int, n_output_dims: int, encoding: Mapping, network: Mapping, seed: int
    ) -> None:
        import tinycudann as tcnn

        super().__init__()
        self.in_dim, self.out_dim = n_input_dims, n_output_dims
        self.model = tcnn.NetworkWithInputEncoding(
            n_input_dims, n_output_dims, dict(encoding), dict(network), seed=seed
        )

    def forward(self, x: Tensor) -> Tensor:
        shape = x.shape[:-1]
        return self.model(x.reshape(-1, self.in_dim)).float().reshape(*shape, self.out_dim)

    def tcnn_params(self) -> Tensor:
        return self.model.params.detach().float().clone()

    def load_tcnn_params(self, params: Tensor) -> None:
        with torch.no_grad():
            self.model.params.copy_(params.to(self.model.params))


def _split_model_config(config: Any) -> Tuple[Any, Dict[str, Any]]:
    data = load_config(config)
    for key in data:
        if key not in MODEL_KEYS:
            raise ValueError(
                f"model config: unknown key {key!r}; allowed keys: {', '.join(MODEL_KEYS)} "
                f"(loss and optimizer are ignored){did_you_mean(key, MODEL_KEYS)}"
            )
    return data.get("encoding", {"otype": "Identity"}), dict(data.get("network", {}))


def model_from_config(
    config: Any,
    n_input_dims: int,
    n_output_dims: int,
    *,
    seed: int = 1337,
    implementation: str = "torch",
) -> nn.Module:
    """A tiny-cuda-nn model config -> model ``(..., n_input_dims) -> (..., n_output_dims)``.

    Args:
        config: ``{"encoding": {...}, "network": {...}}`` as a dict, JSON string or JSON file
            path (tiny-cuda-nn's ``"loss"``/``"optimizer"`` sections are accepted and ignored;
            a missing encoding is ``Identity``, as ``tinycudann.Network``).
        seed: initialisation seed (tiny-cuda-nn's default 1337).
        implementation: ``"torch"`` (:class:`TcnnModel`) or ``"tcnn"`` (tiny-cuda-nn where it
            runs, else :class:`TcnnModel` with a :class:`TinyCudaNNWarning`).
    """
    check_implementation(implementation)  # before the config is read
    encoding, network = _split_model_config(config)
    fallback = "coordnet's torch model with tiny-cuda-nn's semantics"
    if resolve_tinycudann("model_from_config", implementation, fallback) is not None:
        return TinyCudaNNModel(n_input_dims, n_output_dims, load_config(encoding), network, seed)
    return TcnnModel(n_input_dims, n_output_dims, encoding, network, seed=seed)


def network_from_config(
    config: Mapping[str, Any],
    n_input_dims: int,
    n_output_dims: int,
    *,
    seed: int = 1337,
    implementation: str = "torch",
) -> nn.Module:
    """A tiny-cuda-nn network config -> model (``tinycudann.Network``: Identity encoding, padded with ones)."""
    return model_from_config(
        {"encoding": {"otype": "Identity"}, "network": dict(config)},
        n_input_dims,
        n_output_dims,
        seed=seed,
        implementation=implementation,
    )


__all__ = [
    "ACTIVATIONS",
    "TcnnActivation",
    "TcnnMLP",
    "TcnnModel",
    "TinyCudaNNModel",
    "model_from_config",
    "network_from_config",
    "parse_network_config",
]
