"""Sinusoidal encodings: Fourier features, basic, positional and Gaussian (Tancik et al. 2020).

Every encoder here maps ``x (..., d)`` to ``a ⊙ sin(factor · x Bᵀ)`` and ``a ⊙ cos(factor · x Bᵀ)``
for a frequency matrix ``B (M, d)``, through the fused op :func:`coordnet.ops.fourier_features`.
The encodings are periodic, so any finite input gives finite features; their nominal
domain is ``[0, 1]`` per coordinate (the signal domain of coordnet), and NaN/inf inputs
give NaN features.

Vocabulary: ``factor`` is the phase factor (2π, π or 1), ``sigma`` the standard deviation of
Gaussian frequencies, ``num_frequencies`` the number of frequencies (per coordinate for
:class:`PositionalEncoding`).
"""

from __future__ import annotations

import math
from typing import Optional, Tuple, Union

import torch
from torch import Tensor, nn

from coordnet.encoders.annealing import cosine_window
from coordnet.encoders.base import Encoder, like_input, no_autocast
from coordnet.memory_limit import check_memory
from coordnet.ops import fourier_features
from coordnet.validation import check_count, check_interval, check_positive, check_seed

#: Largest |B · factor| accepted: 2^120 leaves 2^8 of float32 headroom for the coordinates.
MAX_LOG2_PHASE_FACTOR = 120
MAX_PHASE_FACTOR = 2.0**MAX_LOG2_PHASE_FACTOR
#: Largest Gaussian σ: the rows of B ~ N(0, σ²) stay below ~10 σ.
MAX_GAUSS_SCALE = 1e36
#: Largest number of random frequencies (and input dims) of Gaussian features: B has rows x dims entries.
MAX_ROWS = 2**24

TWO_PI = 2.0 * math.pi
LAYOUTS = ("blocks", "nerf-pytorch", "tcnn")
IncludeInput = Union[bool, str]


def _input_position(include_input: IncludeInput, default: str) -> Optional[str]:
    if include_input is True:
        return default
    if include_input is False or include_input is None:
        return None
    if include_input in ("first", "last"):
        return include_input
    raise ValueError(f"include_input must be a bool, 'first' or 'last', got {include_input!r}")


class FourierFeatures(Encoder):
    """Fourier features for any frequency matrix: ``[a sin(factor x Bᵀ), a cos(factor x Bᵀ)]``.

    Args:
        B: ``(M, d)`` frequency matrix.
        learnable: make ``B`` a trained ``nn.Parameter`` (else a buffer saved in ``state_dict``).
        factor: phase factor (2π: Tancik/nerfstudio; π: tiny-cuda-nn, mip-NeRF; 1: nerf-pytorch).
        include_input: also output ``x``: ``True``/``"first"`` before the features, ``"last"`` after.
        group: output layout, see :func:`coordnet.ops.fourier_features` (default ``[sin block, cos block]``).

    Shapes: ``x (..., d) -> (..., 2M)``, plus ``d`` with ``include_input``.

    Attributes:
        num_frequencies: ``M``, the rows of ``B`` (subclasses may count per coordinate).
        num_sinusoids: ``M`` as well: the sin/cos pairs in the output.

    Range: the constructor refuses ``|B| · factor`` beyond ``2^120``. Every finite input gives
    finite features: float32 inputs whose phases ``|factor · B · x|`` could overflow float32
    (``|x|`` near ``3.4e38``) are computed in float64 (:func:`~coordnet.ops.fourier_features`).
    NaN or infinite inputs give NaN.
    """

    input_domain: Optional[Tuple[float, float]] = (0.0, 1.0)
    B: Tensor

    def __init__(
        self,
        B: Tensor,
        *,
        learnable: bool = False,
        factor: float = TWO_PI,
        include_input: IncludeInput = False,
        group: Optional[int] = None,
    ) -> None:
        if not isinstance(B, Tensor) or B.dim() != 2 or B.shape[0] < 1 or B.shape[1] < 1:
            shape = tuple(B.shape) if isinstance(B, Tensor) else type(B).__name__
            raise ValueError(
                f"B must be a (num_frequencies, in_dim) tensor with both sizes >= 1, got {shape}"
            )
        if not B.is_floating_point():
            raise TypeError(f"B must be a floating-point tensor, got dtype {B.dtype}")
        super().__init__(int(B.shape[1]))
        B = B.detach().clone()
        self.factor = check_positive("factor", factor)
        largest = float(B.detach().abs().max().double()) * self.factor if B.numel() else 0.0
        if not torch.isfinite(B).all() or not largest <= MAX_PHASE_FACTOR:
            raise ValueError(
                f"B · factor must be finite and at most 2^{MAX_LOG2_PHASE_FACTOR} in magnitude (larger "
                f"phase factors overflow float32 and make every feature NaN), got {largest:.3g}"
            )
        if learnable:
            self.B = nn.Parameter(B)
        else:
            self.register_buffer("B", B)
        self.input_position = _input_position(include_input, "first")
        num = int(B.shape[0])
        self.group = num if group is None else int(group)
        if self.group < 1 or num % self.group:
            raise ValueError(
                f"group must be a positive divisor of num_frequencies={num}, got {group!r}"
            )
        self.num_frequencies = num
        self.num_sinusoids = num
        self.out_dim = 2 * num + (self.in_dim if self.input_position else 0)

    def amplitude(self) -> Optional[Tensor]:
        """Per-row weight ``a`` of ``B`` ``(M,)``, or ``None`` for all ones."""
        return None

    def forward(self, x: Tensor) -> Tensor:
        """``x (..., in_dim) -> (..., out_dim)``, computed in float32 (or float64) even under autocast."""
        x = self.check_input(x)
        with no_autocast(x.device):
            B = like_input(self.B if self.B.dtype == x.dtype else self.B.to(x.dtype), x)
            amplitude = self.amplitude()
            if amplitude is not None:
                amplitude = amplitude.to(device=x.device, dtype=x.dtype)
            return fourier_features(
                x,
                B,
                amplitude,
                factor=self.factor,
                group=self.group,
                include_input=self.input_position,
            )

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, num_frequencies={self.num_frequencies}, factor={self.factor:.6g}"


class BasicFourier(FourierFeatures):
    """Tancik et al.'s basic mapping ``[sin 2πx, cos 2πx]`` (``B = I``): ``(..., d) -> (..., 2d)``."""

    def __init__(self, in_dim: int, *, include_input: IncludeInput = False) -> None:
        check_count("in_dim", in_dim, maximum=MAX_ROWS)
        # B = I and its copy, refused before they are allocated
        check_memory(f"BasicFourier with in_dim={in_dim:,}", in_dim * in_dim * 4 * 2)
        super().__init__(torch.eye(in_dim), include_input=include_input)


class GaussianFourierFeatures(FourierFeatures):
    """Random Fourier features (Tancik et al. 2020): ``B ~ N(0, sigma²)`` of shape ``(M, d)``.

    Output ``[sin(2π x Bᵀ), cos(2π x Bᵀ)]``, ``out_dim = 2 M``. ``B`` is drawn once, from
    ``generator`` or from a fresh generator seeded with ``seed`` (default 0: reproducible),
    and is saved in ``state_dict``.

    Args:
        in_dim: ``d``.
        num_frequencies: ``M``, 1 to ``2^24`` (Tancik et al. use 256).
        sigma: standard deviation σ of the entries of ``B``, in ``(0, 1e36]`` (10 for natural
            images in the paper).
    """

    def __init__(
        self,
        in_dim: int,
        num_frequencies: int = 256,
        sigma: float = 10.0,
        *,
        seed: Optional[int] = 0,
        generator: Optional[torch.Generator] = None,
        learnable: bool = False,
        include_input: IncludeInput = False,
    ) -> None:
        check_count("in_dim", in_dim, maximum=MAX_ROWS)
        check_count("num_frequencies", num_frequencies, maximum=MAX_ROWS)
        sigma = check_positive(
            "sigma",
            sigma,
            maximum=MAX_GAUSS_SCALE,
            why="10 σ must stay within float32 with room for 2π and the coordinates",
        )
        if generator is None:
            generator = torch.Generator().manual_seed(
                0 if seed is None else check_seed("seed", seed)
            )
        elif not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
        B = torch.randn(num_frequencies, in_dim, generator=generator) * sigma
        super().__init__(B, learnable=learnable, include_input=include_input)
        self.sigma = sigma

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, sigma={self.sigma:g}"


class PositionalEncoding(FourierFeatures):
    """Axis-aligned sinusoids at ``L`` frequencies per coordinate (NeRF's positional encoding).

    Frequencies ``f_l`` (``l = 0..L-1``): ``2**linspace(min_log2, max_log2, L)`` for
    ``spacing="log"``, ``linspace(2**min_log2, 2**max_log2, L)`` for ``"linear"``; ``max_log2``
    defaults to ``L - 1``. Each coordinate ``x_j`` gives ``sin(factor f_l x_j)`` and ``cos(...)``.

    Args:
        factor: 1 (nerf-pytorch), π (tiny-cuda-nn ``Frequency``, mip-NeRF) or 2π (nerfstudio, Tancik).
        layout: order of the output columns, matching the codebases users come from:
            ``"blocks"``: ``[sin of all (j, l), cos of all (j, l)]`` with ``j`` major (nerfstudio);
            ``"nerf-pytorch"``: per frequency ``[sin(f_l x), cos(f_l x)]`` (nerf-pytorch's ``Embedder``);
            ``"tcnn"``: per coordinate, per frequency, ``sin, cos`` (tiny-cuda-nn's ``Frequency``).
        include_input: ``True`` puts ``x`` where the layout's codebase does (last for ``"blocks"``,
            first otherwise); ``"first"``/``"last"`` choose explicitly.

    Shapes: ``x (..., d) -> (..., 2 d L)`` plus ``d`` with ``include_input``.

    Attributes:
        num_frequencies: ``L``, frequencies per coordinate (as nerfstudio's ``NeRFEncoding``).
        num_sinusoids: ``d · L``, the sin/cos pairs (rows of ``B``).

    Coarse-to-fine annealing: :meth:`set_window` applies the Nerfies/BARF cosine window to
    the ``L`` bands (the window of a band multiplies both its sin and cos features).
    """

    frequencies: Tensor  # (L,) float64, a non-persistent buffer

    def __init__(
        self,
        in_dim: int,
        num_frequencies: int = 10,
        *,
        min_log2_freq: float = 0.0,
        max_log2_freq: Optional[float] = None,
        spacing: str = "log",
        factor: float = TWO_PI,
        layout: str = "blocks",
        include_input: IncludeInput = False,
    ) -> None:
        check_count("in_dim", in_dim, maximum=MAX_ROWS)
        check_count("num_frequencies", num_frequencies, maximum=MAX_ROWS)
        check_memory(  # the dense (in_dim * L, in_dim) matrix B, built in float64 then float32
            f"PositionalEncoding with in_dim={in_dim:,}, num_frequencies={num_frequencies:,}",
            in_dim * in_dim * (num_frequencies * (8 + 8 + 4) + 8),
        )
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
        if spacing not in ("log", "linear"):
            raise ValueError(f"spacing must be 'log' or 'linear', got {spacing!r}")
        if max_log2_freq is None:
            check_count(
                "num_frequencies",
                num_frequencies,
                maximum=MAX_LOG2_PHASE_FACTOR + 1,
                why=f"the top frequency 2^(num_frequencies - 1) must stay below 2^{MAX_LOG2_PHASE_FACTOR}",
            )
        why = f"frequencies beyond 2^{MAX_LOG2_PHASE_FACTOR} overflow float32"
        low = check_interval(
            "min_log2_freq", min_log2_freq, -MAX_LOG2_PHASE_FACTOR, MAX_LOG2_PHASE_FACTOR, why=why
        )
        high = (
            float(num_frequencies - 1)
            if max_log2_freq is None
            else check_interval(
                "max_log2_freq",
                max_log2_freq,
                -MAX_LOG2_PHASE_FACTOR,
                MAX_LOG2_PHASE_FACTOR,
                why=why,
            )
        )
        if high < low:
            raise ValueError(f"need min_log2_freq <= max_log2_freq, got {low} and {high}")
        if spacing == "log":
            freqs = 2.0 ** torch.linspace(low, high, num_frequencies, dtype=torch.float64)
        else:
            freqs = torch.linspace(2.0**low, 2.0**high, num_frequencies, dtype=torch.float64)
        eye = torch.eye(in_dim, dtype=torch.float64)
        if layout == "nerf-pytorch":  # rows (l, j): frequency-major
            B = (freqs[:, None, None] * eye[None]).reshape(-1, in_dim)
            group = in_dim
        else:  # rows (j, l): coordinate-major
            B = (eye[:, None, :] * freqs[None, :, None]).reshape(-1, in_dim)
            group = B.shape[0] if layout == "blocks" else 1
        position = _input_position(include_input, "last" if layout == "blocks" else "first")
        # Kept in float64 so that float64 inputs see exact frequencies; cast per call otherwise.
        super().__init__(
            B, factor=check_positive("factor", factor), include_input=position or False, group=group
        )
        self.num_frequencies = num_frequencies
        self.layout = layout
        self.bands = num_frequencies
        self.register_buffer("frequencies", freqs, persistent=False)
        self.window_alpha: Optional[float] = None

    def set_window(self, alpha: Optional[float]) -> None:
        """Coarse-to-fine window position (``None``: no window, all bands on); see
        :func:`coordnet.encoders.annealing.cosine_window`."""
        self.window_alpha = None if alpha is None else float(alpha)

    def amplitude(self) -> Optional[Tensor]:
        if self.window_alpha is None:
            return None
        window = cosine_window(self.bands, self.window_alpha)
        if self.layout == "nerf-pytorch":
            return window.repeat_interleave(self.in_dim)
        return window.repeat(self.in_dim)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, layout={self.layout!r}"
