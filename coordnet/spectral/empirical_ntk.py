"""Empirical neural tangent kernel of a coordinate network, and the frequency content of its eigenvectors.

The NTK of a scalar network ``f(x; p)`` at parameters ``p`` is ``Θ(x, z) = Σ_p ∂f(x)/∂p · ∂f(z)/∂p``;
under gradient descent on a squared loss the residual on the training points evolves by
``r ← (I − η Θ) r``, so each eigenvector of ``Θ`` is fitted at a rate given by its eigenvalue.
On a uniform 1D grid the eigenvectors are close to sinusoids, ordered from low to high
frequency: the kernel's *bandwidth* (how far in frequency the large eigenvalues reach) says
which frequencies the network can learn in reasonable time. Fourier-feature encoders widen it
(Tancik et al. 2020, "Fourier Features Let Networks Learn High Frequency Functions in Low
Dimensional Domains", Fig. 3): a ReLU MLP on raw coordinates has a few large eigenvalues with
low-frequency eigenvectors; with ``[sin 2πxB, cos 2πxB]`` in front, many more eigenvalues stay
within a fraction of the largest, with eigenvectors up to the encoding's frequencies.

Jacobians come from ``torch.func`` (``jacrev`` over the parameters, ``vmap`` over the points),
in chunks of points; the Gram matrix is ``J Jᵀ`` summed over all parameter tensors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, Mapping

import torch
from torch import Tensor, nn
from torch.func import functional_call, jacrev, vmap

from coordnet.encoders import GaussianFourierFeatures, PositionalEncoding
from coordnet.nets import ReluMLP
from coordnet.spectral.spectrum import unit_grid
from coordnet.validation import check_count, check_positive

ScalarFunction = Callable[[Dict[str, Tensor], Tensor], Tensor]


def _check_inputs(inputs: Tensor, name: str = "inputs") -> Tensor:
    if not isinstance(inputs, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(inputs).__name__}")
    if not inputs.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {inputs.dtype}")
    if inputs.dim() != 2:
        raise ValueError(f"{name} must have shape (n, in_dim), got {tuple(inputs.shape)}")
    if inputs.shape[0] == 0:
        raise ValueError(
            f"{name} is empty: need at least one point, got shape {tuple(inputs.shape)}"
        )
    return inputs


def ntk_gram(
    function: ScalarFunction,
    params: Mapping[str, Tensor],
    inputs: Tensor,
    *,
    chunk_size: int = 128,
) -> Tensor:
    """Empirical NTK Gram matrix ``Θ_ij = Σ_p ∂f(x_i)/∂p · ∂f(x_j)/∂p`` of a functional network.

    Args:
        function: ``function(params, x)`` maps a batch ``x (B, in_dim)`` to scalars ``(B,)``
            (each output depending only on its own input row).
        params: the parameters to differentiate, name -> tensor (any shapes).
        inputs: ``(n, in_dim)`` points.
        chunk_size: points per ``vmap(jacrev)`` call (memory: ``chunk_size × #params``).

    Returns:
        ``(n, n)`` symmetric positive semi-definite, in the parameters' dtype.
    """
    _check_inputs(inputs)
    check_count("chunk_size", chunk_size)
    params = dict(params)
    if not params:
        raise ValueError("params is empty: the NTK needs at least one parameter tensor")

    def single(p: Dict[str, Tensor], x: Tensor) -> Tensor:
        out = function(p, x[None])
        if out.numel() != 1:
            raise ValueError(
                f"function must return one scalar per input row, got shape {tuple(out.shape)} for one row"
            )
        return out.reshape(())

    per_point = vmap(jacrev(single), in_dims=(None, 0))
    rows = []
    for start in range(0, inputs.shape[0], chunk_size):
        jac = per_point(params, inputs[start : start + chunk_size])
        rows.append(torch.cat([j.reshape(j.shape[0], -1) for j in jac.values()], dim=1))
    jacobian = torch.cat(rows)  # (n, #params)
    gram = jacobian @ jacobian.T
    return 0.5 * (gram + gram.T)


def empirical_ntk(
    model: nn.Module, inputs: Tensor, *, output: int = 0, chunk_size: int = 128
) -> Tensor:
    """Empirical NTK of ``model`` (w.r.t. its trainable parameters) on ``inputs (n, in_dim)``: ``(n, n)``.

    ``output`` picks one output channel of a model with ``out_dim > 1``. Parameters with
    ``requires_grad=False`` and buffers (e.g. a Gaussian ``B``) are held fixed.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    _check_inputs(inputs)
    check_count("output", output, minimum=0)
    trainable = {name: p.detach() for name, p in model.named_parameters() if p.requires_grad}
    if not trainable:
        raise ValueError(f"model {type(model).__name__} has no trainable parameters")
    fixed = {name: p.detach() for name, p in model.named_parameters() if not p.requires_grad}
    fixed.update(dict(model.named_buffers()))

    def function(p: Dict[str, Tensor], x: Tensor) -> Tensor:
        out = functional_call(model, {**fixed, **p}, (x,))
        if out.dim() == 1:
            if output != 0:
                raise ValueError(f"output={output} but the model returns one value per point")
            return out
        if output >= out.shape[-1]:
            raise ValueError(f"output must be < the model's {out.shape[-1]} outputs, got {output}")
        return out[..., output]

    return ntk_gram(function, trainable, inputs, chunk_size=chunk_size)


@dataclass
class NTKSpectrum:
    """Eigen-decomposition of an NTK Gram matrix on a uniform 1D grid of ``n`` points.

    Attributes:
        eigenvalues: ``(n,)`` float64, descending (tiny negative rounding clamped to 0).
        eigenvectors: ``(n, n)`` float64, column ``i`` belongs to ``eigenvalues[i]``.
        dominant_frequency: ``(n,)`` int64, the frequency (cycles over the grid) of the largest
            ``|rfft|`` coefficient of each eigenvector.
        spectral_centroid: ``(n,)`` float64, ``Σ_f f |V(f)|² / Σ_f |V(f)|²`` of each eigenvector.
    """

    eigenvalues: Tensor
    eigenvectors: Tensor
    dominant_frequency: Tensor
    spectral_centroid: Tensor

    def normalised(self) -> Tensor:
        """``eigenvalues / eigenvalues[0]``: ``(n,)``."""
        top = float(self.eigenvalues[0])
        return self.eigenvalues / top if top > 0 else torch.zeros_like(self.eigenvalues)

    def count_above(self, fraction: float) -> int:
        """Number of eigenvalues ``>= fraction × the largest`` (an effective bandwidth)."""
        check_positive("fraction", fraction)
        return int((self.normalised() >= fraction).sum())

    def frequency_reach(self, fraction: float) -> int:
        """Highest dominant frequency among eigenvectors whose eigenvalue is ``>= fraction ×`` the largest."""
        count = self.count_above(fraction)
        return int(self.dominant_frequency[:count].max()) if count else 0

    def summary(self, fractions=(1e-1, 1e-2, 1e-3)) -> Dict[str, object]:
        """JSON-friendly numbers: counts and frequency reach at each fraction, the top eigenvalues."""
        return {
            "points": int(self.eigenvalues.shape[0]),
            "count_above": {f"{f:g}": self.count_above(f) for f in fractions},
            "frequency_reach": {f"{f:g}": self.frequency_reach(f) for f in fractions},
            "top_normalised_eigenvalues": [float(v) for v in self.normalised()[:16]],
            "top_dominant_frequencies": [int(v) for v in self.dominant_frequency[:16]],
        }


def gram_spectrum(gram: Tensor) -> NTKSpectrum:
    """:class:`NTKSpectrum` of a symmetric ``(n, n)`` Gram matrix on a uniform 1D grid."""
    if not isinstance(gram, Tensor) or gram.dim() != 2 or gram.shape[0] != gram.shape[1]:
        shape = tuple(gram.shape) if isinstance(gram, Tensor) else type(gram).__name__
        raise ValueError(f"gram must be a square (n, n) tensor, got {shape}")
    if gram.shape[0] == 0:
        raise ValueError("gram is empty (0 x 0)")
    gram = gram.detach().to(torch.float64)
    values, vectors = torch.linalg.eigh(0.5 * (gram + gram.T))
    values, vectors = values.flip(0).clamp(min=0.0), vectors.flip(1)
    power = torch.fft.rfft(vectors, dim=0).abs() ** 2  # (n//2 + 1, n)
    freqs = torch.arange(power.shape[0], dtype=torch.float64)
    dominant = power.argmax(dim=0)
    centroid = (freqs[:, None] * power).sum(0) / power.sum(0).clamp(min=1e-300)
    return NTKSpectrum(values, vectors, dominant, centroid)


def ntk_spectrum(
    model: nn.Module, grid: Tensor, *, output: int = 0, chunk_size: int = 128
) -> NTKSpectrum:
    """NTK eigenvalues of ``model`` on a uniform 1D ``grid`` ``(n,)`` or ``(n, 1)``, with the frequency
    content of each eigenvector (see :class:`NTKSpectrum`)."""
    if not isinstance(grid, Tensor):
        raise TypeError(f"grid must be a torch.Tensor, got {type(grid).__name__}")
    if grid.dim() == 1:
        grid = grid[:, None]
    if grid.dim() != 2 or grid.shape[1] != 1:
        raise ValueError(f"grid must be a 1D grid of shape (n,) or (n, 1), got {tuple(grid.shape)}")
    if grid.shape[0] < 2:
        raise ValueError(f"grid needs at least 2 points, got {grid.shape[0]}")
    return gram_spectrum(empirical_ntk(model, grid, output=output, chunk_size=chunk_size))


def uniform_grid(points: int, dtype: torch.dtype = torch.float32) -> Tensor:
    """``points`` coordinates ``i / points`` in ``[0, 1)``: ``(points, 1)``."""
    check_count("points", points, minimum=2)
    return unit_grid(points).to(dtype)[:, None]


def encoder_spectra(
    models: Mapping[str, nn.Module],
    points: int = 128,
    *,
    dtype: torch.dtype = torch.float32,
    chunk_size: int = 128,
) -> Dict[str, NTKSpectrum]:
    """:func:`ntk_spectrum` of each model on :func:`uniform_grid` ``(points)``; label -> spectrum."""
    grid = uniform_grid(points, dtype)
    return {
        label: ntk_spectrum(model.to(dtype), grid, chunk_size=chunk_size)
        for label, model in models.items()
    }


def default_comparison_models(
    width: int = 256,
    depth: int = 3,
    seed: int = 0,
    *,
    scale: float = 10.0,
    features: int = 128,
    posenc_frequencies: int = 6,
) -> Dict[str, nn.Module]:
    """ReLU MLPs on a 1D coordinate in ``[0, 1)``: raw, behind positional encoding, behind Gaussian
    Fourier features (``σ = scale``), each initialised from ``seed``. Label -> model."""

    torch.manual_seed(seed)
    raw = ReluMLP(1, 1, width=width, depth=depth)
    pe = PositionalEncoding(1, posenc_frequencies)
    torch.manual_seed(seed)
    posenc = nn.Sequential(pe, ReluMLP(pe.out_dim, 1, width=width, depth=depth))
    gauss = GaussianFourierFeatures(1, features, scale, seed=seed)
    torch.manual_seed(seed)
    gaussian = nn.Sequential(gauss, ReluMLP(gauss.out_dim, 1, width=width, depth=depth))
    return {
        "raw coordinates": raw,
        f"positional encoding (L={posenc_frequencies})": posenc,
        f"Gaussian Fourier features (σ={scale:g})": gaussian,
    }
