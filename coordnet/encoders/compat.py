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
nerfstudio ``SHEncoding`` (torch path)          :class:`SHEncoding`
nerfstudio ``HashEncoding`` (torch path)        :class:`HashEncoding`
tiny-cuda-nn ``{"otype": "Frequency"}``         :func:`tcnn_frequency`
==============================================  =============================================

Outputs agree with the originals within float32 rounding of the phase (nerfstudio computes
``cos`` as ``sin(z + π/2)``; coordnet reduces phases exactly), and to float64 rounding in float64.
``SHEncoding`` and ``HashEncoding`` agree within float32 rounding of their polynomials and
interpolation weights. Other tiny-cuda-nn encodings: :func:`coordnet.encoders.from_config`.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Optional, Tuple

import torch
from torch import Tensor, nn

from coordnet.encoders.base import Encoder, no_autocast
from coordnet.encoders.fourier import PositionalEncoding
from coordnet.encoders.hashgrid import HashGrid, nerfstudio_growth
from coordnet.encoders.spherical import SphericalHarmonics
from coordnet.encoders.tinycudann import check_implementation, resolve_tinycudann
from coordnet.ops import fourier_features
from coordnet.validation import check_count, check_positive


class NerfPytorchEmbedder(PositionalEncoding):
    """nerf-pytorch's ``Embedder``: ``[x, sin(f_0 x), cos(f_0 x), sin(f_1 x), cos(f_1 x), ...]``.

    ``f_l = 2**l`` for ``l = 0..multires-1`` (``log_sampling``) or linearly spaced from 1 to
    ``2**(multires-1)``; no factor of π. Raw coordinates of any range.
    ``(..., input_dims) -> (..., input_dims * (include_input + 2 * multires))``.
    """

    input_domain = None

    def __init__(
        self,
        multires: int = 10,
        input_dims: int = 3,
        include_input: bool = True,
        log_sampling: bool = True,
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


def get_embedder(
    multires: int, i: int = 0, input_dims: int = 3
) -> Tuple[Callable[[Tensor], Tensor], int]:
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
        check_implementation(implementation)
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
            raise ValueError(
                f"NeRFEncoding: covs must have shape {(*x.shape, self.in_dim)}, got {tuple(covs.shape)}"
            )
        with no_autocast(x.device):
            freqs = self.frequencies.to(x.dtype)
            phase = (2 * math.pi * x[..., None] * freqs).flatten(-2)
            variance = (
                torch.diagonal(covs, dim1=-2, dim2=-1).to(x.dtype)[..., None] * freqs**2
            ).flatten(-2)
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
    b_matrix: Tensor  # (in_dim, M), a buffer

    def __init__(
        self,
        in_dim: int,
        num_frequencies: int,
        scale: float,
        include_input: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__(in_dim)
        check_count("num_frequencies", num_frequencies)
        if not scale > 0:
            raise ValueError(f"RFFEncoding: scale must be greater than zero, got {scale!r}")
        generator = torch.Generator().manual_seed(int(seed))
        self.register_buffer(
            "b_matrix",
            torch.randn(in_dim, num_frequencies, generator=generator)
            * check_positive("scale", scale),
        )
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


class SHEncoding(SphericalHarmonics):
    """nerfstudio's ``SHEncoding(levels, implementation)``: ``(..., 3) -> (..., levels²)``.

    The torch path is nerfstudio's ``components_from_spherical_harmonics(levels, directions)``:
    raw directions, no Condon–Shortley signs (:class:`~coordnet.encoders.SphericalHarmonics`
    with ``convention="nerfstudio"``). Like nerfstudio, ``levels`` is 1–4 (the function behind it
    goes to 5: use ``SphericalHarmonics(3, 5, convention="nerfstudio")``), and
    ``implementation="tcnn"`` runs tiny-cuda-nn where it is importable and the torch path
    otherwise. Differences: gradients flow (nerfstudio's torch path runs under ``no_grad``), and
    the output has the input's dtype (nerfstudio's has the default dtype).

    Note that the two paths differ in nerfstudio itself: tiny-cuda-nn maps ``[0, 1]`` inputs to
    ``[-1, 1]`` and flips the sign of odd ``m``; ``SphericalHarmonics(convention="tcnn")`` gives
    tiny-cuda-nn's numbers without tiny-cuda-nn.
    """

    def __init__(self, levels: int = 4, implementation: str = "torch") -> None:
        if isinstance(levels, bool) or not isinstance(levels, int) or levels <= 0 or levels > 4:
            raise ValueError(
                f"Spherical harmonic encoding only supports 1 to 4 levels, requested {levels!r}"
            )
        super().__init__(3, levels, convention="nerfstudio")
        self.levels = levels
        tcnn = resolve_tinycudann("SHEncoding", implementation)
        self.tcnn_encoding = None
        if tcnn is not None:
            self.tcnn_encoding = tcnn.Encoding(
                n_input_dims=3, encoding_config=self.get_tcnn_encoding_config(levels)
            )

    @classmethod
    def get_tcnn_encoding_config(cls, levels: int) -> dict:
        """nerfstudio's tiny-cuda-nn config: ``{"otype": "SphericalHarmonics", "degree": levels}``."""
        return {"otype": "SphericalHarmonics", "degree": levels}

    def pytorch_fwd(self, in_tensor: Tensor) -> Tensor:
        """The torch path: ``(..., 3) -> (..., levels²)``."""
        return super().forward(in_tensor)

    def forward(self, in_tensor: Tensor) -> Tensor:
        """``in_tensor (..., 3) -> (..., levels²)``."""
        if self.tcnn_encoding is not None:
            return self.tcnn_encoding(in_tensor)
        return self.pytorch_fwd(in_tensor)


class HashEncoding(HashGrid):
    """nerfstudio's ``HashEncoding`` (3D; same arguments): :class:`~coordnet.encoders.HashGrid`
    with ``convention="nerfstudio"``.

    Resolutions ``floor(min_res · b^l)`` with ``b = exp((ln max_res - ln min_res) / (num_levels - 1))``,
    every level hashed into its own ``2^log2_hashmap_size`` rows of ``hash_table``
    ``(num_levels · 2^log2_hashmap_size, features_per_level)``, initialised
    ``U(-hash_init_scale, hash_init_scale)``. The state dict holds ``hash_table`` in nerfstudio's
    shape, so nerfstudio checkpoints load (and ours load into nerfstudio); ``hash_table`` is a view
    of the flat trainable :attr:`params`. The nerfstudio attributes ``scalings``, ``hash_offset``,
    ``growth_factor``, ``hash_table_size`` are kept.

    ``implementation="tcnn"`` (nerfstudio's default) runs tiny-cuda-nn's ``HashGrid`` where it is
    importable, else (with a warning, as nerfstudio) the torch path; ``interpolation`` other than
    ``None``/``"Linear"`` needs tiny-cuda-nn, as in nerfstudio. ``seed`` seeds the table (nerfstudio
    draws it from the global RNG: ``seed=s`` gives its table after ``torch.manual_seed(s)``).
    """

    def __init__(
        self,
        num_levels: int = 16,
        min_res: int = 16,
        max_res: int = 1024,
        log2_hashmap_size: int = 19,
        features_per_level: int = 2,
        hash_init_scale: float = 0.001,
        implementation: str = "tcnn",
        interpolation: Optional[str] = None,
        *,
        seed: Optional[int] = 0,
    ) -> None:
        growth = nerfstudio_growth(num_levels, min_res, max_res)
        super().__init__(
            3,
            num_levels,
            features_per_level,
            log2_hashmap_size,
            min_res,
            float(growth),
            convention="nerfstudio",
            init_scale=hash_init_scale,
            seed=seed,
        )
        self.num_levels = num_levels
        self.min_res = min_res
        self.features_per_level = features_per_level
        self.hash_init_scale = hash_init_scale
        self.hash_table_size = 2**log2_hashmap_size
        self.growth_factor = growth
        scalings = torch.tensor(self.levels.scales)  # nerfstudio's floor(min_res * growth**l)
        self.scalings = (
            scalings if num_levels > 1 else scalings.long()
        )  # int64 too when growth is the int 1
        self.hash_offset = torch.arange(num_levels) * self.hash_table_size
        tcnn = resolve_tinycudann("HashEncoding", implementation)
        self.tcnn_encoding = None
        if tcnn is not None:
            config = self.get_tcnn_encoding_config(
                num_levels, features_per_level, log2_hashmap_size, min_res, growth, interpolation
            )
            self.tcnn_encoding = tcnn.Encoding(n_input_dims=3, encoding_config=config)
        elif interpolation is not None and interpolation != "Linear":
            raise ValueError(
                f"interpolation {interpolation!r} is not supported for torch encoding backend"
            )
        self.register_state_dict_post_hook(_params_to_hash_table)
        self.register_load_state_dict_pre_hook(_hash_table_to_params)

    @classmethod
    def get_tcnn_encoding_config(
        cls,
        num_levels,
        features_per_level,
        log2_hashmap_size,
        min_res,
        growth_factor,
        interpolation=None,
    ) -> dict:
        """nerfstudio's tiny-cuda-nn ``HashGrid`` config."""
        config = {
            "otype": "HashGrid",
            "n_levels": num_levels,
            "n_features_per_level": features_per_level,
            "log2_hashmap_size": log2_hashmap_size,
            "base_resolution": min_res,
            "per_level_scale": growth_factor,
        }
        if interpolation is not None:
            config["interpolation"] = interpolation
        return config

    @property
    def hash_table(self) -> Tensor:
        """``(num_levels · 2^log2_hashmap_size, features_per_level)`` view of :attr:`params`."""
        return self.table

    def pytorch_fwd(self, in_tensor: Tensor) -> Tensor:
        """The torch path: ``(..., 3) -> (..., num_levels · features_per_level)``."""
        return super().forward(in_tensor)

    def forward(self, in_tensor: Tensor) -> Tensor:
        """``in_tensor (..., 3)`` in ``[0, 1]`` -> ``(..., num_levels · features_per_level)``."""
        if self.tcnn_encoding is not None:
            return self.tcnn_encoding(in_tensor)
        return self.pytorch_fwd(in_tensor)


def _params_to_hash_table(
    module: HashEncoding, state_dict: dict, prefix: str, local_metadata: dict
) -> None:
    if prefix + "params" in state_dict:
        state_dict[prefix + "hash_table"] = state_dict.pop(prefix + "params").view(
            -1, module.features_per_level
        )


def _hash_table_to_params(module: HashEncoding, state_dict: dict, prefix: str, *args: Any) -> None:
    if prefix + "hash_table" in state_dict:
        state_dict[prefix + "params"] = state_dict.pop(prefix + "hash_table").reshape(-1)
