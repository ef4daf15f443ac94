"""Base class of coordnet's input encodings."""

from __future__ import annotations

import contextlib
from typing import Any, Dict, Optional, Tuple

import torch
from torch import Tensor, nn

from coordnet.validation import check_count

LOW_PRECISION = (torch.float16, torch.bfloat16)


class Encoder(nn.Module):
    """An input encoding: ``forward(x: (..., in_dim)) -> (..., out_dim)``.

    Attributes:
        in_dim: size of the last input dimension.
        out_dim: size of the last output dimension.
        input_domain: the per-coordinate interval the encoding is designed for
            (``None``: any real value). Inputs outside it are still valid; each encoder
            documents what happens there.
    """

    in_dim: int
    out_dim: int
    input_domain: Optional[Tuple[float, float]] = None
    #: The tiny-cuda-nn style config an encoder was built from (set by ``from_config``).
    config: Dict[str, Any]

    def __init__(self, in_dim: int) -> None:
        super().__init__()
        self.in_dim = check_count("in_dim", in_dim)

    def get_out_dim(self) -> int:
        """``out_dim``, under the name nerfstudio's encodings use."""
        return self.out_dim

    def check_input(self, x: Tensor, name: str = "x") -> Tensor:
        """Validate ``x`` (..., in_dim) and return it in float32 or float64.

        float16/bfloat16 inputs are promoted to float32: phases of high frequencies in
        half precision are wrong by whole radians.
        """
        if not isinstance(x, Tensor):
            raise TypeError(
                f"{type(self).__name__}: {name} must be a torch.Tensor, got {type(x).__name__}"
            )
        if not x.is_floating_point():
            raise TypeError(
                f"{type(self).__name__}: {name} must be a floating-point tensor, got dtype {x.dtype}"
            )
        if x.dim() == 0 or x.shape[-1] != self.in_dim:
            raise ValueError(
                f"{type(self).__name__}: {name} must have shape (..., {self.in_dim}), got {tuple(x.shape)}"
            )
        if x.dtype in LOW_PRECISION:
            x = x.float()
        return x

    def extra_repr(self) -> str:
        return f"in_dim={self.in_dim}, out_dim={self.out_dim}"


#: Device types autocast knows; others (``meta`` for shape inference, ...) never autocast.
AUTOCAST_DEVICE_TYPES = ("cpu", "cuda", "xpu", "mps", "hpu", "mtia", "xla", "ipu")


def no_autocast(device: torch.device):
    """Context in which autocast is off for ``device`` (encoders compute in full precision);
    nothing to switch off on devices autocast does not know, such as ``meta``."""
    if device.type not in AUTOCAST_DEVICE_TYPES or not torch.is_autocast_enabled(device.type):
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, enabled=False)


def like_input(t: Tensor, x: Tensor) -> Tensor:
    """``t`` (a parameter or buffer) on ``x``'s device when ``x`` is a ``meta`` tensor (shape
    inference: the result holds no data, so nothing is copied), else ``t`` itself."""
    return t.to(x.device) if x.device.type == "meta" and t.device != x.device else t
