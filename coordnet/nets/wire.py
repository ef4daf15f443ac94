"""WIRE: Gabor-wavelet activations (Saragadam et al. 2023), real-valued form."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from coordnet.nets.activation_mlp import ActivationMLP
from coordnet.validation import check_positive


class GaborActivation(nn.Module):
    """Real Gabor wavelet ``z -> cos(omega z) exp(-(s z)²)``, elementwise, any shape."""

    def __init__(self, omega: float, s: float) -> None:
        super().__init__()
        self.omega = check_positive("omega", omega)
        self.s = check_positive("s", s)

    def forward(self, z: Tensor) -> Tensor:
        return torch.cos(self.omega * z) * torch.exp(-((self.s * z) ** 2))

    def extra_repr(self) -> str:
        return f"omega={self.omega:g}, s={self.s:g}"


class WireMLP(ActivationMLP):
    """WIRE with the real Gabor wavelet ``cos(omega z) exp(-(s z)²)``: ``(..., in_dim) -> (..., out_dim)``.

    What is implemented (after Saragadam et al., CVPR 2023): every hidden layer applies
    :class:`GaborActivation` with the same ``omega`` and ``s`` to one linear map ``z = W x + b``
    — the real part of the paper's complex Gabor ``exp(i omega z) exp(-(s z)²)``. The
    defaults ``omega = 20``, ``s = 10`` are the paper's ``omega0``, ``s0`` for image fitting.
    Weights and biases keep PyTorch's default ``nn.Linear`` initialisation (WIRE uses no
    special scheme), the output layer is linear. Not implemented: the complex-valued
    network, and the authors' alternative real layer that feeds the sinusoid and the
    Gaussian from two separate linear maps.

    ``input_domain = (-1, 1)``, like SIREN.
    """

    input_domain = (-1.0, 1.0)

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        width: int = 256,
        depth: int = 3,
        omega: float = 20.0,
        s: float = 10.0,
        output_activation: str = "none",
    ) -> None:
        omega = check_positive("omega", omega)
        s = check_positive("s", s)
        super().__init__(
            in_dim,
            out_dim,
            width,
            depth,
            lambda role: GaborActivation(omega, s),
            None,
            output_activation=output_activation,
        )
        self.omega = omega
        self.s = s

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, omega={self.omega:g}, s={self.s:g}"
