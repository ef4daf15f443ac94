"""The identity encoding (raw coordinates), with an optional affine map."""

from __future__ import annotations

from torch import Tensor

from coordnet.encoders.base import Encoder
from coordnet.validation import check_real


class Identity(Encoder):
    """``x -> scale * x + offset``: raw coordinates, the "no mapping" baseline. ``(..., d) -> (..., d)``.

    ``Identity(d, scale=2, offset=-1)`` maps ``[0, 1]`` to ``[-1, 1]`` (tiny-cuda-nn's
    ``Identity`` has the same two parameters). Defined for any real input.
    """

    input_domain = None

    def __init__(self, in_dim: int, scale: float = 1.0, offset: float = 0.0) -> None:
        super().__init__(in_dim)
        for name, value in (("scale", scale), ("offset", offset)):
            check_real(name, value)
        self.scale = float(scale)
        self.offset = float(offset)
        self.out_dim = in_dim

    def forward(self, x: Tensor) -> Tensor:
        x = self.check_input(x)
        if self.scale == 1.0 and self.offset == 0.0:
            return x
        return x * self.scale + self.offset

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, scale={self.scale:g}, offset={self.offset:g}"
