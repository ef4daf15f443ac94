"""tiny-cuda-nn's fully fused MLP when it can run, coordnet's torch MLP otherwise.

tiny-cuda-nn cannot be installed without CUDA, so this switch is deliberately small: the
``tcnn`` net preset asks for ``FullyFusedMLP`` (ReLU hidden layers, no biases, widths
16–128) and falls back — with one warning saying why — to :class:`ReluMLP` with
``bias=False``, the same function family with torch's initialisation.
"""

from __future__ import annotations

import warnings

from torch import Tensor, nn

from coordnet.encoders.tinycudann import TinyCudaNNWarning, tinycudann_unavailable_reason  # noqa: F401 (re-exported)
from coordnet.nets.activation_mlp import check_choice, check_count
from coordnet.nets.mlp import ReluMLP

FULLY_FUSED_WIDTHS = (16, 32, 64, 128)
_TCNN_ACTIVATIONS = {"none": "None", "sigmoid": "Sigmoid"}


class FullyFusedMLP(nn.Module):
    """tiny-cuda-nn ``FullyFusedMLP`` as a module: ``(..., in_dim) -> (..., out_dim)`` in float32."""

    input_domain = None

    def __init__(
        self, in_dim: int, out_dim: int, width: int, depth: int, output_activation: str
    ) -> None:
        import tinycudann as tcnn

        super().__init__()
        self.in_dim, self.out_dim, self.width, self.depth = in_dim, out_dim, width, depth
        self.network = tcnn.Network(
            in_dim,
            out_dim,
            {
                "otype": "FullyFusedMLP",
                "activation": "ReLU",
                "output_activation": _TCNN_ACTIVATIONS[output_activation],
                "n_neurons": width,
                "n_hidden_layers": depth,
            },
        )

    def forward(self, x: Tensor) -> Tensor:
        shape = x.shape[:-1]
        return self.network(x.reshape(-1, self.in_dim)).float().reshape(*shape, self.out_dim)


def fully_fused_mlp(
    in_dim: int, out_dim: int, width: int = 64, depth: int = 2, output_activation: str = "none"
) -> nn.Module:
    """tiny-cuda-nn's fully fused ReLU MLP if available, else ``ReluMLP(..., bias=False)``."""
    check_count("in_dim", in_dim)
    check_count("out_dim", out_dim)
    check_count("depth", depth, minimum=0)
    check_choice("output_activation", output_activation, tuple(_TCNN_ACTIVATIONS))
    if width not in FULLY_FUSED_WIDTHS:
        raise ValueError(
            f"width must be one of {FULLY_FUSED_WIDTHS} for a fully fused MLP, got {width!r}"
        )
    reason = tinycudann_unavailable_reason()
    if reason is None:
        return FullyFusedMLP(in_dim, out_dim, width, depth, output_activation)
    warnings.warn(
        f"tiny-cuda-nn's FullyFusedMLP is unavailable ({reason}); using coordnet's torch ReLU MLP "
        "without biases instead",
        TinyCudaNNWarning,
        stacklevel=2,
    )
    return ReluMLP(
        in_dim, out_dim, width=width, depth=depth, bias=False, output_activation=output_activation
    )
