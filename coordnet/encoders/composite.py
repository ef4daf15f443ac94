"""Assembling encodings: different encoders on slices of the input, and constant padding.

* :class:`Composite` — tiny-cuda-nn's ``Composite``: each nested encoder reads its own slice of
  the input coordinates; the outputs are concatenated (or summed / multiplied). Input
  coordinates that no nested encoder reads are dropped.
* :class:`Padded` — an encoder's output with constant columns before or after it, the way
  tiny-cuda-nn pads encodings to the alignment its networks and nested grids need.
* :class:`Empty` — tiny-cuda-nn's ``Empty``: consumes its inputs, outputs nothing.
"""

from __future__ import annotations

from typing import Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

from coordnet.encoders.base import Encoder
from coordnet.validation import check_choice, check_count, check_real

REDUCTIONS = ("concatenation", "sum", "product")


def _dims(module: nn.Module, what: str) -> Tuple[int, int]:
    """``(in_dim, out_dim)`` of a nested encoder, checked to be non-negative integers."""
    dims = []
    for attribute in ("in_dim", "out_dim"):
        value = getattr(module, attribute, None)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(
                f"{what} ({type(module).__name__}) needs an integer attribute {attribute}, got {value!r}"
            )
        dims.append(value)
    return dims[0], dims[1]


class Composite(Encoder):
    """Several encoders on slices of the input: ``(..., in_dim) -> (..., out_dim)``.

    Nested encoder ``i`` reads ``x[..., begins[i] : begins[i] + encoders[i].in_dim]``
    (``begins`` default: one slice after the other from 0, tiny-cuda-nn's ``n_dims_to_encode``
    order; explicit ``begins`` are its ``dims_to_encode_begin``). Slices may not reach past
    ``in_dim``; coordinates outside every slice are ignored.

    Args:
        in_dim: size of the input's last dimension.
        encoders: the nested encoders (modules with ``in_dim`` and ``out_dim``).
        begins: first input coordinate of each encoder's slice.
        reduction: ``"concatenation"`` (``out_dim`` = sum of the nested ``out_dim``),
            ``"sum"`` or ``"product"`` (element-wise over nested outputs of one common width).

    ``input_domain``: the nested encoders' common domain; ``None`` if they declare different
    ones (the coordinates are then passed on as given).
    """

    def __init__(
        self,
        in_dim: int,
        encoders: Sequence[nn.Module],
        begins: Optional[Sequence[int]] = None,
        reduction: str = "concatenation",
    ) -> None:
        super().__init__(in_dim)
        encoders = list(encoders)
        if not encoders:
            raise ValueError("encoders must hold at least one nested encoder, got none")
        for i, encoder in enumerate(encoders):
            if not isinstance(encoder, nn.Module):
                raise TypeError(f"encoders[{i}] must be an nn.Module, got {type(encoder).__name__}")
        dims = [_dims(e, f"encoders[{i}]") for i, e in enumerate(encoders)]
        widths = [width for _, width in dims]
        if begins is None:
            starts, offset = [], 0
            for nested_in, _ in dims:
                starts.append(offset)
                offset += nested_in
        else:
            starts = list(begins)
            if len(starts) != len(encoders):
                raise ValueError(
                    f"begins must give one start per encoder ({len(encoders)}), got {len(starts)}"
                )
            for i, start in enumerate(starts):
                check_count(f"begins[{i}]", start, minimum=0)
        for i, (encoder, (nested_in, _), start) in enumerate(zip(encoders, dims, starts)):
            if start + nested_in > in_dim:
                raise ValueError(
                    f"encoders[{i}] ({type(encoder).__name__}) reads input coordinates "
                    f"{start}..{start + nested_in - 1}"
                    f" but in_dim is {in_dim}: the nested encoders may not encode more dims than the composite"
                )
        self.reduction = check_choice("reduction", reduction, REDUCTIONS)
        if reduction != "concatenation" and len(set(widths)) > 1:
            raise ValueError(
                f"reduction {reduction!r} needs nested encoders of one output width, got widths {widths}"
            )
        self.encoders = nn.ModuleList(encoders)
        self.begins: Tuple[int, ...] = tuple(starts)
        self.spans: Tuple[int, ...] = tuple(nested_in for nested_in, _ in dims)  # coordinates read
        self.out_dim = sum(widths) if reduction == "concatenation" else widths[0]
        domains = {getattr(e, "input_domain", None) for e in encoders} - {None}
        self.input_domain = domains.pop() if len(domains) == 1 else None

    def forward(self, x: Tensor) -> Tensor:
        """``x (..., in_dim) -> (..., out_dim)``."""
        x = self.check_input(x)
        outputs = [
            encoder(x[..., start : start + span])
            for encoder, start, span in zip(self.encoders, self.begins, self.spans)
        ]
        if self.reduction == "concatenation":
            return torch.cat(outputs, dim=-1)
        result = outputs[0]
        for output in outputs[1:]:
            result = result + output if self.reduction == "sum" else result * output
        return result

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, begins={self.begins}, reduction={self.reduction!r}"


class Padded(Encoder):
    """``encoder``'s output with ``n_front`` constant columns before it and ``n_back`` after it.

    ``(..., in_dim) -> (..., n_front + encoder.out_dim + n_back)``; the constants are ``value``
    and carry no gradient. tiny-cuda-nn pads its encodings this way to the width its networks
    need (a multiple of 16) and, inside a ``Composite``, to the alignment of the next grid.
    """

    def __init__(
        self, encoder: nn.Module, n_front: int = 0, n_back: int = 0, value: float = 1.0
    ) -> None:
        nested_in, width = _dims(encoder, "encoder")
        super().__init__(nested_in)
        self.encoder = encoder
        self.n_front = check_count("n_front", n_front, minimum=0)
        self.n_back = check_count("n_back", n_back, minimum=0)
        self.value = check_real("value", value)
        self.out_dim = n_front + width + n_back
        self.input_domain = getattr(encoder, "input_domain", None)

    def forward(self, x: Tensor) -> Tensor:
        """``x (..., in_dim) -> (..., out_dim)``."""
        y = self.encoder(x)
        if not self.n_front and not self.n_back:
            return y
        shape = y.shape[:-1]
        front = y.new_full((*shape, self.n_front), self.value)
        back = y.new_full((*shape, self.n_back), self.value)
        return torch.cat((front, y, back), dim=-1)

    def extra_repr(self) -> str:
        return f"n_front={self.n_front}, n_back={self.n_back}, value={self.value:g}"


class Empty(Encoder):
    """tiny-cuda-nn's ``Empty``: consumes ``in_dim`` coordinates, outputs none: ``(..., d) -> (..., 0)``."""

    input_domain = None

    def __init__(self, in_dim: int) -> None:
        super().__init__(in_dim)
        self.out_dim = 0

    def forward(self, x: Tensor) -> Tensor:
        """``x (..., in_dim) -> (..., 0)`` (connected to ``x``, so gradients are zeros, not ``None``)."""
        x = self.check_input(x)
        return x[..., :0]
