"""FFT bookkeeping: amplitudes of 1D signals at integer frequencies, radial bands of 2D spectra.

Conventions
-----------
A 1D signal is ``n`` samples of one period, ``t_j = j / n`` for ``j = 0..n-1`` (the half-open
grid of :func:`coordnet.signals.grid_axis`); frequency ``k`` means ``k`` cycles per period
(per domain length), integer ``0 <= k <= n // 2`` (the Nyquist frequency). With the discrete
Fourier transform ``X_k = sum_j x_j exp(-2πi jk/n)``:

* the **amplitude** at ``k`` is ``2 |X_k| / n`` for ``0 < k < n/2`` and ``|X_k| / n`` for ``k = 0``
  and (``n`` even) ``k = n/2``, so that ``A sin(2π k t + φ)`` has amplitude ``A`` at ``k`` and 0
  elsewhere, and a constant ``c`` has amplitude ``|c|`` at 0 (at the Nyquist frequency only the
  cosine part is visible on the grid: ``A cos(π n t + φ)`` gives ``|A cos φ|``);
* the **coefficient** at ``k`` is the complex number of the same normalisation (``2 X_k / n``
  or ``X_k / n``); its modulus is the amplitude, its argument the phase of the cosine.

A 2D signal (image) ``(H, W)`` or ``(H, W, C)`` is one period on each axis. Its frequencies
``(f_y, f_x)`` are in cycles per sample (``numpy.fft.fftfreq``), and the **normalised radius**
``ρ = sqrt((2 f_y)² + (2 f_x)²)`` is 1 at the Nyquist frequency of an axis (corners reach √2).
:class:`RadialBands` splits ``ρ ∈ (0, 1]`` into ``B`` equal bands, band ``b`` holding
``b/B < ρ <= (b+1)/B`` and the last band also the corners ``ρ > 1``. The DC term (``ρ = 0``,
the mean) belongs to no band. **Band energies** are ``sum_{bins in band} |X|² / (H W)² / C``,
so that (Parseval) they add up to the variance of the values about their per-channel mean,
averaged over channels: for an error image, the MSE minus the squared mean error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor

from coordnet.validation import check_count

ArrayLike = Union[Tensor, np.ndarray, Sequence[float]]


def unit_grid(n: int) -> Tensor:
    """``t_j = j / n`` for ``j = 0..n-1``: float64 ``(n,)``, one period of ``[0, 1)`` (the half-open grid above)."""
    check_count("n", n, minimum=2)
    return torch.arange(n, dtype=torch.float64) / n


def _as_float64(name: str, values: ArrayLike) -> Tensor:
    if isinstance(values, Tensor):
        tensor = values.detach().cpu()
    else:
        try:
            tensor = torch.as_tensor(np.asarray(values))
        except (TypeError, ValueError) as error:
            raise TypeError(
                f"{name} must be a tensor or array of numbers, got {type(values).__name__}"
            ) from error
    if tensor.is_complex():
        raise TypeError(f"{name} must be real, got dtype {tensor.dtype}")
    if tensor.dtype == torch.bool:
        raise TypeError(f"{name} must hold real numbers, got dtype {tensor.dtype}")
    tensor = tensor.to(torch.float64)
    if tensor.numel() and not torch.isfinite(tensor).all():
        bad = int((~torch.isfinite(tensor)).sum())
        raise ValueError(f"{name} contains {bad} NaN or infinite value(s)")
    return tensor


def check_frequencies(
    frequencies: Union[int, Sequence[int], ArrayLike], n: int, name: str = "frequencies"
) -> Tensor:
    """``frequencies`` as an int64 tensor ``(K,)`` of distinct integers in ``[0, n // 2]``.

    Raises ``ValueError`` naming the offending frequency: negative, non-integer, or above the
    Nyquist frequency ``n // 2`` of ``n`` samples.
    """
    raw = torch.as_tensor(np.asarray(frequencies, dtype=np.float64)).reshape(-1)
    if raw.numel() == 0:
        raise ValueError(f"{name} must not be empty")
    if not torch.isfinite(raw).all():
        raise ValueError(f"{name} must be finite integers, got {raw.tolist()}")
    rounded = torch.round(raw)
    if not torch.equal(rounded, raw):
        bad = raw[rounded != raw][0].item()
        raise ValueError(f"{name} must be integers (cycles per period), got {bad:g}")
    ks = rounded.to(torch.int64)
    if int(ks.min()) < 0:
        raise ValueError(f"{name} must be >= 0, got {int(ks.min())}")
    nyquist = n // 2
    if int(ks.max()) > nyquist:
        raise ValueError(
            f"{name}: frequency {int(ks.max())} is above the Nyquist frequency {nyquist} of {n} samples "
            f"(resolvable frequencies are 0..{nyquist})"
        )
    if torch.unique(ks).numel() != ks.numel():
        raise ValueError(f"{name} must be distinct, got {ks.tolist()}")
    return ks


def _signal_1d(signal: ArrayLike, name: str = "signal") -> Tensor:
    x = _as_float64(name, signal)
    if x.dim() == 0:
        raise ValueError(f"{name} must have at least one axis (samples last), got a scalar")
    n = x.shape[-1]
    if n == 0:
        raise ValueError(f"{name} is empty: shape {tuple(x.shape)}")
    if n < 2:
        raise ValueError(f"{name} needs at least 2 samples along its last axis, got {n}")
    return x


def fourier_coefficients(
    signal: ArrayLike, frequencies: Union[int, Sequence[int], ArrayLike]
) -> Tensor:
    """Normalised complex Fourier coefficients of ``signal (..., n)`` at ``frequencies (K,)``.

    Returns complex128 ``(..., K)``: ``2 X_k / n`` for ``0 < k < n/2``, ``X_k / n`` for ``k = 0``
    and ``k = n/2`` (see the module docstring), so ``A cos(2π k t + φ)`` gives ``A e^{iφ}``.
    """
    x = _signal_1d(signal)
    n = x.shape[-1]
    ks = check_frequencies(frequencies, n)
    spectrum = torch.fft.rfft(x, dim=-1)[..., ks]
    scale = torch.full((ks.numel(),), 2.0 / n, dtype=torch.float64)
    scale[ks == 0] = 1.0 / n
    if n % 2 == 0:
        scale[ks == n // 2] = 1.0 / n
    return spectrum * scale


def amplitudes(signal: ArrayLike, frequencies: Union[int, Sequence[int], ArrayLike]) -> Tensor:
    """Amplitudes of ``signal (..., n)`` (one period, samples last) at integer ``frequencies (K,)``.

    Returns float64 ``(..., K)``; a unit sinusoid ``sin(2π k t + φ)`` has amplitude 1 at ``k``
    (``|FFT| / n`` doubled for ``0 < k < n/2``; module docstring). Raises ``ValueError`` for
    frequencies above the Nyquist frequency ``n // 2``, signals with fewer than 2 samples, and
    NaN/inf values.
    """
    return fourier_coefficients(signal, frequencies).abs()


def _image(image: ArrayLike, name: str = "image") -> Tensor:
    x = _as_float64(name, image)
    if x.dim() == 2:
        x = x[..., None]
    if x.dim() != 3:
        raise ValueError(f"{name} must have shape (H, W) or (H, W, C), got {tuple(x.shape)}")
    if x.numel() == 0:
        raise ValueError(f"{name} is empty: shape {tuple(x.shape)}")
    if x.shape[0] < 2 or x.shape[1] < 2:
        raise ValueError(
            f"{name} needs at least 2 samples along each axis, got shape {tuple(x.shape)}"
        )
    return x


def normalised_radius(grid_shape: Tuple[int, int]) -> Tensor:
    """``ρ (H, W)`` float64: radius of each FFT bin, 1 at an axis' Nyquist frequency (module docstring)."""
    height = check_count("grid height", int(grid_shape[0]), 2)
    width = check_count("grid width", int(grid_shape[1]), 2)
    fy = torch.fft.fftfreq(height, dtype=torch.float64)[:, None]
    fx = torch.fft.fftfreq(width, dtype=torch.float64)[None, :]
    return torch.sqrt((2 * fy) ** 2 + (2 * fx) ** 2)


@dataclass(frozen=True)
class RadialBands:
    """Radial bands of the 2D spectrum of a ``grid_shape = (H, W)`` grid.

    Attributes:
        grid_shape: ``(H, W)``.
        num_bands: ``B``.
        edges: float64 ``(B + 1,)``, ``linspace(0, 1, B + 1)`` in normalised radius; band ``b``
            holds ``edges[b] < ρ <= edges[b + 1]``, the last band also ``ρ > 1`` (the corners).
        centres: float64 ``(B,)``, band midpoints (``ρ`` units: 1 = Nyquist).
        index: int64 ``(H, W)``, the band of every FFT bin (``fft2`` layout), -1 for the DC bin.
        counts: int64 ``(B,)``, FFT bins per band.

    Call it on an image ``(H, W)`` or ``(H, W, C)`` to get the band energies ``(B,)``.
    """

    grid_shape: Tuple[int, int]
    num_bands: int
    edges: Tensor
    centres: Tensor
    index: Tensor
    counts: Tensor

    @staticmethod
    def max_bands(grid_shape: Sequence[int]) -> int:
        """The most bands every one of which holds a frequency: ``min(H, W) // 2``."""
        return max(1, min(int(n) for n in grid_shape) // 2)

    @classmethod
    def for_grid(cls, grid_shape: Sequence[int], num_bands: int = 8) -> "RadialBands":
        """Bands for ``grid_shape (H, W)``; ``num_bands`` equal bands of ``ρ`` on ``(0, 1]``.

        Raises ``ValueError`` when a band would hold no FFT bin (more than
        :meth:`max_bands` bands can leave some empty).
        """
        if len(grid_shape) != 2:
            raise ValueError(f"grid_shape must be (H, W), got {tuple(grid_shape)}")
        shape = (int(grid_shape[0]), int(grid_shape[1]))
        check_count(  # each band needs an FFT bin: refused before allocating the edges
            "num_bands",
            num_bands,
            maximum=shape[0] * shape[1],
            why=f"a {shape[0]}x{shape[1]} grid has {shape[0] * shape[1]} frequencies",
        )
        rho = normalised_radius(shape)
        edges = torch.linspace(0.0, 1.0, num_bands + 1, dtype=torch.float64)
        # ceil(ρ B) - 1 with a tolerance, so that a radius on an edge (ρ = b/B) joins band b - 1.
        index = torch.clamp(
            torch.ceil(rho * num_bands - 1e-9).to(torch.int64) - 1, max=num_bands - 1
        )
        index[0, 0] = -1
        counts = torch.bincount(index[index >= 0], minlength=num_bands)
        if bool((counts == 0).any()):
            empty = int(torch.nonzero(counts == 0)[0])
            raise ValueError(
                f"num_bands={num_bands} is too many for a {shape[0]}x{shape[1]} grid: band {empty} "
                f"(radius {edges[empty]:.3g}..{edges[empty + 1]:.3g} of Nyquist) holds no frequency; "
                f"at most {cls.max_bands(shape)} bands are always safe"
            )
        centres = 0.5 * (edges[:-1] + edges[1:])
        return cls(shape, num_bands, edges, centres, index, counts)

    def __call__(self, image: ArrayLike) -> Tensor:
        """Band energies of ``image (H, W[, C])``: float64 ``(B,)`` summing to its variance
        (about the per-channel mean, averaged over channels)."""
        x = _image(image)
        if tuple(x.shape[:2]) != self.grid_shape:
            raise ValueError(
                f"image has grid {tuple(x.shape[:2])}, these bands are for {self.grid_shape}"
            )
        power = torch.fft.fft2(x, dim=(0, 1)).abs() ** 2  # (H, W, C)
        per_bin = (power.sum(dim=-1) / (x.shape[0] * x.shape[1]) ** 2 / x.shape[2]).reshape(-1)
        index = self.index.reshape(-1)
        keep = index >= 0
        return torch.zeros(self.num_bands, dtype=torch.float64).index_add_(
            0, index[keep], per_bin[keep]
        )


def radial_band_energy(image: ArrayLike, num_bands: int = 8) -> Tensor:
    """Energy of ``image (H, W[, C])`` in ``num_bands`` radial bands of its 2D FFT: float64 ``(B,)``.

    Shorthand for ``RadialBands.for_grid(image.shape[:2], num_bands)(image)``; the energies add
    up to the variance of the image (module docstring).
    """
    x = _image(image)
    return RadialBands.for_grid(tuple(x.shape[:2]), num_bands)(x)


__all__ = [
    "RadialBands",
    "amplitudes",
    "check_frequencies",
    "fourier_coefficients",
    "normalised_radius",
    "radial_band_energy",
    "unit_grid",
]
