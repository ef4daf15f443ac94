"""Input encodings: plain ``nn.Module``s mapping ``(..., in_dim)`` to ``(..., out_dim)``.

================================  ====================================================
:class:`Identity`                 raw coordinates (optionally ``scale * x + offset``)
:class:`BasicFourier`             ``[sin 2πx, cos 2πx]`` (Tancik et al.'s "basic")
:class:`PositionalEncoding`       NeRF's axis-aligned sinusoids, in the layouts of
                                  nerfstudio, nerf-pytorch and tiny-cuda-nn
:class:`GaussianFourierFeatures`  random Fourier features, ``B ~ N(0, σ²)``
:class:`FourierFeatures`          any frequency matrix, fixed or learnable
:class:`IntegratedPositionalEncoding`  mip-NeRF's expected encoding of a Gaussian
================================  ====================================================

:mod:`coordnet.encoders.compat` holds drop-in equivalents of other codebases' encoders.
"""
from coordnet.encoders.annealing import annealing_alpha, cosine_window
from coordnet.encoders.base import Encoder
from coordnet.encoders.fourier import BasicFourier, FourierFeatures, GaussianFourierFeatures, PositionalEncoding
from coordnet.encoders.identity import Identity
from coordnet.encoders.integrated import IntegratedPositionalEncoding

__all__ = [
    "BasicFourier",
    "Encoder",
    "FourierFeatures",
    "GaussianFourierFeatures",
    "Identity",
    "IntegratedPositionalEncoding",
    "PositionalEncoding",
    "annealing_alpha",
    "cosine_window",
]
