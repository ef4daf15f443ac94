"""Drop-in equivalents of the encoders of popular NeRF codebases.

Each class takes the original's constructor arguments, produces the original's output
layout, and keeps its attribute and buffer names, so existing code and checkpoints keep
working while the features come from coordnet's fused kernel:

==============================================  =============================================
original                                        coordnet
==============================================  =============================================
nerf-pytorch ``get_embedder(multires, i)``      :func:`get_embedder`
nerf-pytorch ``Embedder(**kwargs)``             :class:`NerfPytorchEmbedder`
nerfstudio ``NeRFEncoding`` (torch path)        :class:`NeRFEncoding`
nerfstudio ``RFFEncoding``                      :class:`RFFEncoding`
tiny-cuda-nn ``{"otype": "Frequency"}``         :func:`tcnn_frequency`
==============================================  =============================================

Outputs agree with the originals within float32 rounding of the phase (nerfstudio computes
``cos`` as ``sin(z + π/2)``; coordnet reduces phases exactly), and to float64 rounding in float64.
"""
from __future__ import annotations

import math
from typing import Callable, Optional, Tuple

import torch
from torch import Tensor, nn

from coordnet.encoders.base import Encoder, no_autocast
from coordnet.encoders.fourier import PositionalEncoding
from coordnet.validation import check_count, check_positive
from coordnet.ops import fourier_features


class NerfPytorchEmbedder(PositionalEncoding):
    """nerf-pytorch's ``Embedder``: ``[x, sin(f_0 x), cos(f_0 x), sin(f_1 x), cos(f_1 x), ...]``.

    ``f_l = 2**l`` for ``l = 0..multires-1`` (``log_sampling``) or linearly spaced from 1 to
    ``2**(multires-1)``; no factor of π. Raw coordinates of any range.
    ``(..., input_dims) -> (..., input_dims * (include_input + 2 * multires))``.
    """

    input_domain = None

    def __init__(
        self, multires: int = 10, input_dims: int = 3, include_input: bool = True, log_sampling: bool = True
    ) -> None:
        super().__init__(
            input_dims,
            multires,
            max_log2_freq=multires - 1,
            spacing="log" if log_sampling else "linear",
            factor=1.0,
            layout="nerf-pytorch",
            include_input="first" if include_input else False,
        )

    def embed(self, x: Tensor) -> Tensor:
        """nerf-pytorch's name for the forward pass."""
        return self(x)


def get_embedder(multires: int, i: int = 0, input_dims: int = 3) -> Tuple[Callable[[Tensor], Tensor], int]:
    """nerf-pytorch's ``get_embedder``: ``(embed_fn, out_dim)``; ``i = -1`` gives the identity."""
    if i == -1:
        return nn.Identity(), input_dims
    embedder = NerfPytorchEmbedder(multires, input_dims=input_dims)
    return embedder, embedder.out_dim


class NeRFEncoding(PositionalEncoding):
    """nerfstudio's ``NeRFEncoding`` (torch implementation).

    ``f_l = 2**linspace(min_freq_exp, max_freq_exp, num_frequencies)``, phases ``2π f_l x_j``,
    layout ``[sin of all (j, l), cos of all (j, l)]`` then ``x`` if ``include_input``.
    With ``covs (..., d, d)`` it returns nerfstudio's integrated encoding, whose phase variance
    is ``cov_jj f_l²`` (nerfstudio leaves out the ``(2π)²`` factor; kept for equivalence —
    use :class:`~coordnet.encoders.IntegratedPositionalEncoding` for the exact expectation).
    """

    def __init__(
        self,
        in_dim: int,
        num_frequencies: int,
        min_freq_exp: float,
        max_freq_exp: float,
        include_input: bool = False,
        implementation: str = "torch",
    ) -> None:
        if implementation not in ("torch", "tcnn"):
            raise ValueError(f"implementation must be 'torch' or 'tcnn', got {implementation!r}")
        super().__init__(
            in_dim,
            num_frequencies,
            min_log2_freq=min_freq_exp,
            max_log2_freq=max_freq_exp,
            layout="blocks",
            include_input="last" if include_input else False,
        )
        self.min_freq, self.max_freq = float(min_freq_exp), float(max_freq_exp)
        self.include_input = bool(include_input)

    def forward(self, in_tensor: Tensor, covs: Optional[Tensor] = None) -> Tensor:
        """``in_tensor (..., d)``, optional ``covs (..., d, d)`` -> ``(..., out_dim)``."""
        if covs is None:
            return super().forward(in_tensor)
        x = self.check_input(in_tensor, "in_tensor")
        if covs.shape != (*x.shape, self.in_dim):
            raise ValueError(f"NeRFEncoding: covs must have shape {(*x.shape, self.in_dim)}, got {tuple(covs.shape)}")
        with no_autocast(x.device):
            freqs = self.frequencies.to(x.dtype)
            phase = (2 * math.pi * x[..., None] * freqs).flatten(-2)
            variance = (torch.diagonal(covs, dim1=-2, dim2=-1).to(x.dtype)[..., None] * freqs**2).flatten(-2)
            damping = torch.exp(-0.5 * variance)
            encoded = torch.cat((damping * torch.sin(phase), damping * torch.cos(phase)), dim=-1)
            return torch.cat((encoded, x), dim=-1) if self.include_input else encoded


class RFFEncoding(Encoder):
    """nerfstudio's ``RFFEncoding``: ``b_matrix (in_dim, M) ~ N(0, scale²)``,
    ``[sin(2π x b), cos(2π x b)]`` then ``x`` if ``include_input``. ``(..., d) -> (..., 2M [+ d])``.

    ``b_matrix`` is a buffer of the original's name and shape, so nerfstudio state dicts load.
    It is drawn from ``torch.Generator().manual_seed(seed)`` (nerfstudio draws from the global RNG).
    """

    input_domain = (0.0, 1.0)

    def __init__(
        self, in_dim: int, num_frequencies: int, scale: float, include_input: bool = False, seed: int = 0
    ) -> None:
        super().__init__(in_dim)
        check_count("num_frequencies", num_frequencies)
        if not scale > 0:
            raise ValueError(f"RFFEncoding: scale must be greater than zero, got {scale!r}")
        generator = torch.Generator().manual_seed(int(seed))
        self.register_buffer("b_matrix", torch.randn(in_dim, num_frequencies, generator=generator) * check_positive("scale", scale))
        self.num_frequencies = num_frequencies
        self.include_input = bool(include_input)
        self.out_dim = 2 * num_frequencies + (in_dim if include_input else 0)

    def forward(self, in_tensor: Tensor) -> Tensor:
        x = self.check_input(in_tensor, "in_tensor")
        with no_autocast(x.device):
            B = self.b_matrix.to(x.dtype).transpose(0, 1)
            return fourier_features(x, B, include_input="last" if self.include_input else None)


def tcnn_frequency(n_input_dims: int, n_frequencies: int = 12) -> PositionalEncoding:
    """tiny-cuda-nn's ``Frequency`` encoding: per coordinate, per ``l < n_frequencies``,
    ``sin(2^l π x), cos(2^l π x)`` interleaved. ``(..., d) -> (..., 2 d n_frequencies)``."""
    return PositionalEncoding(n_input_dims, n_frequencies, factor=math.pi, layout="tcnn")
