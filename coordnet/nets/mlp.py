"""The plain ReLU MLP (Tancik et al. 2020's image net: depth 3, width 256, sigmoid output)."""

from __future__ import annotations

from torch import nn

from coordnet.nets.activation_mlp import ActivationMLP


def _relu(role: str) -> nn.Module:
    return nn.ReLU()


class ReluMLP(ActivationMLP):
    """``(Linear -> ReLU) x depth -> Linear [-> Sigmoid]``: ``(..., in_dim) -> (..., out_dim)``.

    PyTorch's default ``nn.Linear`` initialisation. ``ReluMLP(2, 3, output_activation="sigmoid")``
    is Tancik et al.'s image network (3 hidden layers of 256 units, then a linear layer to
    RGB, then a sigmoid). ``bias=False`` gives the bias-free nets of Basri/Ronen et al.

    The layers are ``self.layers``, an ``nn.Sequential`` of ``nn.Linear``/``nn.ReLU`` (+
    ``nn.Sigmoid``); :meth:`hidden_layers` yields the ``(Linear, ReLU)`` pairs whose on/off
    patterns define activation regions. ``input_domain = None``: any real input (raw coordinates).
    """

    input_domain = None

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        width: int = 256,
        depth: int = 3,
        bias: bool = True,
        output_activation: str = "none",
    ) -> None:
        super().__init__(
            in_dim,
            out_dim,
            width,
            depth,
            _relu,
            None,
            bias=bias,
            output_activation=output_activation,
        )
