"""SIREN: sine activations with their initialisation (Sitzmann et al. 2020)."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from coordnet.nets.activation_mlp import ActivationMLP, LayerInit
from coordnet.validation import check_positive


class Sine(nn.Module):
    """``z -> sin(omega * z)``, elementwise, any shape."""

    def __init__(self, omega: float) -> None:
        super().__init__()
        self.omega = check_positive("omega", omega)

    def forward(self, z: Tensor) -> Tensor:
        return torch.sin(self.omega * z)

    def extra_repr(self) -> str:
        return f"omega={self.omega:g}"


def siren_init(hidden_omega: float) -> LayerInit:
    """SIREN's weight initialisation as an ``init(linear, role)`` for :class:`ActivationMLP`.

    First layer: ``W ~ U(-1/fan_in, 1/fan_in)``; hidden and output layers:
    ``W ~ U(-sqrt(6/fan_in)/hidden_omega, +sqrt(6/fan_in)/hidden_omega)``. Biases keep
    PyTorch's default ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``, as in the reference code.
    """
    hidden_omega = check_positive("hidden_omega", hidden_omega)

    def init(linear: nn.Linear, role: str) -> None:
        fan_in = linear.in_features
        bound = 1.0 / fan_in if role == "first" else math.sqrt(6.0 / fan_in) / hidden_omega
        nn.init.uniform_(linear.weight, -bound, bound)

    return init


class Siren(ActivationMLP):
    """SIREN: ``sin(first_omega z)`` after the first layer, ``sin(hidden_omega z)`` after the others.

    ``(..., in_dim) -> (..., out_dim)``: ``depth`` sine layers of ``width`` units, then a
    linear output layer (no sine) and an optional sigmoid. Initialisation of Sitzmann et
    al. 2020 (see :func:`siren_init`), which keeps the pre-activations of every hidden
    layer close to ``N(0, 1)`` in ``omega`` units for inputs in ``[-1, 1]``. The paper's
    ``hidden_layers = h`` (sine layers after the first) is ``depth = h + 1`` here.

    ``input_domain = (-1, 1)``: :class:`~coordnet.nets.CoordinateNet` maps signal
    coordinates there. Outside it the net is still defined (and finite); the first layer's
    frequencies were just drawn for inputs of at most unit size.
    """

    input_domain = (-1.0, 1.0)

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        width: int = 256,
        depth: int = 3,
        first_omega: float = 30.0,
        hidden_omega: float = 30.0,
        output_activation: str = "none",
    ) -> None:
        first = check_positive("first_omega", first_omega)
        hidden = check_positive("hidden_omega", hidden_omega)
        super().__init__(
            in_dim,
            out_dim,
            width,
            depth,
            lambda role: Sine(first if role == "first" else hidden),
            siren_init(hidden),
            output_activation=output_activation,
        )
        self.first_omega = first
        self.hidden_omega = hidden

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, first_omega={self.first_omega:g}, hidden_omega={self.hidden_omega:g}"
