"""The piecewise-linear structure of a ReLU network: input map, hidden ``(Linear, ReLU)`` layers.

Activation regions are defined by the on/off pattern of every hidden ReLU unit. This module
turns a model into a :class:`ReluNetwork`, the list of hidden linear layers whose outputs go
through ``nn.ReLU`` plus the map from input points to the first layer's input, and rejects
every model whose patterns would not mean that (other activations, dropout, SIREN, ...).

Accepted models:

* :class:`~coordnet.nets.CoordinateNet` whose net is an :class:`~coordnet.nets.ActivationMLP`
  with ``nn.ReLU`` activations (:class:`~coordnet.nets.ReluMLP`, with or without biases, any
  output activation) or an ``nn.Sequential`` as below. Its coordinate map and encoder (if any)
  form the input map: patterns are always taken over the original input points.
* An :class:`~coordnet.nets.ActivationMLP` with ``nn.ReLU`` activations on its own.
* An ``nn.Sequential`` (nested ones are flattened) of ``nn.Linear`` layers each followed by
  ``nn.ReLU``, optionally ending in one ``nn.Linear`` without ReLU (the output layer, which
  carries no pattern bits), optionally starting with a coordnet
  :class:`~coordnet.encoders.Encoder` (the input map).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

from coordnet.encoders.base import Encoder
from coordnet.encoders.identity import Identity
from coordnet.nets.activation_mlp import ActivationMLP
from coordnet.nets.coordinate_net import CoordinateNet
from coordnet.ops import pattern_words

InputMap = Callable[[Tensor], Tensor]


@dataclass(eq=False)
class ReluNetwork:
    """The ReLU structure of a model.

    Attributes:
        hidden: the hidden ``nn.Linear`` layers, input side first; each is followed by a ReLU
            in the model, and each unit of each contributes one pattern bit.
        names: a readable name of each hidden layer (its path inside the model).
        output: the final ``nn.Linear`` without ReLU, or ``None``.
        in_dim: size ``d`` of the input points ``(N, d)``.
        input_map: input points ``(N, d)`` -> inputs of the first hidden layer
            ``(N, hidden[0].in_features)``, or ``None`` for the identity.
        input_map_is_affine: whether ``input_map`` is affine (``None``, coordinate scaling,
            :class:`~coordnet.encoders.Identity`); :func:`~coordnet.regions.exact_count_1d`
            needs it.
        input_map_name: what the input map is, for messages (e.g. ``"PositionalEncoding"``).
    """

    hidden: List[nn.Linear]
    names: List[str]
    output: Optional[nn.Linear]
    in_dim: int
    input_map: Optional[InputMap] = None
    input_map_is_affine: bool = True
    input_map_name: str = "identity"

    @property
    def widths(self) -> Tuple[int, ...]:
        """Units per hidden layer."""
        return tuple(layer.out_features for layer in self.hidden)

    @property
    def num_units(self) -> int:
        """Hidden units in total (= bits of a pattern)."""
        return sum(self.widths)

    @property
    def word_offsets(self) -> Tuple[int, ...]:
        """First 64-bit pattern word of each hidden layer (each layer starts a fresh word)."""
        offsets, total = [], 0
        for width in self.widths:
            offsets.append(total)
            total += pattern_words(width)
        return tuple(offsets)

    @property
    def num_words(self) -> int:
        """64-bit words of a packed pattern (``sum(ceil(width / 64))``)."""
        return sum(pattern_words(width) for width in self.widths)

    @property
    def max_width(self) -> int:
        """Widest hidden layer (0 without hidden layers)."""
        return max(self.widths, default=0)

    @property
    def dtype(self) -> torch.dtype:
        """dtype of the parameters (of the first linear layer)."""
        first = self.hidden[0] if self.hidden else self.output
        return first.weight.dtype if first is not None else torch.get_default_dtype()

    @property
    def compute_dtype(self) -> torch.dtype:
        """dtype patterns are computed in: the parameters' if float32/float64, else float32."""
        return self.dtype if self.dtype in (torch.float32, torch.float64) else torch.float32

    def layer_weights(self) -> List[Tuple[Tensor, Optional[Tensor]]]:
        """``(weight (out, in), bias (out,) or None)`` of each hidden layer, detached, in :attr:`compute_dtype`."""
        dtype = self.compute_dtype
        return [
            (
                layer.weight.detach().to(dtype),
                None if layer.bias is None else layer.bias.detach().to(dtype),
            )
            for layer in self.hidden
        ]

    @property
    def device(self) -> torch.device:
        """Device of the parameters."""
        first = self.hidden[0] if self.hidden else self.output
        return first.weight.device if first is not None else torch.device("cpu")

    def encode(self, x: Tensor, dtype: Optional[torch.dtype] = None) -> Tensor:
        """Input points ``(N, d)`` -> first-layer inputs ``(N, in_features)`` in ``dtype``.

        ``dtype`` defaults to :attr:`compute_dtype`.
        """
        dtype = self.compute_dtype if dtype is None else dtype
        x = x.to(device=self.device, dtype=dtype)
        if self.input_map is not None:
            x = self.input_map(x)
        return x.to(dtype)

    def check_points(self, points: object, name: str = "points") -> Tensor:
        """``points`` as a floating ``(N, d)`` tensor, else ``TypeError``/``ValueError`` naming it."""
        if not isinstance(points, Tensor):
            raise TypeError(
                f"{name} must be a torch.Tensor of shape (N, {self.in_dim}), got {type(points).__name__}"
            )
        if not points.is_floating_point():
            raise TypeError(f"{name} must be a floating-point tensor, got dtype {points.dtype}")
        if points.dim() != 2 or points.shape[1] != self.in_dim:
            raise ValueError(
                f"{name} must have shape (N, {self.in_dim}), got {tuple(points.shape)}"
            )
        return points

    def forward_patterns(self, x: Tensor) -> List[Tensor]:
        """Dense boolean patterns of points ``x (N, d)``: one ``(N, width)`` tensor per hidden layer.

        A plain forward pass (no packing), for small inputs and checks; a unit is on iff its
        pre-activation is ``> 0``.
        """
        patterns = []
        with torch.no_grad():
            h = self.encode(self.check_points(x, "x"))
            for weight, bias in self.layer_weights():
                z = torch.nn.functional.linear(h, weight, bias)
                patterns.append(z > 0)
                h = torch.relu(z)
        return patterns


def _describe(name: str, module: nn.Module) -> str:
    return f"layer {name!r} ({module!r})" if name else f"{module!r}"


def _flatten(module: nn.Sequential, prefix: str) -> List[Tuple[str, nn.Module]]:
    leaves: List[Tuple[str, nn.Module]] = []
    for child_name, child in module.named_children():
        name = f"{prefix}.{child_name}" if prefix else child_name
        if isinstance(child, nn.Sequential):
            leaves += _flatten(child, name)
        else:
            leaves.append((name, child))
    return leaves


def _check_linear(name: str, layer: nn.Linear, fan_in: Optional[int]) -> None:
    if layer.out_features == 0 or layer.in_features == 0:
        raise ValueError(
            f"{_describe(name, layer)} has zero width; every layer needs at least one unit"
        )
    if fan_in is not None and layer.in_features != fan_in:
        raise ValueError(
            f"{_describe(name, layer)} takes {layer.in_features} inputs but the layer before gives {fan_in}"
        )


#: ``(hidden layers, their names, output layer)``, and the same with a leading encoder.
Layers = Tuple[List[nn.Linear], List[str], Optional[nn.Linear]]
EncodedLayers = Tuple[Optional[Encoder], List[nn.Linear], List[str], Optional[nn.Linear]]


def _first_linear(hidden: List[nn.Linear], output: Optional[nn.Linear]) -> nn.Linear:
    """The input-side ``nn.Linear`` of a parsed stack (which holds at least one)."""
    first = hidden[0] if hidden else output
    if first is None:  # pragma: no cover - _parse_layers refuses a stack without nn.Linear
        raise ValueError("the network holds no nn.Linear layer")
    return first


def _parse_layers(leaves: Sequence[Tuple[str, nn.Module]], what: str) -> Layers:
    """``[(name, module)]`` of ``(Linear, ReLU)* [Linear]`` -> hidden layers, their names, output layer."""
    hidden: List[nn.Linear] = []
    names: List[str] = []
    output: Optional[nn.Linear] = None
    fan_in: Optional[int] = None
    index = 0
    while index < len(leaves):
        name, module = leaves[index]
        if type(module) is not nn.Linear:
            problem = (
                "has no nn.Linear before it" if type(module) is nn.ReLU else "is not supported"
            )
            raise TypeError(
                f"{what}: {_describe(name, module)} {problem}; activation regions need a stack of "
                "nn.Linear layers each followed by nn.ReLU (optionally ending in one nn.Linear)"
            )
        _check_linear(name, module, fan_in)
        fan_in = module.out_features
        if index + 1 == len(leaves):
            output = module
            break
        other_name, other = leaves[index + 1]
        if type(other) is not nn.ReLU:
            if type(other) is nn.Linear:
                problem = f"is followed directly by another nn.Linear ({other_name!r})"
            else:
                problem = f"is followed by {_describe(other_name, other)}, not nn.ReLU"
            raise TypeError(
                f"{what}: {_describe(name, module)} {problem}; activation regions need every hidden "
                "nn.Linear to be followed by nn.ReLU"
            )
        hidden.append(module)
        names.append(name)
        index += 2
    return hidden, names, output


def _from_activation_mlp(net: ActivationMLP, prefix: str) -> Layers:
    hidden, names = [], []
    fan_in: Optional[int] = None
    for index, (linear, activation) in enumerate(net.hidden_layers()):
        name = f"{prefix}layers.{2 * index}"
        if type(activation) is not nn.ReLU:
            raise TypeError(
                f"{type(net).__name__}: activation {_describe(f'{prefix}layers.{2 * index + 1}', activation)} "
                "is not nn.ReLU; activation regions are defined for ReLU networks only"
            )
        if type(linear) is not nn.Linear:
            raise TypeError(f"{type(net).__name__}: {_describe(name, linear)} is not an nn.Linear")
        _check_linear(name, linear, fan_in)
        fan_in = linear.out_features
        hidden.append(linear)
        names.append(name)
    output = net.output_layer()
    _check_linear(f"{prefix}layers.{2 * net.depth}", output, fan_in)
    return hidden, names, output


def _from_sequential(net: nn.Sequential, prefix: str) -> EncodedLayers:
    leaves = _flatten(net, prefix.rstrip("."))
    encoder: Optional[Encoder] = None
    if leaves and isinstance(leaves[0][1], Encoder):
        encoder = leaves[0][1]
        leaves = leaves[1:]
    if not leaves:
        raise ValueError(f"nn.Sequential {net!r} holds no nn.Linear layer")
    hidden, names, output = _parse_layers(leaves, "nn.Sequential")
    first = _first_linear(hidden, output)
    if encoder is not None and encoder.out_dim != first.in_features:
        raise ValueError(
            f"nn.Sequential: encoder {type(encoder).__name__} has out_dim={encoder.out_dim} but the first "
            f"nn.Linear takes in_features={first.in_features}"
        )
    return encoder, hidden, names, output


def _inner(net: nn.Module, prefix: str) -> EncodedLayers:
    if isinstance(net, ActivationMLP):
        return (None, *_from_activation_mlp(net, prefix))
    if isinstance(net, nn.Sequential):
        return _from_sequential(net, prefix)
    raise TypeError(
        f"{type(net).__name__} is not supported; activation regions need a coordnet CoordinateNet or "
        "ReluMLP, or an nn.Sequential of nn.Linear/nn.ReLU"
    )


def _chain(stages: Sequence[InputMap]) -> InputMap:
    """The composition ``stages[-1](...stages[0](x))``."""
    stages = tuple(stages)

    def apply(x: Tensor) -> Tensor:
        for stage in stages:
            x = stage(x)
        return x

    return apply


def _is_affine(encoder: Optional[nn.Module]) -> bool:
    return encoder is None or type(encoder) is Identity


def relu_network(net: nn.Module) -> ReluNetwork:
    """The :class:`ReluNetwork` of ``net`` (see the module docstring for what is accepted).

    Raises:
        TypeError: a layer that is not ``nn.Linear``/``nn.ReLU`` (other activations, dropout,
            normalisation, SIREN's sine, ...), or a model of another kind; the message names
            the layer.
        ValueError: a layer of zero width, or mismatched layer sizes.
    """
    if isinstance(net, ReluNetwork):
        return net
    if not isinstance(net, nn.Module):
        raise TypeError(f"net must be an nn.Module, got {type(net).__name__}")
    if isinstance(net, CoordinateNet):
        encoder, hidden, names, output = _inner(net.net, "net.")
        if encoder is not None and net.encoder is not None:
            raise TypeError(
                "CoordinateNet: an encoder both in front of and inside the net is not supported"
            )
        first_stage: Optional[nn.Module] = net.encoder if net.encoder is not None else encoder
        stages: List[InputMap] = []
        if net.maps_coordinates:
            stages.append(net.map_coordinates)
        if first_stage is not None:
            stages.append(first_stage)
        in_dim = net.in_dim
    else:
        encoder, hidden, names, output = _inner(net, "")
        first_stage = encoder
        stages = [encoder] if encoder is not None else []
        in_dim = (
            encoder.in_dim if encoder is not None else _first_linear(hidden, output).in_features
        )
    return ReluNetwork(
        hidden=hidden,
        names=names,
        output=output,
        in_dim=int(in_dim),
        input_map=_chain(stages) if stages else None,
        input_map_is_affine=_is_affine(first_stage),
        input_map_name="identity" if first_stage is None else type(first_stage).__name__,
    )
