"""Input encodings: plain ``nn.Module``s mapping ``(..., in_dim)`` to ``(..., out_dim)``.

================================  ====================================================
:class:`Identity`                 raw coordinates (optionally ``scale * x + offset``)
:class:`BasicFourier`             ``[sin 2πx, cos 2πx]`` (Tancik et al.'s "basic")
:class:`PositionalEncoding`       NeRF's axis-aligned sinusoids, in the layouts of
                                  nerfstudio, nerf-pytorch and tiny-cuda-nn
:class:`GaussianFourierFeatures`  random Fourier features, ``B ~ N(0, σ²)``
:class:`FourierFeatures`          any frequency matrix, fixed or learnable
:class:`IntegratedPositionalEncoding`  mip-NeRF's expected encoding of a Gaussian
:class:`HashGrid`                  instant-NGP's multiresolution hash grid (tiny-cuda-nn / nerfstudio)
:class:`SphericalHarmonics`       real spherical harmonics of directions (tiny-cuda-nn / nerfstudio)
:class:`OneBlob`                  tiny-cuda-nn's OneBlob (quartic-kernel bins)
:class:`TriangleWave`             tiny-cuda-nn's TriangleWave
:class:`Composite`                different encoders on slices of the input (tiny-cuda-nn's Composite)
:func:`from_config`               tiny-cuda-nn encoding configs (JSON) -> encoders
================================  ====================================================

:mod:`coordnet.encoders.compat` holds drop-in equivalents of other codebases' encoders;
:class:`Padded` and :class:`Empty` are the building blocks of tiny-cuda-nn's padding and ``Empty``.
"""

from coordnet.encoders.annealing import annealing_alpha, cosine_window
from coordnet.encoders.base import Encoder
from coordnet.encoders.composite import Composite, Empty, Padded
from coordnet.encoders.config import from_config
from coordnet.encoders.fourier import (
    BasicFourier,
    FourierFeatures,
    GaussianFourierFeatures,
    PositionalEncoding,
)
from coordnet.encoders.hashgrid import HashGrid
from coordnet.encoders.identity import Identity
from coordnet.encoders.integrated import IntegratedPositionalEncoding
from coordnet.encoders.oneblob import OneBlob
from coordnet.encoders.spherical import SphericalHarmonics
from coordnet.encoders.triangle_wave import TriangleWave

__all__ = [
    "BasicFourier",
    "Composite",
    "Empty",
    "Encoder",
    "FourierFeatures",
    "GaussianFourierFeatures",
    "HashGrid",
    "Identity",
    "IntegratedPositionalEncoding",
    "OneBlob",
    "Padded",
    "PositionalEncoding",
    "SphericalHarmonics",
    "TriangleWave",
    "annealing_alpha",
    "cosine_window",
    "from_config",
]
