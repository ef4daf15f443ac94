"""The layer stack every coordnet MLP shares: ``(Linear -> activation) x depth -> Linear``.

Each net (:class:`~coordnet.nets.ReluMLP`, :class:`~coordnet.nets.Siren`, ...) is an
:class:`ActivationMLP` with its own activation module and weight initialisation; this file
holds the stacking, the shape checks and the argument validation they have in common.
"""

from __future__ import annotations

from typing import Callable, List, Optional, Tuple, cast

from torch import Tensor, nn

from coordnet.memory_limit import check_memory
from coordnet.validation import check_choice, check_count

OUTPUT_ACTIVATIONS = ("none", "sigmoid")
#: Hidden layers of one MLP at most: each is a Python module, and coordinate MLPs have a few.
MAX_DEPTH = 10_000


def _check_parameter_memory(name: str, in_dim: int, out_dim: int, width: int, depth: int) -> None:
    """Refuse (one-line ``MemoryLimitError`` naming the sizes) an MLP whose float32 weights and
    biases alone exceed the memory limit, before any layer is allocated."""
    if depth == 0:
        params = (in_dim + 1) * out_dim
    else:
        params = (in_dim + 1) * width + (depth - 1) * (width + 1) * width + (width + 1) * out_dim
    check_memory(
        f"{name} with in_dim={in_dim:,}, width={width:,}, depth={depth:,}, out_dim={out_dim:,} "
        f"({params:,} parameters)",
        params * 4,
    )


#: ``activation(role)`` returns the activation module after a hidden layer; ``role`` is
#: ``"first"`` (after the first layer) or ``"hidden"`` (after every later hidden layer).
ActivationFactory = Callable[[str], nn.Module]
#: ``init(linear, role)`` initialises one layer in place; ``role`` is ``"first"``,
#: ``"hidden"`` or ``"last"`` (the output layer, which has no activation after it).
LayerInit = Callable[[nn.Linear, str], None]


class ActivationMLP(nn.Module):
    """A fully connected net: ``depth`` hidden layers ``Linear -> activation``, then a linear head.

    ``(..., in_dim) -> (..., out_dim)``. The layers live in one ``nn.Sequential``,
    :attr:`layers`: ``[Linear(in_dim, width), act, Linear(width, width), act, ...,
    Linear(width, out_dim)]``, plus ``nn.Sigmoid()`` for ``output_activation="sigmoid"``.
    ``depth = 0`` is a single linear map ``in_dim -> out_dim``.

    Args:
        in_dim, out_dim: input and output sizes.
        width: size of every hidden layer.
        depth: number of hidden layers (= number of activation modules).
        activation: ``activation(role)`` builds the module after each hidden layer.
        init: ``init(linear, role)`` re-initialises each ``nn.Linear`` (``None``: PyTorch's default).
        bias: give every linear layer a bias.
        output_activation: ``"none"`` or ``"sigmoid"`` (Tancik et al.'s image nets).

    Attributes:
        in_dim, out_dim, width, depth, output_activation.
        input_domain: per-coordinate interval the net expects (``None``: any real input);
            :class:`~coordnet.nets.CoordinateNet` maps signal coordinates onto it.
    """

    input_domain: Optional[Tuple[float, float]] = None

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        width: int,
        depth: int,
        activation: ActivationFactory,
        init: Optional[LayerInit] = None,
        *,
        bias: bool = True,
        output_activation: str = "none",
    ) -> None:
        super().__init__()
        self.in_dim = check_count("in_dim", in_dim)
        self.out_dim = check_count("out_dim", out_dim)
        self.width = check_count("width", width)
        self.depth = check_count("depth", depth, minimum=0, maximum=MAX_DEPTH)
        _check_parameter_memory(type(self).__name__, in_dim, out_dim, width, depth)
        if not isinstance(bias, bool):
            raise ValueError(f"bias must be True or False, got {bias!r}")
        self.output_activation = check_choice(
            "output_activation", output_activation, OUTPUT_ACTIVATIONS
        )
        layers: List[nn.Module] = []
        fan_in = in_dim
        for index in range(depth):
            role = "first" if index == 0 else "hidden"
            linear = nn.Linear(fan_in, width, bias=bias)
            if init is not None:
                init(linear, role)
            layers += [linear, activation(role)]
            fan_in = width
        head = nn.Linear(fan_in, out_dim, bias=bias)
        if init is not None:
            init(head, "last")
        layers.append(head)
        if output_activation == "sigmoid":
            layers.append(nn.Sigmoid())
        self.layers = nn.Sequential(*layers)

    def hidden_layers(self) -> List[Tuple[nn.Linear, nn.Module]]:
        """The ``depth`` pairs ``(linear, activation)``, input side first."""
        return [
            (cast(nn.Linear, self.layers[2 * i]), self.layers[2 * i + 1]) for i in range(self.depth)
        ]

    def output_layer(self) -> nn.Linear:
        """The final ``nn.Linear`` (``width -> out_dim``; ``in_dim -> out_dim`` for ``depth = 0``)."""
        return cast(nn.Linear, self.layers[2 * self.depth])

    def linear_layers(self) -> List[nn.Linear]:
        """All ``depth + 1`` linear layers, input side first."""
        return [linear for linear, _ in self.hidden_layers()] + [self.output_layer()]

    def forward(self, x: Tensor) -> Tensor:
        """``x (..., in_dim) -> (..., out_dim)``, in the dtype of the parameters."""
        if not isinstance(x, Tensor) or not x.is_floating_point():
            raise TypeError(
                f"{type(self).__name__}: x must be a floating-point tensor, got {x!r:.80}"
            )
        if x.dim() == 0 or x.shape[-1] != self.in_dim:
            raise ValueError(
                f"{type(self).__name__}: x must have shape (..., {self.in_dim}), got {tuple(x.shape)}"
            )
        return self.layers(x)

    def extra_repr(self) -> str:
        return (
            f"in_dim={self.in_dim}, out_dim={self.out_dim}, width={self.width}, depth={self.depth}, "
            f"output_activation={self.output_activation!r}"
        )
