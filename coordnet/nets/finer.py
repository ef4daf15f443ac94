"""FINER: variable-periodic sine activations (Liu et al. 2024)."""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor, nn

from coordnet.nets.activation_mlp import ActivationMLP, LayerInit
from coordnet.nets.siren import siren_init
from coordnet.validation import check_positive


class FinerSine(nn.Module):
    """``z -> sin(omega (|z| + 1) z)``, elementwise, any shape.

    The local frequency grows with ``|z|``, so the bias of a layer picks the frequency band
    of each unit. ``scale_grad=False`` (the authors' default) treats the factor ``|z| + 1``
    as a constant in the backward pass: the gradient is ``omega (|z| + 1) cos(...)`` instead
    of the exact ``omega (2|z| + 1) cos(...)``; ``scale_grad=True`` differentiates through it.
    """

    def __init__(self, omega: float, scale_grad: bool = False) -> None:
        super().__init__()
        self.omega = check_positive("omega", omega)
        if not isinstance(scale_grad, bool):
            raise ValueError(f"scale_grad must be True or False, got {scale_grad!r}")
        self.scale_grad = scale_grad

    def forward(self, z: Tensor) -> Tensor:
        alpha = (z if self.scale_grad else z.detach()).abs() + 1.0
        return torch.sin(self.omega * alpha * z)

    def extra_repr(self) -> str:
        return f"omega={self.omega:g}, scale_grad={self.scale_grad}"


def finer_init(hidden_omega: float, first_bias_scale: Optional[float]) -> LayerInit:
    """FINER's initialisation: SIREN's weights (:func:`~coordnet.nets.siren.siren_init`), and
    the first layer's bias ``~ U(-k, k)`` with ``k = first_bias_scale`` (``None``: PyTorch's
    default bias, as SIREN). Other biases keep PyTorch's default."""
    weights = siren_init(hidden_omega)
    k = None if first_bias_scale is None else check_positive("first_bias_scale", first_bias_scale)

    def init(linear: nn.Linear, role: str) -> None:
        weights(linear, role)
        if role == "first" and k is not None and linear.bias is not None:
            nn.init.uniform_(linear.bias, -k, k)

    return init


class FinerMLP(ActivationMLP):
    """FINER: SIREN's layout with the activation ``sin(omega (|z| + 1) z)``.

    ``(..., in_dim) -> (..., out_dim)``. What is implemented (after Liu et al., CVPR 2024,
    and the authors' code):

    - activation :class:`FinerSine` with ``first_omega`` after the first layer and
      ``hidden_omega`` after the others (both 30, as SIREN); the factor ``|z| + 1`` is not
      differentiated through unless ``scale_grad=True`` (the authors' default);
    - SIREN's weight initialisation for every layer, output layer included;
    - the first layer's bias drawn from ``U(-k, k)``, ``k = first_bias_scale``: a larger
      ``k`` spreads the units over a wider band of frequencies. The default ``k = 20`` is the
      value of the authors' image-fitting scripts; ``k = 1`` is a milder choice, ``None``
      keeps PyTorch's default bias. Other biases keep PyTorch's default;
    - a linear output layer (no activation), optionally followed by a sigmoid.

    ``input_domain = (-1, 1)``, like SIREN.
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
        first_bias_scale: Optional[float] = 20.0,
        scale_grad: bool = False,
        output_activation: str = "none",
    ) -> None:
        first = check_positive("first_omega", first_omega)
        hidden = check_positive("hidden_omega", hidden_omega)
        if not isinstance(scale_grad, bool):
            raise ValueError(f"scale_grad must be True or False, got {scale_grad!r}")
        super().__init__(
            in_dim,
            out_dim,
            width,
            depth,
            lambda role: FinerSine(first if role == "first" else hidden, scale_grad),
            finer_init(hidden, first_bias_scale),
            output_activation=output_activation,
        )
        self.first_omega = first
        self.hidden_omega = hidden
        self.first_bias_scale = None if first_bias_scale is None else float(first_bias_scale)
        self.scale_grad = scale_grad

    def extra_repr(self) -> str:
        k = "None" if self.first_bias_scale is None else f"{self.first_bias_scale:g}"
        return (
            f"{super().extra_repr()}, first_omega={self.first_omega:g}, hidden_omega={self.hidden_omega:g}, "
            f"first_bias_scale={k}"
        )
