"""The identity encoding (raw coordinates), with an optional affine map."""

from __future__ import annotations

import torch
from torch import Tensor

from coordnet.encoders.base import Encoder
from coordnet.validation import check_real

FLOAT32_MAX = float(torch.finfo(torch.float32).max)


class Identity(Encoder):
    """``x -> scale * x + offset``: raw coordinates, the "no mapping" baseline. ``(..., d) -> (..., d)``.

    ``Identity(d, scale=2, offset=-1)`` maps ``[0, 1]`` to ``[-1, 1]`` (tiny-cuda-nn's
    ``Identity`` has the same two parameters). Defined for any real input.

    Range: ``scale`` and ``offset`` must be finite in float32 (``|value| <= 3.4e38``; larger
    values would make every float32 output infinite, so the constructor refuses them). The output
    is computed in ``x``'s dtype, so it overflows to ``±inf`` only where ``|scale · x + offset|``
    itself exceeds that dtype's range.
    """

    input_domain = None

    def __init__(self, in_dim: int, scale: float = 1.0, offset: float = 0.0) -> None:
        super().__init__(in_dim)
        for name, value in (("scale", scale), ("offset", offset)):
            check_real(name, value)
            if abs(float(value)) > FLOAT32_MAX:
                raise ValueError(
                    f"Identity: {name} must be at most {FLOAT32_MAX:.4g} in magnitude (beyond it "
                    f"float32 outputs are infinite), got {float(value):g}"
                )
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
